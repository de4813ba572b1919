"""Chunking: exact offsets, sentence spans, token bound."""

from __future__ import annotations

import itertools

import pytest

from assistant.ingest.chunking import chunk_article, make_chunk_id, paragraph_starts
from assistant.text import split_sentences
from assistant.types import Article


def words(text: str) -> int:
    return len(text.split()) + 2


def article(text: str) -> Article:
    return Article(doc_id="doc-1", source_path="x.md", title="T", text=text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two.", ["One.", "Two."]),
        ("U.S. forces were hit. No one was hurt.", ["U.S. forces were hit.", "No one was hurt."]),
        (
            "The U.S. currently has 900 troops. Dr. Smith spoke.",
            ["The U.S. currently has 900 troops.", "Dr. Smith spoke."],
        ),
        ("Headline\n\nBody sentence here.", ["Headline", "Body sentence here."]),
        ("  \u2022 Bullet one.\n  \u2022 Bullet two.", ["Bullet one.", "Bullet two."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Is it? Yes! Fine.", ["Is it?", "Yes!", "Fine."]),
    ],
)
def test_split_sentences_respects_abbreviations_and_lines(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_chunk_offsets_slice_back_to_the_chunk_text() -> None:
    text = "\n\n".join(f"Paragraph {p} sentence {s} has some words in it." for p in range(6) for s in range(4))
    chunks = chunk_article(article(text), words, max_tokens=30, overlap_sentences=1)
    assert len(chunks) > 3
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        for rel_start, rel_end in chunk.sentence_spans:
            assert chunk.text[rel_start:rel_end].strip() == chunk.text[rel_start:rel_end]
        assert words(chunk.text) <= 30


def test_chunks_overlap_by_one_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = chunk_article(article(text), words, max_tokens=20, overlap_sentences=1)
    for first, second in itertools.pairwise(chunks):
        assert second.start < first.end, "consecutive chunks share a sentence"


def test_sentence_longer_than_budget_is_split_at_words() -> None:
    text = "word " * 100 + "end."
    chunks = chunk_article(article(text.strip()), words, max_tokens=25, overlap_sentences=0)
    assert len(chunks) >= 4
    assert all(words(c.text) <= 25 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == text.strip().replace(" ", "")


def test_paragraph_index_counts_blank_line_blocks() -> None:
    text = "First para.\n\nSecond para.\n\n\nThird para."
    assert len(paragraph_starts(text)) == 3
    chunks = chunk_article(article(text), words, max_tokens=5, overlap_sentences=0)
    assert [c.paragraph_index for c in chunks] == [0, 1, 2]


def test_chunk_ids_change_with_content_and_are_stable() -> None:
    assert make_chunk_id("d", "h1", 0, 10) == make_chunk_id("d", "h1", 0, 10)
    assert make_chunk_id("d", "h1", 0, 10) != make_chunk_id("d", "h2", 0, 10)


def test_pdf_chunks_know_their_page() -> None:
    text = "Page one text here.\n\nPage two text here."
    doc = Article(doc_id="p", source_path="x.pdf", title="T", text=text, page_starts=(0, text.index("Page two")))
    chunks = chunk_article(doc, words, max_tokens=8, overlap_sentences=0)
    assert [c.page for c in chunks] == [1, 2]


def test_every_corpus_file_chunks_within_the_real_tokenizer_window_with_exact_offsets() -> None:
    """Word pieces measured by the embedder's own tokenizer (no model weights are loaded)."""
    from assistant.ingest.documents import load_paths
    from assistant.store.embedding import SentenceTransformerEmbedder
    from tests.conftest import SEED_CORPUS

    embedder = SentenceTransformerEmbedder()
    articles, errors = load_paths([SEED_CORPUS])
    assert articles and not errors
    for doc in articles:
        chunks = chunk_article(doc, embedder.count_tokens, max_tokens=200, overlap_sentences=1)
        assert chunks
        covered = set()
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert embedder.count_tokens(chunk.text) <= 200 < embedder.settings.max_seq_tokens
            for rel_start, rel_end in chunk.sentence_spans:
                covered.add((chunk.start + rel_start, chunk.start + rel_end))
        assert covered == set(split_sentences(doc.text)), "every sentence is in some chunk"
    assert embedder._model is None, "counting tokens did not load the model"


def test_runs_are_counted_by_their_sentences_only_when_white_space_parts_them() -> None:
    """Sentence counts are summed across white space; a gap holding anything else is counted with the run."""
    from assistant.ingest.chunking import _group_sentences

    def words(text: str) -> int:
        return len(text.split()) + 2

    spaced = "aa bb.   cc dd."
    assert _group_sentences(spaced, [(0, 6), (9, 15)], words, 6, 0) == [[(0, 6), (9, 15)]]
    barred = "aa bb. | cc dd."  # the bar is a word piece of its own when the run is read whole
    assert _group_sentences(barred, [(0, 6), (9, 15)], words, 6, 0) == [[(0, 6)], [(9, 15)]]
