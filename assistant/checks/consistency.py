"""Self-consistency of a written answer (pure): do answers the model samples to the same prompt say the same thing?

A model that knows the answer writes it again when it samples; one that guesses scatters. The share of sampled
answers that agree with the shown one is a signal of its own, independent of the token log-probabilities of the
one greedy answer (those measure how sure the model was of each word, not whether it would pick the same span
again).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from assistant.answer.prompting import is_abstention, tidy_answer
from assistant.markers import without_markers
from assistant.numbers import parse_quantities
from assistant.text import overlap_f1, terms

AGREEMENT_F1 = 0.5
"""Token F1 (over content terms) at or above which two answers say the same thing, as SQuAD's F1 counts overlap:
"the Normans" and "Normans from Normandy" agree, "Rollo" and "the Normans" do not."""


def answer_content(text: str, question: str) -> list[str]:
    """The content terms an answer adds to its question (all of its terms when it adds none)."""
    said = terms(without_markers(tidy_answer(text)))
    asked = set(terms(question))
    new = [t for t in said if t not in asked]
    return new or said


def answers_agree(shown: str, sampled: str, question: str) -> bool:
    """True when a sampled answer says what the shown one says: not an abstention, the same numbers, and content
    terms that overlap by at least ``AGREEMENT_F1``."""
    if is_abstention(tidy_answer(sampled)):
        return False
    shown_numbers = {q.value for q in parse_quantities(without_markers(shown))}
    sampled_numbers = {q.value for q in parse_quantities(without_markers(sampled))}
    if shown_numbers != sampled_numbers:
        return False
    return overlap_f1(answer_content(shown, question), answer_content(sampled, question)) >= AGREEMENT_F1


def agreement_share(shown: str, samples: Sequence[str], question: str) -> float:
    """Share of ``samples`` that agree with the shown answer (0.0 when there are none)."""
    if not samples:
        return 0.0
    return sum(answers_agree(shown, s, question) for s in samples) / len(samples)


def sample_seeds(question: str, count: int) -> list[int]:
    """Seeds of the samples of one question: fixed for the question (the same question samples the same answers),
    different across questions. With the same seeds for every question, the first token of sample k would be drawn
    with the same random number every time, so sample k would always take, say, an unlikely first word."""
    base = zlib.crc32(" ".join(question.split()).encode("utf-8"))
    return [(base + 7919 * index) % 2**31 + 1 for index in range(count)]
