"""Evidence selection: narrow retrieved chunks to the few sentences that bear on the question."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.question import ALIASES, QuestionAnalysis
from assistant.store.embedding import Embedder
from assistant.store.vectors import unpack_int8
from assistant.text import terms
from assistant.types import Chunk, Evidence, Passage


@dataclass(frozen=True)
class Support:
    """How well the evidence covers the question."""

    best_relevance: float
    missing_terms: tuple[str, ...]
    key_terms: int = 0
    """How many names and figures the question holds (the missing ones are among them)."""

    @property
    def missing_share(self) -> float:
        """Share of the question's names and figures that no retrieved passage mentions."""
        return len(self.missing_terms) / self.key_terms if self.key_terms else float(bool(self.missing_terms))

    def is_weak(self, min_relevance: float, missing_share: float = 0.0) -> bool:
        """True when the engine should not try to answer: the best sentence is far from the question, or at least
        ``missing_share`` of the question's names and figures are in no retrieved passage (0: any one missing).

        A question that swaps in one wrong name ("When did the Normans invade Italy?") misses its only name; a news
        question with six names ("Disney's copyright of Mickey and Minnie Mouse ...") answered by an article that
        spells one of them otherwise does not."""
        if self.best_relevance < min_relevance:
            return True
        if not self.missing_terms:
            return False
        return missing_share <= 0 or self.missing_share >= missing_share


def _term_present(term: str, text_terms: set[str], text: str) -> bool:
    aliases = ALIASES.get(term.lower(), ())
    if any(_term_present(alias, text_terms, text) for alias in aliases):
        return True
    normalized = terms(term)
    if not normalized:
        return True
    return all(t in text_terms or any(s.startswith(t + "-") for s in text_terms) for t in normalized) or (
        term.lower() in text.lower()
    )


def _sentence_vectors(chunk: Chunk) -> Any:
    """The chunk's stored sentence vectors as rows, or None when it has none (or they do not fit its spans)."""
    if not chunk.sentence_vectors:
        return None
    rows = unpack_int8(chunk.sentence_vectors)
    if len(rows) != len(chunk.sentence_spans):
        return None
    return rows


def _spread(scored: list[Any], limit: int, per_article: int) -> list[Any]:
    """The first ``limit`` of ``scored`` with at most ``per_article`` from one article (then the rest, in order,
    when too few articles were retrieved to fill the limit)."""
    if per_article <= 0:
        return scored[:limit]
    taken: dict[str, int] = {}
    chosen, spare = [], []
    for item in scored:
        doc = item[2][3].chunk.doc_id
        if taken.get(doc, 0) < per_article:
            taken[doc] = taken.get(doc, 0) + 1
            chosen.append(item)
        else:
            spare.append(item)
        if len(chosen) >= limit:
            break
    return (chosen + spare)[:limit] if len(chosen) < limit else chosen


def select_evidence(
    question: QuestionAnalysis,
    passages: Sequence[Passage],
    embedder: Embedder,
    *,
    limit: int,
    question_vector: list[float] | None = None,
    weights: Mapping[str, float] | None = None,
    per_article: int = 0,
) -> tuple[list[Evidence], Support]:
    """The ``limit`` most relevant distinct sentences to ``question`` (the retrieval query's analysis), numbered
    [1].. in order of relevance.

    ``weights`` (by chunk id, e.g. how near its article's date is to the days asked about) order the sentences
    without changing the relevance the gates read; ``per_article`` caps the sentences taken from one article so
    that the model reads several stories rather than one.
    """
    import numpy as np

    candidates: list[tuple[int, int, str, Passage]] = []
    sentence_terms: list[set[str]] = []
    stored: list[Any] = []
    seen: set[str] = set()
    for passage in passages:
        chunk = passage.chunk
        vectors = _sentence_vectors(chunk)
        for index, (rel_start, rel_end) in enumerate(chunk.sentence_spans):
            quote = chunk.text[rel_start:rel_end]
            words = terms(quote)
            key = " ".join(words)
            if not key or key in seen:
                continue
            seen.add(key)
            candidates.append((chunk.start + rel_start, chunk.start + rel_end, quote, passage))
            sentence_terms.append(set(words))
            stored.append(vectors[index] if vectors is not None else None)
    if not candidates:
        return [], Support(0.0, question.key_terms)
    # Sentence vectors computed at ingest are used as they are; only sentences of chunks stored without them
    # (stores written before they existed) are embedded now.
    unknown = [c[2] for c, v in zip(candidates, stored, strict=True) if v is None]
    if question_vector is None:
        question_vector, *fresh = embedder.embed([question.text, *unknown])
    else:
        fresh = embedder.embed(unknown) if unknown else []
    fresh_iter = iter(fresh)
    matrix = np.asarray([v if v is not None else next(fresh_iter) for v in stored], dtype=np.float32)
    dense_scores = (matrix @ np.asarray(question_vector, dtype=np.float32)).tolist()
    question_terms = set(terms(question.text))
    df = {t: sum(t in s for s in sentence_terms) for t in question_terms}
    idf = {t: math.log(1 + len(candidates) / (1 + df[t])) for t in question_terms}
    total_idf = sum(idf.values()) or 1.0
    scored = []
    for candidate, dense, held in zip(candidates, dense_scores, sentence_terms, strict=True):
        lexical = sum(idf[t] for t in question_terms if t in held) / total_idf
        scored.append((0.6 * float(dense) + 0.4 * lexical, lexical, candidate))
    weight = weights or {}
    scored.sort(key=lambda item: -item[0] * weight.get(item[2][3].chunk.id, 1.0))
    chosen = _spread(scored, limit, per_article)
    evidence = [
        Evidence(
            number=i,
            quote=quote,
            chunk=passage.chunk,
            start=start,
            end=end,
            score=round(score, 4),
            coverage=round(lexical, 4),
        )
        for i, (score, lexical, (start, end, quote, passage)) in enumerate(chosen, start=1)
    ]
    pool_text = " ".join(p.chunk.text for p in passages)
    pool_terms = set(terms(pool_text))
    asked = question.key_terms
    missing = tuple(t for t in asked if not _term_present(t, pool_terms, pool_text))
    best = max(item[0] for item in scored)
    return evidence, Support(best_relevance=best, missing_terms=missing, key_terms=len(asked))
