"""Data the assistant passes around: articles, chunks, passages, citations, answers. Data only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

AnswerStatus = Literal["verified", "unconfirmed", "fallback", "abstained"]
"""verified: every figure and name is in the cited sentence and the calibrated confidence is high enough that such
answers (computed, or written) were right about 9 times in 10 on held-out questions; unconfirmed: the answer's
words are in the cited sentence but it is not confirmed to answer the question; fallback: the most relevant sentence
quoted instead of a written answer; abstained: the articles don't say, or the answer found was too unlikely to be
right (the text says which)."""

STATUS_LABELS: dict[str, tuple[str, str]] = {
    # status: (a reader's name, what it means in one sentence)
    "verified": (
        "Verified",
        "its figures and names are in the cited sentence, and answers of its kind this confident were right about "
        "9 times in 10 on test questions the checker was not tuned on",
    ),
    "unconfirmed": (
        "Unconfirmed",
        "its words are in the cited sentence, but the check could not confirm that it answers the question: "
        "read the source before relying on it",
    ),
    "fallback": ("Quoted", "the most relevant sentence, quoted as it stands; no short answer could be checked"),
    "abstained": (
        "No answer",
        "no answer was found in the articles, or none was likely enough to be right; the closest passages are listed",
    ),
}


@dataclass(frozen=True)
class Article:
    """One loaded article: normalized text plus metadata."""

    doc_id: str
    source_path: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    page_starts: tuple[int, ...] = ()
    """For PDFs: character offset where each page begins (page n starts at page_starts[n-1])."""


@dataclass(frozen=True)
class Chunk:
    """A span of an article: ``article.text[start:end] == text``."""

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    chunk_index: int
    paragraph_index: int
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""
    sentence_spans: tuple[tuple[int, int], ...] = ()
    """Sentence offsets relative to the chunk text."""
    page: int | None = None
    sentence_vectors: bytes = field(default=b"", repr=False, compare=False)
    """One embedding per sentence span, computed at ingest (``vectors.pack_int8``); empty when not stored."""
    speaks_to_model: bool | None = field(default=None, repr=False, compare=False)
    """Whether a sentence of the chunk is written to a language model (``injection.holds_instruction``), as
    judged at ingest by the current rules; None when not stored (it is then judged when the chunk is retrieved)."""


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Evidence:
    """One sentence shown to the model as source [number]."""

    number: int
    quote: str
    chunk: Chunk
    start: int
    """Character offset of the sentence in the article text."""
    end: int
    score: float
    coverage: float = 0.0
    """Share of the question's content words (idf-weighted) that the sentence contains."""


@dataclass(frozen=True)
class Citation:
    """A source the answer cites: opens the exact sentence of the article."""

    number: int
    doc_id: str
    title: str
    source: str
    published: str
    url: str
    chunk_id: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage shown next to an answer (JSON-friendly form of Passage)."""

    doc_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    source: str = ""
    published: str = ""


@dataclass(frozen=True)
class Answer:
    """The engine's answer: text with [n] markers, the citations behind them, and how it was checked."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    status: AnswerStatus = "unconfirmed"
    confidence: float | None = None
    """Calibrated probability that the answer is right (None when abstained or no calibrator applies)."""
    signals: dict[str, float] = field(default_factory=dict)
    """The measurements the confidence was computed from (for diagnosis and recalibration)."""
    unsupported: tuple[str, ...] = ()
    passages: tuple[RetrievedPassage, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    backend: str = ""
    evidence: tuple[str, ...] = ()
    """The sentences the model was shown, in the order it read them (what ``evidence_recall`` is measured on)."""
    as_of: str = ""
    """The day the question was asked on (YYYY-MM-DD): no article published after it was evidence."""
    dates_read: str = ""
    """The days the question named, in words ("1–7 January 2023"), when it named a time; else empty."""
    stale_note: str = ""
    """When every cited article is older than ``trust.stale_after_days`` on ``as_of``: a sentence saying how old the
    newest is (the answer may tell an earlier chapter of the story); else empty."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (with ``status_meaning``: what the status says, in one sentence)."""
        return asdict(self) | {"status_meaning": self.status_meaning}

    @property
    def status_meaning(self) -> str:
        """What this answer's status tells the reader, in one sentence."""
        label, meaning = STATUS_LABELS.get(self.status, (self.status, ""))
        return f"{label}: {meaning}."

    def to_json(self, **kwargs: Any) -> str:
        """The answer as JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def __str__(self) -> str:
        lines = [self.text]
        if self.dates_read:
            lines.append(f"(Read as of {self.as_of}: articles of {self.dates_read} first.)")
        if self.stale_note:
            lines.append(f"({self.stale_note})")
        if self.citations:
            lines.append("")
            lines.append("Sources:")
            for c in self.citations:
                lines.append(f"[{c.number}] {c.title} ({c.source or c.doc_id}): \u201c{c.quote}\u201d")
        elif self.status == "abstained" and self.passages:
            lines.append("")
            lines.append("Closest articles:")
            for p in self.passages[:3]:
                dated = ", ".join(x for x in (p.source, p.published) if x)
                lines.append(f"- {p.title}" + (f" ({dated})" if dated else "") + f": {p.text[:200]}")
        return "\n".join(lines)


@dataclass(frozen=True)
class StreamEvent:
    """One item of ``Assistant.stream``: a text delta while generating, then the final checked answer."""

    delta: str = ""
    answer: Answer | None = None


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    chunks_written: int = 0
    seconds: float = 0.0
    errors: tuple[tuple[str, str], ...] = ()
    """(path, reason) for files that could not be read."""
    messages: tuple[str, ...] = ()

    @property
    def wrote_nothing(self) -> bool:
        """True when the store was not changed."""
        return self.added == self.updated == self.removed == self.chunks_written == 0
