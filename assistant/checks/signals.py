"""Signals of whether an answer is right, from what the engine already has (pure): they feed the calibrator."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.markers import cited_numbers, without_markers
from assistant.numbers import parse_quantities
from assistant.question import QuestionAnalysis
from assistant.text import terms
from assistant.types import Evidence, Passage


@dataclass(frozen=True)
class DraftFacts:
    """What the answering step knows about a draft besides its text."""

    text: str
    form: str
    """'answer' (the model's, every claim checked), 'partial' (unsupported claims removed) or 'quote'."""
    token_logprobs: tuple[float, ...] = ()
    abstain_logprob: float | None = None
    retried: bool = False
    yes_probability: float | None = None
    follow_up_yes_probability: float | None = None


def answer_terms(text: str) -> set[str]:
    """Content terms of an answer without its markers."""
    return set(terms(without_markers(text)))


def compute_signals(
    question: QuestionAnalysis, facts: DraftFacts, evidence: Sequence[Evidence], passages: Sequence[Passage]
) -> dict[str, float]:
    """Named numeric signals of one answer; a signal the backend cannot give is left out (the calibrator imputes)."""
    by_number = {e.number: e for e in evidence}
    cited = [by_number[n] for n in cited_numbers(facts.text) if n in by_number]
    best = evidence[0] if evidence else None
    question_terms = set(terms(question.text))
    said = answer_terms(facts.text) - question_terms
    signals: dict[str, float] = {
        "form_answer": float(facts.form == "answer"),
        "form_partial": float(facts.form == "partial"),
        "form_quote": float(facts.form == "quote"),
        "retried": float(facts.retried),
        "best_relevance": best.score if best else 0.0,
        "relevance_margin": (evidence[0].score - evidence[1].score) if len(evidence) > 1 else 1.0,
        "cited_relevance": max((e.score for e in cited), default=0.0),
        "cited_coverage": max((e.coverage for e in cited), default=0.0),
        "cites_best": float(best is not None and any(e.number == best.number for e in cited)),
        "kind_asked": float(question.expects is not None),
        "answer_terms": float(min(len(said), 20)),
        "answer_new_share": len(said) / max(1, len(answer_terms(facts.text))),
        "agreement": _agreement(said, evidence),
        "cited_chunk_rank": _chunk_rank(cited, passages),
        "cited_in_both_rankings": _in_both(cited, passages),
        "calculated": 0.0,
    }
    signals |= question_signals(question, facts.text)
    signals |= alignment_signals(question, facts.text, [e.quote for e in cited])
    if facts.token_logprobs:
        logprobs = facts.token_logprobs
        signals["lp_mean"] = sum(logprobs) / len(logprobs)
        signals["lp_min"] = min(logprobs)
        signals["lp_first"] = logprobs[0]
    if facts.abstain_logprob is not None:
        signals["abstain_first"] = math.exp(facts.abstain_logprob)
        signals["abstain_log"] = abstain_log(signals["abstain_first"])
    if facts.yes_probability is not None:
        signals["check_yes"] = facts.yes_probability
    if facts.follow_up_yes_probability is not None:
        signals["follow_up_yes"] = facts.follow_up_yes_probability
    return {k: round(float(v), 5) for k, v in signals.items()}


ABSTAIN_LOG_FLOOR = math.log(1e-5)


def abstain_log(abstain_first: float) -> float:
    """Log of P(the model's first word is "NOT"), floored where five rounded decimals stop telling values apart."""
    return max(math.log(max(abstain_first, 1e-12)), ABSTAIN_LOG_FLOOR)


QUESTION_TYPES = ("who", "what", "which", "when", "where", "why", "how", "yesno")


def question_signals(question: QuestionAnalysis, answer: str) -> dict[str, float]:
    """What kind of question it is and what kind of answer it got (from their words alone)."""
    kind = question.question_type
    signals = {f"q_{name}": float(kind == name) for name in QUESTION_TYPES}
    signals["q_choice"] = float(question.options is not None)
    signals["q_compute"] = float(question.computation not in (None, "count"))  # a count may be stated outright
    signals["q_words"] = float(min(len(question.text.split()), 40))
    signals["a_number"] = float(bool(parse_quantities(without_markers(answer))))
    signals["a_words"] = float(min(len(without_markers(answer).split()), 40))
    return signals


def alignment_signals(
    question: QuestionAnalysis, answer: str, quotes: Sequence[str], window: int = 8
) -> dict[str, float]:
    """How the answer sits in its cited sentences: verbatim or not, how many of the question's words and names
    surround it, and which of the question's names the sentences lack (an unanswerable question often differs from
    the text in one such detail)."""
    body = without_markers(answer).strip().strip("\u201c\u201d\"'. ")
    text = " ".join(quotes)
    asked = set(terms(question.text))
    words = re.findall(r"[A-Za-z0-9]+(?:[.'-][A-Za-z0-9]+)*", text)
    word_terms = [terms(w) for w in words]
    said = [w for w in terms(body) if w not in asked]
    positions = [i for i, found in enumerate(word_terms) if found and found[0] in said]
    near: set[str] = set()
    for i in positions:
        for found in word_terms[max(0, i - window) : i + window + 1]:
            near.update(found)
    names = question.key_terms
    text_terms = set(terms(text))
    missing = [n for n in names if not set(terms(n)) <= text_terms]
    return {
        "answer_verbatim": float(bool(body) and body.lower() in text.lower()),
        "answer_found_share": len({w for w in said if any(w in f for f in word_terms)}) / max(1, len(said)),
        "window_coverage": len(asked & near) / max(1, len(asked)),
        "quote_coverage": len(asked & text_terms) / max(1, len(asked)),
        "key_terms_missing": float(len(missing)),
        "key_terms_missing_share": len(missing) / max(1, len(names)),
    }


def _agreement(said: set[str], evidence: Sequence[Evidence]) -> float:
    """How many evidence sentences hold all the answer's new words (the answer recurs across sources)."""
    if not said:
        return 0.0
    return float(sum(said <= set(terms(e.quote)) for e in evidence))


def _chunk_rank(cited: Sequence[Evidence], passages: Sequence[Passage]) -> float:
    """1-based fused rank of the best-ranked passage holding a cited sentence (len + 1 when none)."""
    ids = {e.chunk.id for e in cited}
    for rank, passage in enumerate(passages, start=1):
        if passage.chunk.id in ids:
            return float(rank)
    return float(len(passages) + 1)


def _in_both(cited: Sequence[Evidence], passages: Sequence[Passage]) -> float:
    ids = {e.chunk.id for e in cited}
    return float(any(p.chunk.id in ids and p.dense_rank is not None and p.lexical_rank is not None for p in passages))
