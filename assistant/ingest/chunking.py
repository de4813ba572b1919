"""Sentence-aware chunking with exact character offsets (pure: the token counter is passed in)."""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
from collections.abc import Callable

from assistant.text import split_sentences
from assistant.types import Article, Chunk

TokenCounter = Callable[[str], int]
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")
MAX_CHARS_PER_TOKEN = 16
"""A chunk holds at most this many characters per token of budget: a run without spaces (base64, a URL list)
that the tokenizer reads as a few unknown tokens is still cut into pieces of bounded size."""


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
    counted = functools.cache(count_tokens)  # a sentence fitted whole is counted again when it is grouped
    sentences = _fit_sentences(text, split_sentences(text), counted, max_tokens)
    paragraphs = paragraph_starts(text)
    groups = _group_sentences(text, sentences, counted, max_tokens, overlap_sentences)
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
    max_chars = max_tokens * MAX_CHARS_PER_TOKEN
    specials = count_tokens("")
    # Word pieces never cross white space, so a run of sentences apart by white space alone counts the sum of
    # its sentences plus the special tokens; other runs are counted as a whole.
    summed = [0]
    for start, end in sentences:
        summed.append(summed[-1] + count_tokens(text[start:end]) - specials)
    # broken[i]: how many of the gaps before sentence i hold more than white space.
    broken = list(
        itertools.accumulate([0] + [int(bool(text[a[1] : b[0]].strip())) for a, b in itertools.pairwise(sentences)])
    )

    def fits(first: int, last: int) -> bool:
        start, end = sentences[first][0], sentences[last][1]
        if end - start > max_chars:
            return False
        if broken[last] == broken[first]:
            return summed[last + 1] - summed[first] + specials <= max_tokens
        return count_tokens(text[start:end]) <= max_tokens

    groups: list[list[int]] = []
    current: list[int] = []
    for index in range(len(sentences)):
        if current and not fits(current[0], index):
            groups.append(current)
            kept = current[-overlap:] if overlap and len(current) > overlap else []
            current = [k for k in kept if fits(k, index)]
        current.append(index)
    if current:
        groups.append(current)
    return [[sentences[i] for i in group] for group in groups]


def _fit_sentences(
    text: str, sentences: list[tuple[int, int]], count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Split any sentence longer than the budget at word boundaries (inside a word only when one word is over it)."""
    max_chars = max_tokens * MAX_CHARS_PER_TOKEN
    fitted: list[tuple[int, int]] = []
    for start, end in sentences:
        if end - start <= max_chars and count_tokens(text[start:end]) <= max_tokens:
            fitted.append((start, end))
        else:
            fitted.extend(_split_long(text, start, end, count_tokens, max_tokens, max_chars))
    return fitted


def _split_long(
    text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int, max_chars: int
) -> list[tuple[int, int]]:
    """Pieces of ``text[start:end]`` within the budget, each (about) the longest that fits.

    A piece ends at one of the next ``max_tokens`` word ends (a piece of n tokens has at most n words), found
    by a search that needs a few token counts per piece: a 1 MB line is not counted once per word.
    """
    pieces: list[tuple[int, int]] = []
    position = _skip_space(text, start, end)

    def measure(at: int) -> int:
        return count_tokens(text[position:at])

    while position < end:
        limit = min(end, position + max_chars)
        word_ends = [m.end() for m in itertools.islice(_WORD.finditer(text, position, limit), max_tokens)]
        first = word_ends[0] if word_ends else limit
        # Places inside the first word come first, so one is chosen only when that word alone is over the budget.
        inside = range(position + 1, first, max(1, (first - position) // 256))
        cut = _last_fitting([*inside, *word_ends], measure, max_tokens) or position + 1
        pieces.append((position, cut))
        position = _skip_space(text, cut, end)
    return pieces


def _last_fitting(cuts: list[int], measure: Callable[[int], int], budget: int) -> int | None:
    """The last of the ascending ``cuts`` whose ``measure`` (growing along them) is within ``budget``.

    The first guess assumes about four characters a token; later guesses extrapolate or interpolate the
    counts measured so far, every other one bisects. Regular text needs two or three measurements, each of
    a piece about the size of the answer (measuring the whole window first would cost more than the rest).
    """
    if not cuts:
        return None
    origin = cuts[0] - 1
    low, low_value, high, high_value = -1, 0, len(cuts), 0
    guess = bisect.bisect_right(cuts, origin + 4 * budget) - 1
    bisecting = False
    while high - low > 1:
        index = min(max(guess, low + 1), high - 1)
        value = measure(cuts[index])
        if value <= budget:
            low, low_value = index, value
        else:
            high, high_value = index, value
        floor = cuts[low] if low >= 0 else origin
        if high == len(cuts):  # no cut over the budget seen yet: extrapolate the growth so far
            rate = max(low_value, 1) / max(floor - origin, 1)
            guess = bisect.bisect_right(cuts, floor + (budget - low_value) / rate)
        elif bisecting:
            guess = (low + high) // 2
        else:
            share = (budget - low_value) / max(high_value - low_value, 1)
            guess = bisect.bisect_right(cuts, floor + share * (cuts[high] - floor)) - 1
        bisecting = not bisecting
    return cuts[low] if low >= 0 else None


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position


def _index_at_or_before(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def sentence_at(chunk: Chunk, index: int) -> tuple[int, int, str]:
    """Absolute ``(start, end, text)`` of the chunk's ``index``-th sentence."""
    rel_start, rel_end = chunk.sentence_spans[index]
    return chunk.start + rel_start, chunk.start + rel_end, chunk.text[rel_start:rel_end]
