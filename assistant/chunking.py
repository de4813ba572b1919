"""Sentence-aware chunking with exact character offsets (pure: the token counter is passed in)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from assistant.text import split_sentences
from assistant.types import Article, Chunk

TokenCounter = Callable[[str], int]
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def paragraph_starts(text: str) -> list[int]:
    """Character offsets where paragraphs (blocks separated by blank lines) begin."""
    return [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]


def make_chunk_id(doc_id: str, content_hash: str, start: int, end: int) -> str:
    """A chunk id derived from its article, the article's content and its offsets."""
    digest = hashlib.sha256(f"{doc_id}|{content_hash}|{start}|{end}".encode()).hexdigest()
    return f"c-{digest[:24]}"


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    *,
    max_tokens: int = 200,
    overlap_sentences: int = 1,
    content_hash: str = "",
) -> list[Chunk]:
    """Cut an article into chunks of whole sentences whose token count stays within ``max_tokens``."""
    text = article.text
    sentences = _fit_sentences(text, split_sentences(text), count_tokens, max_tokens)
    paragraphs = paragraph_starts(text)
    groups = _group_sentences(text, sentences, count_tokens, max_tokens, overlap_sentences)
    chunks: list[Chunk] = []
    for index, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        chunks.append(
            Chunk(
                id=make_chunk_id(article.doc_id, content_hash, start, end),
                doc_id=article.doc_id,
                text=text[start:end],
                start=start,
                end=end,
                chunk_index=index,
                paragraph_index=_index_at_or_before(paragraphs, start),
                title=article.title,
                source=article.source,
                url=article.url,
                published=article.published,
                sentence_spans=tuple((s - start, e - start) for s, e in group),
                page=_index_at_or_before(list(article.page_starts), start) + 1 if article.page_starts else None,
            )
        )
    return chunks


def _group_sentences(
    text: str,
    sentences: list[tuple[int, int]],
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap: int,
) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for sentence in sentences:
        if current and count_tokens(text[current[0][0] : sentence[1]]) > max_tokens:
            groups.append(current)
            kept = current[-overlap:] if overlap and len(current) > overlap else []
            current = [s for s in kept if count_tokens(text[s[0] : sentence[1]]) <= max_tokens]
        current.append(sentence)
    if current:
        groups.append(current)
    return groups


def _fit_sentences(
    text: str, sentences: list[tuple[int, int]], count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Split any sentence longer than the budget at word boundaries."""
    fitted: list[tuple[int, int]] = []
    for start, end in sentences:
        if count_tokens(text[start:end]) <= max_tokens:
            fitted.append((start, end))
            continue
        piece_start = start
        last_fit = None
        for word in re.finditer(r"\S+", text[start:end]):
            word_end = start + word.end()
            if count_tokens(text[piece_start:word_end]) <= max_tokens:
                last_fit = word_end
                continue
            cut = last_fit if last_fit is not None else word_end
            fitted.append((piece_start, cut))
            piece_start = _skip_space(text, cut, end)
            last_fit = word_end if count_tokens(text[piece_start:word_end]) <= max_tokens else None
        if piece_start < end:
            fitted.append((piece_start, end))
    return fitted


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position


def _index_at_or_before(starts: list[int], offset: int) -> int:
    index = 0
    for i, start in enumerate(starts):
        if start <= offset:
            index = i
        else:
            break
    return index


def sentence_at(chunk: Chunk, index: int) -> tuple[int, int, str]:
    """Absolute ``(start, end, text)`` of the chunk's ``index``-th sentence."""
    rel_start, rel_end = chunk.sentence_spans[index]
    return chunk.start + rel_start, chunk.start + rel_end, chunk.text[rel_start:rel_end]
