"""The calculation step of answering: route a question, have the model write the calculation, compute and check it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.calculation import Calculation, evaluate
from assistant.calculation_prompt import (
    build_calculation_check,
    build_calculation_messages,
    calculation_grammar,
    operations_for,
    read_calculation,
)
from assistant.llm.base import ChatLLM, ChatMessage, Trace
from assistant.numbers import parse_quantities
from assistant.question import computation_asked, counted_phrase
from assistant.settings import CalculationSettings
from assistant.text import terms
from assistant.types import Evidence


@dataclass(frozen=True)
class Route:
    """A question that asks for a computation, and the operations that can answer it."""

    kind: str
    """span, diff, add, percent, extreme or count."""
    operations: tuple[str, ...]


@dataclass(frozen=True)
class Written:
    """What the model wrote for a routed question, and what the engine made of it."""

    calculation: Calculation
    raw: str
    messages: tuple[ChatMessage, ...]
    token_logprobs: tuple[float, ...]
    seconds: float


def route(question: str, evidence: Sequence[Evidence] = ()) -> Route | None:
    """The computation ``question`` asks for, or None for today's path.

    A "how many <things>" question is only counted item by item when no sentence states the count outright
    ("two drones" answers "how many drones" as it stands).
    """
    kind = computation_asked(question)
    if kind is None:
        return None
    if kind == "count" and count_is_stated(question, [e.quote for e in evidence]):
        return None
    return Route(kind, operations_for(kind, question))


def count_is_stated(question: str, sentences: Sequence[str]) -> bool:
    """True when a sentence puts a number right before the thing counted ("two drones", "2,500 troops")."""
    phrase = counted_phrase(question.replace(".", ""))
    if phrase is None:
        return False
    counted = set(terms(phrase.replace("-", " ")))
    for sentence in sentences:
        for quantity in parse_quantities(sentence):
            following = terms(sentence[quantity.end : quantity.end + 60].replace("-", " "))
            if following and following[0] in counted:
                return True
    return False


class CalculationStep:
    """Asks the model for a calculation (held to the format by a grammar where the backend has one), computes it,
    and asks the model in a second role whether it answers the question."""

    def __init__(self, settings: CalculationSettings, llm: ChatLLM) -> None:
        self.settings = settings
        self.llm = llm

    def write(self, question: str, evidence: Sequence[Evidence], routed: Route) -> Written:
        """The model's calculation for ``question`` over ``evidence``, parsed, checked and computed."""
        started = time.perf_counter()
        messages = build_calculation_messages(question, evidence, routed.operations)
        grammar = calculation_grammar(routed.operations, [e.number for e in evidence])
        trace = Trace()
        stream = self.llm.stream(
            messages, max_tokens=self.settings.max_tokens, trace=trace, grammar=grammar, fixed_messages=1
        )
        raw = "".join(stream)
        calculation = evaluate(read_calculation(raw), {e.number: e.quote for e in evidence})
        if calculation.operation and calculation.operation not in routed.operations:
            calculation = Calculation(
                calculation.expression,
                calculation.operation,
                calculation.operands,
                error=f"{calculation.operation} does not answer this question",
            )
        return Written(calculation, raw, tuple(messages), tuple(trace.token_logprobs), time.perf_counter() - started)

    def check(self, question: str, calculation: Calculation, evidence: Sequence[Evidence]) -> float | None:
        """P(yes) that the calculation answers the question with the right numbers (None if the model cannot say)."""
        by_number = {e.number: e.quote for e in evidence}
        quotes = [by_number[n] for n in calculation.citations if n in by_number]
        return self.llm.yes_probability(build_calculation_check(question, calculation, quotes))
