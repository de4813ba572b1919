"""Drafts: an answer before its status is decided, and the checks that make one from the model's reply or the
evidence (the quoted best sentence, a computed span, whether a reply answers what was asked)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.checks.calculation import Calculation, years_between_ends
from assistant.checks.grounding import (
    answers_kind,
    counts_what_was_asked,
    gives_a_new_name,
    names_the_kind_asked,
    picks_an_option,
)
from assistant.llm.base import ChatMessage
from assistant.markers import cited_numbers, without_markers
from assistant.question import QuestionAnalysis
from assistant.text import terms
from assistant.types import Evidence


@dataclass(frozen=True)
class Draft:
    """An answer before its status is decided."""

    form: str
    """'answer' (every claim checked), 'partial' (unsupported claims removed), 'quote', 'calculation' (computed by
    the engine from cited operands) or 'none' (abstain)."""
    text: str
    unsupported: tuple[str, ...] = ()
    retried: bool = False
    logprobs: tuple[float, ...] = ()
    abstain_logprob: float | None = None
    """Log-probability that the model's reply began its abstention (the first word of NOT IN SOURCES)."""
    answer_messages: tuple[ChatMessage, ...] = ()
    raw: str = ""
    calculation: Calculation | None = None
    shown: tuple[str, ...] = ()
    """The sentences the model read for this draft (empty when no model was asked)."""
    gate: dict[str, float] = dataclasses.field(default_factory=dict)
    """Why the engine abstained before asking the model (its relevance and missing names), for diagnosis."""


def extractive_draft(evidence: Sequence[Evidence], unsupported: tuple[str, ...] = ()) -> Draft:
    """The best supporting sentence, quoted and cited (the evidence it was chosen from is what was read)."""
    best = evidence[0]
    return Draft(
        form="quote",
        text=f"\u201c{best.quote}\u201d [{best.number}]",
        unsupported=unsupported,
        shown=tuple(e.quote for e in evidence),
    )


def calculation_signals(calculation: Calculation) -> dict[str, float]:
    """What the trust layer reads about a computed answer: its operation, operands and whether each was found."""
    operands = calculation.operands
    return {
        "calculated": 1.0,
        f"calc_{calculation.kind}": 1.0,
        "calc_operands": float(len(operands)),
        "calc_found_share": sum(o.found for o in operands) / max(1, len(operands)),
        "calc_supported_share": sum(o.supported for o in operands) / max(1, len(operands)),
        "calc_citations": float(len(calculation.citations)),
        "calc_recited_share": sum(o.recited for o in operands) / max(1, len(operands)),
    }


def span_of_ends(draft: Draft, evidence: Sequence[Evidence]) -> Draft:
    """A checked answer to "how many years" that gives the span's two ends from one sentence ("1845 to 1856 [1]")
    becomes the computed span, as if the model had written YEARS_BETWEEN; any other draft is kept."""
    cited = set(cited_numbers(draft.text))
    if draft.form != "answer" or len(cited) != 1:
        return draft
    (number,) = cited
    quotes = {e.number: e.quote for e in evidence}
    calculation = years_between_ends(without_markers(draft.text), number, quotes)
    if calculation is None:
        return draft
    return dataclasses.replace(draft, form="calculation", text=calculation.render(), calculation=calculation)


def rejected_calculation(calculation: Calculation) -> str:
    """How a calculation that did not hold up is listed among the unsupported texts."""
    return f"(calculation {calculation.expression or 'empty'}: {calculation.error or 'no result'})"


def model_unavailable_draft(evidence: Sequence[Evidence], err: Exception) -> Draft:
    """The extractive answer, marked fallback with why, when the model is down, too slow, missing or corrupt."""
    reason = " ".join(str(err).split())
    return extractive_draft(
        evidence, unsupported=(f"(no model answer: {reason} The best sentence is quoted instead.)",)
    )


def answers_question(text: str, question: QuestionAnalysis) -> bool:
    """True when the answer holds the kind of thing asked for, counts what a "how many" question counts, names
    the kind of place a "which" question asks for, picks an option of a choice and gives a name that was asked."""
    return (
        answers_kind(text, question.expects)
        and counts_what_was_asked(text, question)
        and names_the_kind_asked(text, question)
        and picks_an_option(text, question)
        and gives_a_new_name(text, question)
    )


def has_content(text: str) -> bool:
    """True when the answer says something besides its [n] markers."""
    return bool(re.search(r"[A-Za-z0-9]", without_markers(text, "")))


def echoes(text: str, question: QuestionAnalysis) -> bool:
    """True when every content word of the answer is already in the question ("Normandy" for "Where is Normandy?").

    A choice question ("Which came first, the siege or the truce?") is answered with words of the question, so
    it never counts as an echo.
    """
    if question.is_choice:
        return False
    words = set(terms(without_markers(text)))
    return bool(words) and words <= set(terms(question.text))
