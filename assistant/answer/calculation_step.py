"""The calculation step of answering: route a question, have the model write the calculation, compute and check it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.answer.calculation_prompt import (
    build_calculation_check,
    build_calculation_messages,
    calculation_grammar,
    operations_for,
    read_calculation,
)
from assistant.checks.calculation import Calculation, evaluate
from assistant.checks.calculation_question import choose_option, require_thing
from assistant.llm.base import ChatLLM, ChatMessage, Trace
from assistant.numbers import parse_quantities
from assistant.question import QuestionAnalysis
from assistant.settings import CalculationSettings
from assistant.text import STOPWORDS, terms
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


SAME_THING = 0.7
"""Cosine of two words' embeddings at and above which they name the same thing ("soldiers", "troops": 0.89;
"houses", "homes": 0.90; but "touchdowns", "yards": 0.61 and "rockets", "missiles": 0.59)."""
WordVectors = Callable[[list[str]], Sequence[Sequence[float]]]


def route(
    question: QuestionAnalysis, evidence: Sequence[Evidence] = (), embed: WordVectors | None = None
) -> Route | None:
    """The computation ``question`` asks for, or None for today's path.

    A figure that is stated is read, not computed: a "how many <things>" question is only counted item by item when
    no sentence states the count outright ("two drones" answers "how many drones" as it stands; with ``embed``,
    "2,500 troops" answers "how many soldiers" too), and a "what percentage" question is only computed as a share
    when no sentence states a percentage.
    """
    kind = question.computation
    if kind is None:
        return None
    sentences = [e.quote for e in evidence]
    if kind == "count" and count_is_stated(question, sentences, embed):
        return None
    if kind == "percent" and share_is_stated(sentences):
        return None
    return Route(kind, operations_for(kind, question))


def share_is_stated(sentences: Sequence[str]) -> bool:
    """True when a sentence states a percentage ("48% of teenagers", "51.6 percent"): a question asking for a share
    is then answered by reading it, as the source gives it, rather than by dividing two other figures."""
    return any(quantity.is_percent for sentence in sentences for quantity in parse_quantities(sentence))


def count_is_stated(question: QuestionAnalysis, sentences: Sequence[str], embed: WordVectors | None = None) -> bool:
    """True when a sentence puts a number right before the thing counted ("two drones", "2,500 troops"), or, given
    ``embed``, before a word whose embedding is that close to the counted word ("2,500 troops": soldiers)."""
    phrase = question.counted
    if phrase is None:
        return False
    counted = set(terms(phrase.replace("-", " ")))
    named: list[str] = []
    for sentence in sentences:
        for quantity in parse_quantities(sentence):
            after = sentence[quantity.end : quantity.end + 60].replace("-", " ")
            following = terms(after)
            if following and following[0] in counted:
                return True
            named += [w for w in _WORD.findall(after)[:3] if w.lower() not in STOPWORDS]
    head = _WORD.findall(phrase)[-1:]
    return embed is not None and bool(head and named) and _any_same_thing(head[0], named, embed)


_WORD = re.compile(r"[A-Za-z]{3,}")


def _any_same_thing(word: str, candidates: Sequence[str], embed: WordVectors) -> bool:
    """True when one of ``candidates`` names what ``word`` names (a few texts per call keeps it fast)."""
    unique = list(dict.fromkeys(c.lower() for c in candidates))
    target = embed([word.lower()])[0]
    for start in range(0, len(unique), 8):
        for vector in embed(unique[start : start + 8]):
            if sum(a * b for a, b in zip(target, vector, strict=True)) >= SAME_THING:
                return True
    return False


def articles_cited(calculation: Calculation, evidence: Sequence[Evidence]) -> int:
    """How many articles the sentences a calculation's operands cite come from."""
    article_of = {e.number: e.chunk.doc_id for e in evidence}
    return len({article_of[n] for n in calculation.citations if n in article_of})


class CalculationStep:
    """Asks the model for a calculation (held to the format by a grammar where the backend has one), computes it,
    and asks the model in a second role whether it answers the question."""

    def __init__(self, settings: CalculationSettings, llm: ChatLLM) -> None:
        self.settings = settings
        self.llm = llm

    def write(self, question: QuestionAnalysis, evidence: Sequence[Evidence], routed: Route) -> Written:
        """The model's calculation for ``question`` over ``evidence``, parsed, checked and computed."""
        started = time.perf_counter()
        messages = build_calculation_messages(question, evidence, routed.operations)
        grammar = calculation_grammar(routed.operations, [e.number for e in evidence])
        trace = Trace()
        stream = self.llm.stream(
            messages, max_tokens=self.settings.max_tokens, trace=trace, grammar=grammar, fixed_messages=1
        )
        raw = "".join(stream)
        sources = {e.number: e.quote for e in evidence}
        calculation = evaluate(read_calculation(raw), sources)
        options = question.options if routed.kind == "compare" else None
        if options is not None:
            calculation = choose_option(calculation, options)
        thing = question.measured if routed.kind == "extreme" else None
        if thing is not None:
            calculation = require_thing(calculation, thing, sources)
        if calculation.operation and calculation.operation not in routed.operations:
            calculation = Calculation(
                calculation.expression,
                calculation.operation,
                calculation.operands,
                error=f"{calculation.operation} does not answer this question",
            )
        if calculation.ok and self.settings.one_article:
            articles = articles_cited(calculation, evidence)
            if articles > 1:
                why = f"its operands come from {articles} articles, which may describe different events"
                calculation = replace(calculation, value=None, error=why)
        return Written(calculation, raw, tuple(messages), tuple(trace.token_logprobs), time.perf_counter() - started)

    def check(self, question: QuestionAnalysis, calculation: Calculation, evidence: Sequence[Evidence]) -> float | None:
        """P(yes) that the calculation answers the question with the right numbers (None if the model cannot say)."""
        by_number = {e.number: e.quote for e in evidence}
        quotes = [by_number[n] for n in calculation.citations if n in by_number]
        return self.llm.yes_probability(build_calculation_check(question.text, calculation, quotes))
