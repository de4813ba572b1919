"""A computed largest or smallest value held against what the question asks: which of its two options won, and
whether each operand is the thing the question measures (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from assistant.checks.calculation import Calculation, exact, operand_number, with_changes
from assistant.numbers import parse_quantities, strip_citations
from assistant.text import terms


def choose_option(calculation: Calculation, options: tuple[str, str]) -> Calculation:
    """A computed MAX or MIN over the two options of a choice question, answered with the option whose operand won.

    Each operand must name one option by the words that tell the options apart ("north" and "south" in "the north
    bank or the south bank"): the operands are matched to the options the way that names the most of them,
    and that match must beat the other way round. Equal values, or operands that name no option, leave no choice.
    """
    if not calculation.ok or calculation.operation not in ("MAX", "MIN"):
        return calculation
    if len(calculation.operands) != 2:
        count = len(calculation.operands)
        return with_changes(calculation, error=f"a choice between two options takes two operands, got {count}")
    first, second = calculation.operands
    if operand_number(first) == operand_number(second):
        return with_changes(calculation, error="both options have the same number, so neither is chosen")
    named = [set(terms(o.text)) for o in calculation.operands]
    wanted = _telling_words(*(set(terms(option)) for option in options))
    straight = (_shared_words(named[0], wanted[0]), _shared_words(named[1], wanted[1]))
    crossed = (_shared_words(named[0], wanted[1]), _shared_words(named[1], wanted[0]))
    as_written, swapped = sum(straight), sum(crossed)
    if as_written == swapped or 0 in (straight if as_written > swapped else crossed):
        return with_changes(calculation, error="the operands do not tell which option each is")
    named_options = options if as_written > swapped else options[::-1]
    larger_first = operand_number(first) > operand_number(second)
    winner = 0 if larger_first == (calculation.operation == "MAX") else 1
    return with_changes(calculation, chosen=named_options[winner])


def require_thing(calculation: Calculation, thing: str, sources: Mapping[int, str]) -> Calculation:
    """A MAX or MIN over operands that each are the thing the question measures ("hammer throw" in "How many meters
    was the longest hammer throw?"): the thing's last word ("throw") in the operand's words, or beside its number
    in its sentence (in the words up to the next number, or in the three words before it: "a throw of 61 meters");
    "a 58-meter discus cast" is no throw. Refused when an operand is not."""
    head = terms(thing)[-1:]
    if not calculation.ok or calculation.operation not in ("MAX", "MIN") or not head:
        return calculation
    for operand in calculation.operands:
        if head[0] not in terms(operand.text) and not _besideoperand_number(
            operand_number(operand), head[0], sources.get(operand.citation, "")
        ):
            return with_changes(calculation, error=f"operand {operand.text!r} [{operand.citation}] is not a {thing}")
    return calculation


def _besideoperand_number(value: Fraction, word: str, sentence: str) -> bool:
    """``word`` is written beside a mention of ``value`` in ``sentence``, with no other number between them."""
    sentence = strip_citations(sentence)
    quantities = parse_quantities(sentence)
    for i, quantity in enumerate(quantities):
        if exact(quantity.value) != value:
            continue
        after_end = quantities[i + 1].start if i + 1 < len(quantities) else len(sentence)
        before_start = quantities[i - 1].end if i > 0 else 0
        after = sentence[quantity.end : min(after_end, quantity.end + 40)]
        before = sentence[before_start : quantity.start].replace("-", " ").split()[-3:]  # "field goal of 33"
        if word in terms(after.replace("-", " ")) or word in terms(" ".join(before)):
            return True
    return False


def _telling_words(first: set[str], second: set[str]) -> tuple[set[str], set[str]]:
    """The words of each option the other lacks; all its words for an option that has none of its own
    ("officers" against "non-commissioned officers")."""
    own_first = {w for w in first if not _shared_words({w}, second)}
    own_second = {w for w in second if not _shared_words({w}, first)}
    return own_first or first, own_second or second


def _shared_words(said: set[str], option: set[str]) -> int:
    """How many words of ``option`` the operand says, a word also counting when one is the start of the other
    (four letters at least: "India" names "Indians", "Bangladesh" names "Bangladeshis")."""
    return sum(
        any(w == o or (min(len(w), len(o)) >= 4 and (w.startswith(o) or o.startswith(w))) for w in said) for o in option
    )
