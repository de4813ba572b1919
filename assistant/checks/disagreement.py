"""Disagreeing sources side by side: when the evidence gives different figures for what was asked in different
articles, each figure with its citation, outlet and date (newest first); the same figure in several articles, one
answer citing them all. Pure functions over an Answer and the evidence it was written from."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from assistant.markers import MARKER_RUN, without_markers
from assistant.numbers import parse_quantities
from assistant.question import analyse_question
from assistant.text import stem
from assistant.types import Answer, Citation, Evidence

MIN_COVERAGE = 0.4
"""An evidence sentence speaks of what was asked when it holds this share of the question's words (idf-weighted)."""
NOUN_WINDOW = 4
"""Words after a number within which the counted thing must be named ("five rockets", "6 Grad rockets")."""
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass(frozen=True)
class Figure:
    """One value for what was asked, as one sentence of one article states it."""

    value: float
    text: str
    """The figure with its noun, as written ("six rockets")."""
    evidence: Evidence


def figures_in(sentence: str, counted_head: str) -> list[tuple[float, str]]:
    """(value, "figure noun") for each number in ``sentence`` followed, within a few words, by the counted noun."""
    wanted = stem(counted_head.lower())
    found: list[tuple[float, str]] = []
    quantities = parse_quantities(sentence)
    for i, quantity in enumerate(quantities):
        if quantity.is_percent:
            continue
        stop = quantities[i + 1].start if i + 1 < len(quantities) else len(sentence)  # the next number's noun
        for n, word in enumerate(_WORD.finditer(sentence, quantity.end, stop)):
            if n >= NOUN_WINDOW:
                break
            if stem(word.group(0).lower()) == wanted:
                found.append((quantity.value, sentence[quantity.start : word.end()]))
                break
    return found


def counted_head(question: str) -> str | None:
    """The noun a "how many" question counts ("rockets" in "How many Grad rockets were fired?"), or None."""
    phrase = analyse_question(question).counted
    words = _WORD.findall(phrase or "")
    return words[-1] if words else None


def figures_by_article(question: str, evidence: Sequence[Evidence]) -> dict[str, list[Figure]]:
    """The figures for what was asked, per article, from the sentences that speak of it."""
    head = counted_head(question)
    out: dict[str, list[Figure]] = {}
    if head is None:
        return out
    for item in evidence:
        if item.coverage < MIN_COVERAGE:
            continue
        for value, text in figures_in(item.quote, head):
            out.setdefault(item.chunk.doc_id, []).append(Figure(value, text, item))
    return out


def side_by_side(
    answer: Answer, evidence: Sequence[Evidence], numbering: MutableMapping[tuple[str, int], int]
) -> Answer:
    """The answer with disagreeing reports set side by side, or agreeing ones all cited; unchanged otherwise.

    Only articles that state one figure for the thing counted take part (an article that gives several, such
    as rockets fired and rockets intercepted, may be counting different things). ``numbering`` is the
    conversation's (doc id, offset) -> citation number, extended for the sources added.
    """
    if answer.status == "abstained" or not answer.citations:
        return answer
    answered = {q.value for q in parse_quantities(without_markers(answer.text)) if not q.is_percent}
    per_article = figures_by_article(answer.question, evidence)
    single = {doc: figs[0] for doc, figs in per_article.items() if len({f.value for f in figs}) == 1}
    if len(single) < 2 or not answered:
        return answer
    values = {f.value for f in single.values()}
    if len(values) == 1:
        if not values <= answered:
            return answer
        return _cite_all(answer, list(single.values()), numbering)
    if not answered & values:
        return answer  # the answer is about something else than the figures found
    return _reports_differ(answer, list(single.values()), numbering)


def _cite_all(answer: Answer, figures: list[Figure], numbering: MutableMapping[tuple[str, int], int]) -> Answer:
    cited_docs = {c.doc_id for c in answer.citations}
    extra = [_citation(f.evidence, numbering) for f in figures if f.evidence.chunk.doc_id not in cited_docs]
    if not extra:
        return answer
    markers = "".join(f" [{c.number}]" for c in extra)
    text = _add_markers(answer.text, markers)
    return dataclasses.replace(answer, text=text, citations=_merged(answer.citations, extra))


def _reports_differ(answer: Answer, figures: list[Figure], numbering: MutableMapping[tuple[str, int], int]) -> Answer:
    by_value: dict[float, list[Figure]] = {}
    for figure in figures:
        by_value.setdefault(figure.value, []).append(figure)
    groups = sorted(by_value.values(), key=lambda fs: max(f.evidence.chunk.published for f in fs), reverse=True)
    parts: list[str] = []
    citations: list[Citation] = []
    for group in groups:
        group = sorted(group, key=lambda f: f.evidence.chunk.published, reverse=True)
        cited = [_citation(f.evidence, numbering) for f in group]
        citations.extend(cited)
        sources = "; ".join(_where(c) for c in cited)
        markers = "".join(f"[{c.number}]" for c in cited)
        parts.append(f"{group[0].text} {markers} ({sources})")
    text = "The reports differ: " + ", while ".join(parts) + "."
    return dataclasses.replace(answer, text=text, citations=_merged(answer.citations, citations, keep_only=True))


def _where(citation: Citation) -> str:
    outlet = citation.source or citation.title or citation.doc_id
    return f"{outlet}, {citation.published}" if citation.published else outlet


def _add_markers(text: str, markers: str) -> str:
    """``markers`` after the last run of markers in ``text`` (or at its end)."""
    runs = list(MARKER_RUN.finditer(text))
    if not runs:
        return text.rstrip() + markers
    end = runs[-1].end()
    return text[:end] + markers + text[end:]


def _merged(old: tuple[Citation, ...], new: list[Citation], *, keep_only: bool = False) -> tuple[Citation, ...]:
    numbers = {c.number for c in new}
    kept = [] if keep_only else [c for c in old if c.number not in numbers]
    return tuple(sorted({c.number: c for c in [*kept, *new]}.values(), key=lambda c: c.number))


def _citation(evidence: Evidence, numbering: MutableMapping[tuple[str, int], int]) -> Citation:
    key = (evidence.chunk.doc_id, evidence.start)
    if key not in numbering:
        numbering[key] = len(numbering) + 1
    chunk = evidence.chunk
    return Citation(
        number=numbering[key],
        doc_id=chunk.doc_id,
        title=chunk.title,
        source=chunk.source,
        published=chunk.published,
        url=chunk.url,
        chunk_id=chunk.id,
        start=evidence.start,
        end=evidence.end,
        quote=evidence.quote,
        score=evidence.score,
    )
