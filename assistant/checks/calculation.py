"""Calculations the model writes and the engine computes: parse, check operands against their sources, evaluate.

The language is one operation over cited operands, e.g. ``ADD(1,200 passengers on Friday [1], 950 on Saturday [1])``::

    ADD | DIFF | MAX | MIN        numbers            sum, |a - b|, largest, smallest
    PERCENT(part [n], whole [m])  numbers            part / whole x 100
    COUNT(item [n], item [m], …)  mentions           how many distinct items are listed
    DAYS_BETWEEN / YEARS_BETWEEN  dates or years     the span between two dates (weekdays: days forward)

Every operand is checked against the sentence it cites with the grounding rules (numbers, dates and names must
occur there), arithmetic is exact (fractions), and nothing here raises on what a model writes: a malformed
expression, an unknown citation, a number not in its sentence or a division by zero yields a ``Calculation``
whose ``error`` says why (pure).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from assistant.checks.grounding import verify_answer
from assistant.numbers import WEEKDAYS, Quantity, parse_dates, parse_quantities, strip_citations
from assistant.text import terms

OPERATIONS = ("ADD", "DIFF", "COUNT", "DAYS_BETWEEN", "YEARS_BETWEEN", "PERCENT", "MAX", "MIN")
"""Every operation the engine computes."""
OPERATION_KINDS = {
    "ADD": "add",
    "DIFF": "diff",
    "COUNT": "count",
    "DAYS_BETWEEN": "span",
    "YEARS_BETWEEN": "span",
    "PERCENT": "other",
    "MAX": "other",
    "MIN": "other",
}
"""The report family of each operation: add, diff, count, span or other."""
NO_CALCULATION = "NONE"
"""What the model writes when the sources hold nothing to compute from."""
MAX_OPERANDS = 20
_ARITY = {"DIFF": (2, 2), "PERCENT": (2, 2), "DAYS_BETWEEN": (1, 2), "YEARS_BETWEEN": (1, 2), "COUNT": (1, 20)}
_SPANS = ("DAYS_BETWEEN", "YEARS_BETWEEN")
_NO_TIME = "no date or year in the operand"
_EXPRESSION = re.compile(r"\s*([A-Z_]+)\s*\((.*)\)\s*\.?\s*", re.S)
# One operand: text that holds no bracket or parenthesis, then its citation; operands are separated by , or ;.
_OPERAND = re.compile(r"\s*([^\[\]()\n]*?)\s*\[\s*(\d{1,3})\s*\]\s*(?:[,;]\s*|$)")
_SYMBOLS = {"ADD": " + ", "DIFF": " \u2212 "}


@dataclass(frozen=True)
class Operand:
    """One operand as the model wrote it, and what the engine found in the sentence it cites."""

    text: str
    """The operand's words, e.g. "1,200 passengers on Friday"."""
    citation: int
    """The sentence number [n] it cites."""
    value: Fraction | date | str | None = None
    """The number (exact), full date, weekday or year it stands for; None when none could be read."""
    found: bool = False
    """True when the value occurs in the cited sentence (COUNT: the item's words do)."""
    supported: bool = False
    """True when every number, date and name of ``text`` occurs in the cited sentence (its label can be shown)."""
    reason: str = ""
    """Why it is not found or not supported ("" when it is both)."""
    recited: bool = False
    """True when the model cited another sentence and the engine moved the operand to the one that holds it."""


@dataclass(frozen=True)
class Calculation:
    """A parsed, checked and evaluated operation: its kind, operands (cited, found or not) and result."""

    expression: str
    operation: str = ""
    operands: tuple[Operand, ...] = ()
    value: Fraction | None = None
    error: str = ""
    """Why there is no result ("" when there is one)."""
    notes: tuple[str, ...] = field(default=())
    """Things the engine corrected on the way (a repeated COUNT item counted once)."""
    chosen: str = ""
    """For a choice question answered by MAX or MIN: the option whose operand won ("" otherwise)."""

    @property
    def ok(self) -> bool:
        """True when a result was computed from operands that all occur in their cited sentences."""
        return not self.error and self.value is not None

    @property
    def kind(self) -> str:
        """add, diff, count, span or other ("" when the expression did not parse)."""
        return OPERATION_KINDS.get(self.operation, "")

    @property
    def citations(self) -> tuple[int, ...]:
        """Every sentence number the operands cite, in order, without repeats."""
        return tuple(dict.fromkeys(o.citation for o in self.operands))

    @property
    def all_found(self) -> bool:
        """True when there are operands and every one occurs in the sentence it cites."""
        return bool(self.operands) and all(o.found for o in self.operands)

    @property
    def all_supported(self) -> bool:
        """True when every operand's words (its label too) occur in the sentence it cites."""
        return bool(self.operands) and all(o.supported for o in self.operands)

    def render(self) -> str:
        """The result with its working, each operand cited: "3,400 (2,500 in Iraq + 900 in eastern Syria) [1]"."""
        if not self.ok or self.value is None:
            return ""
        if self.chosen:
            return self._render_choice()
        result = format_number(self.value) + ("%" if self.operation == "PERCENT" else "")
        if self.operation in ("DAYS_BETWEEN", "YEARS_BETWEEN"):
            unit = "day" if self.operation == "DAYS_BETWEEN" else "year"
            result += f" {unit}{'' if self.value == 1 else 's'}"
        shared = len(self.citations) == 1
        operands = list(self.operands)
        if self.operation == "DIFF" and operand_number(operands[0]) < operand_number(operands[1]):
            operands.reverse()  # the difference is shown as larger minus smaller
        shown = [self._shown(o) + ("" if shared else f" [{o.citation}]") for o in operands]
        if self.operation in _SYMBOLS:
            working = _SYMBOLS[self.operation].join(shown)
        elif self.operation == "PERCENT":
            working = f"{shown[0]} of {shown[1]}"
        elif self.operation in ("DAYS_BETWEEN", "YEARS_BETWEEN"):
            working = f"from {shown[0]} to {shown[1]}"
        else:
            label = {"COUNT": "counting", "MAX": "the largest of", "MIN": "the smallest of"}[self.operation]
            working = f"{label}: {'; '.join(shown)}"
        tail = f" [{self.citations[0]}]" if shared else ""
        return f"{result} ({working}){tail}"

    def _render_choice(self) -> str:
        """The chosen option, then both operands, the winner first: "Friday (1,200 passengers on Friday against
        950 on Saturday) [1]"."""
        pick = max if self.operation == "MAX" else min
        winner = pick(self.operands, key=operand_number)
        shared = len(self.citations) == 1
        ordered = [winner, *(o for o in self.operands if o is not winner)]
        shown = [self._shown(o) + ("" if shared else f" [{o.citation}]") for o in ordered]
        tail = f" [{self.citations[0]}]" if shared else ""
        return f"{self.chosen} ({' against '.join(shown)}){tail}"

    def _shown(self, operand: Operand) -> str:
        """The operand's words when all of them are in its sentence, else just the value it stands for."""
        if operand.supported or operand.value is None:
            return operand.text
        if isinstance(operand.value, Fraction):
            return format_number(operand.value)
        return operand.value.isoformat() if isinstance(operand.value, date) else str(operand.value)


def format_number(value: Fraction) -> str:
    """A readable exact number: "3,400", "-2", "12.5", "33.33" (at most two decimals)."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    rounded = Decimal(value.numerator) / Decimal(value.denominator)
    text = f"{rounded.quantize(Decimal('0.01')):,}"
    return text.rstrip("0").rstrip(".")


def parse(expression: str) -> tuple[str, list[tuple[str, int]]] | str:
    """(operation, [(operand text, citation)]) of a well-formed expression, else a message saying what is wrong."""
    match = _EXPRESSION.fullmatch(expression or "")
    if match is None:
        return "not an operation of the form NAME(operand [n], ...)"
    name, body = match.group(1), match.group(2)
    if name not in OPERATIONS:
        return f"unknown operation {name!r}"
    operands: list[tuple[str, int]] = []
    position = 0
    while position < len(body):
        item = _OPERAND.match(body, position)
        if item is None or item.end() == position:
            return f"malformed operand near {body[position : position + 30]!r}"
        text = " ".join(item.group(1).split())
        if not text:
            return "an operand has no words before its [n]"
        operands.append((text, int(item.group(2))))
        position = item.end()
    low, high = _ARITY.get(name, (2, MAX_OPERANDS))
    if not low <= len(operands) <= high:
        return (
            f"{name} takes {low}-{high} operands, got {len(operands)}"
            if low != high
            else (f"{name} takes {low} operands, got {len(operands)}")
        )
    return name, operands


def evaluate(expression: str, sources: Mapping[int, str]) -> Calculation:
    """Parse ``expression``, check each operand against ``sources`` (sentence number -> text) and compute."""
    expression = (expression or "").strip()
    parsed = parse(expression)
    if isinstance(parsed, str):
        return Calculation(expression, error=parsed)
    name, raw = parsed
    operands = tuple(_recited(name, _read_operand(name, text, number, sources), sources) for text, number in raw)
    if name in _SPANS:
        operands = _ends_of_a_range(name, operands, sources) or operands
    calculation = Calculation(expression, name, operands)
    missing = next((o for o in operands if not o.found), None)
    if missing is not None:
        return with_changes(calculation, error=f"operand {missing.text!r} [{missing.citation}]: {missing.reason}")
    if name in _SPANS and len(operands) != 2:
        return with_changes(calculation, error=f"{name} takes two points in time, got {len(operands)}")
    return _compute(calculation)


def years_between_ends(answer: str, citation: int, sources: Mapping[int, str]) -> Calculation | None:
    """A "how many years" answer written as the span's two ends ("1845 to 1856 [1]", "1860-1916 [1]") turned into
    the years between them, each end checked against the cited sentence like any operand; None when the answer
    does not name exactly two years or the check fails."""
    text = " ".join(answer.replace("(", " ").replace(")", " ").split())
    calculation = evaluate(f"YEARS_BETWEEN({text} [{citation}])", sources)
    return calculation if calculation.ok else None


def _ends_of_a_range(name: str, operands: tuple[Operand, ...], sources: Mapping[int, str]) -> tuple[Operand, ...]:
    """A span written as one operand that names both its ends ("2000 and 2009 [1]", "1845 to 1856 [1]"), any other
    operand naming no time at all (a label): the two ends, each checked against the cited sentence. A range beside
    another point in time stays refused, since which end is meant cannot be known. () when this does not apply."""
    timed = [o for o in operands if o.reason != _NO_TIME]
    if len(timed) != 1 or timed[0].citation not in sources:
        return ()
    ends = _when(timed[0].text, yearly=name == "YEARS_BETWEEN")
    if not isinstance(ends, tuple) or len(ends) != 2:
        return ()
    citation, sentence = timed[0].citation, sources[timed[0].citation]
    read = []
    if any(isinstance(end, int) and end < 100 for end in ends):  # "the 15-year-long war of 1683": not a range
        return ()
    for end in ends:
        value = Fraction(end) if isinstance(end, int) else end
        assert isinstance(value, (date, str, Fraction))
        shown = f"{value.day} {value:%B %Y}" if isinstance(value, date) else str(end).title()
        found = _when_in(value, sentence)
        reason = "" if found else f"{shown} is not in sentence [{citation}]"
        read.append(Operand(shown, citation, value, found, found, reason))
    return tuple(read)


def with_changes(calculation: Calculation, **changes: object) -> Calculation:
    """``calculation`` with some fields replaced."""
    return replace(calculation, **changes)  # type: ignore[arg-type]


def _read_operand(operation: str, text: str, number: int, sources: Mapping[int, str]) -> Operand:
    """The operand's value and whether it (and its words) occur in the sentence it cites."""
    if number not in sources:
        return Operand(text, number, reason=f"there is no sentence [{number}]")
    sentence = sources[number]
    check = verify_answer(f"{text} [{number}]", {number: sentence}, allow_derived=False)
    supported = check.ok
    label_reason = "" if supported else "; ".join(c.reason for c in check.checks if c.reason)
    if operation == "COUNT":
        return _count_item(text, number, sentence, supported, label_reason)
    if operation in ("DAYS_BETWEEN", "YEARS_BETWEEN"):
        value = _when(text, yearly=operation == "YEARS_BETWEEN")
        if value is None:
            return Operand(text, number, reason=_NO_TIME)
        if isinstance(value, tuple):
            shown = ", ".join(_plain(v) for v in value)
            return Operand(text, number, reason=f"the operand names more than one point in time ({shown})")
        found = _when_in(value, sentence)
    else:
        quantities = parse_quantities(text)
        if not quantities:
            return Operand(text, number, reason="no number in the operand")
        first = quantities[0]
        if operation == "PERCENT" and first.is_percent:
            return Operand(text, number, reason="the operand is a percentage already, not a part or a whole")
        value = exact(first.value)
        found = any(abs(q.value - first.value) <= 1e-9 * max(1.0, abs(first.value)) for q in parse_quantities(sentence))
    if not found:
        return Operand(text, number, value, reason=f"{_plain(value)} is not in sentence [{number}]")
    return Operand(text, number, value, True, supported, label_reason)


def _recited(operation: str, operand: Operand, sources: Mapping[int, str]) -> Operand:
    """An operand whose value its cited sentence lacks, moved to the one other sentence that holds it with every
    number, date and name of its words (the most words in common when several do); as read when none does.

    Small models often cite the wrong [n]; the operand is checked again against the sentence it now cites, so
    nothing is taken from a sentence that does not state it.
    """
    if operand.found or operand.value is None:
        return operand
    words = set(terms(operand.text))
    candidates = []
    for number, sentence in sources.items():
        if number == operand.citation:
            continue
        moved = _read_operand(operation, operand.text, number, sources)
        if moved.found and moved.supported:
            candidates.append((len(words & set(terms(sentence))), -number, moved))
    if not candidates:
        return operand
    return replace(max(candidates, key=lambda c: c[:2])[2], recited=True)


def _count_item(text: str, number: int, sentence: str, supported: bool, reason: str) -> Operand:
    """A COUNT item is found when its numbers, dates and names and all its content words are in the sentence."""
    words = set(terms(text))
    absent = sorted(words - set(terms(sentence)))
    if not words:
        return Operand(text, number, reason="the item has no content words")
    if absent or not supported:
        why = reason or f"not in sentence [{number}]: {', '.join(absent)}"
        return Operand(text, number, text, reason=why)
    return Operand(text, number, text, True, True)


def operand_number(operand: Operand) -> Fraction:
    """The operand's value as a number (0 when it is a date, a weekday or unread)."""
    return operand.value if isinstance(operand.value, Fraction) else Fraction(0)


def exact(value: float) -> Fraction:
    """The decimal a parsed number was written as, exactly (0.1 stays 1/10)."""
    return Fraction(Decimal(repr(value)))


def _plain(value: object) -> str:
    if isinstance(value, Fraction):
        return format_number(value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _when(text: str, *, yearly: bool) -> date | str | Fraction | tuple[object, ...] | None:
    """The one full date, weekday or (for YEARS_BETWEEN) year the operand names; a tuple of them when it names
    several ("1575-1577", "from 2000 to 2009": which end is meant cannot be known), None when it names none."""
    text = strip_citations(text)
    mentions = parse_dates(text)
    dates = list(dict.fromkeys(date.fromisoformat(m.value) for m in mentions if m.kind == "date"))
    if yearly:
        named_years = [int(m.value) for m in mentions if m.kind == "year"]
        years = list(dict.fromkeys([d.year for d in dates] + named_years))
        if not years:
            # parse_dates knows 1800-2100; older years ("1699", "AD 900") are plain numbers to it.
            years = list(dict.fromkeys(int(q.value) for q in _plain_years(text)))
            if years and max(years) < 100:  # "15-year-long", "3 years": a count, not a year
                years = []
        if len(years) > 1:
            return tuple(years)
        if dates:
            return dates[0]
        return Fraction(years[0]) if years else None
    weekdays = list(dict.fromkeys(m.value for m in mentions if m.kind == "weekday"))
    named: list[date] | list[str] = dates or weekdays
    if len(named) > 1:
        return tuple(named)
    return named[0] if named else None


def _when_in(value: date | str | Fraction, sentence: str) -> bool:
    mentions = parse_dates(sentence)
    if isinstance(value, date):
        return any(m.kind == "date" and m.value == value.isoformat() for m in mentions)
    if isinstance(value, str):
        return any(m.kind == "weekday" and m.value == value for m in mentions)
    year = int(value)
    in_dates = any(m.kind == "date" and int(m.value[:4]) == year for m in mentions)
    return in_dates or any(q.value == year for q in parse_quantities(sentence))


def _plain_years(text: str) -> list[Quantity]:
    """Whole numbers of 1..2200 in ``text`` that may be years."""
    return [q for q in parse_quantities(text) if q.value == int(q.value) and 1 <= q.value <= 2200 and not q.is_percent]


def _compute(calculation: Calculation) -> Calculation:
    name = calculation.operation
    values = [o.value for o in calculation.operands]
    if name == "COUNT":
        return _count(calculation)
    if name in ("DAYS_BETWEEN", "YEARS_BETWEEN"):
        return _span(calculation)
    numbers = [v for v in values if isinstance(v, Fraction)]
    if name == "ADD":
        result = sum(numbers, Fraction(0))
    elif name == "DIFF":
        result = abs(numbers[0] - numbers[1])
    elif name == "MAX":
        result = max(numbers)
    elif name == "MIN":
        result = min(numbers)
    else:  # PERCENT
        if numbers[1] == 0:
            return with_changes(calculation, error="division by zero: the whole is 0")
        result = numbers[0] / numbers[1] * 100
    return with_changes(calculation, value=result)


def _count(calculation: Calculation) -> Calculation:
    """Distinct items: an item citing the same sentence as another, in the same or fewer words, counts once."""
    kept: list[Operand] = []
    for operand in calculation.operands:
        words = set(terms(operand.text))
        if any(o.citation == operand.citation and words <= set(terms(o.text)) for o in kept):
            continue
        kept = [o for o in kept if not (o.citation == operand.citation and set(terms(o.text)) <= words)]
        kept.append(operand)
    notes = () if len(kept) == len(calculation.operands) else ("a repeated item was counted once",)
    return with_changes(calculation, operands=tuple(kept), value=Fraction(len(kept)), notes=notes)


def _span(calculation: Calculation) -> Calculation:
    first, second = (o.value for o in calculation.operands)
    yearly = calculation.operation == "YEARS_BETWEEN"
    if first == second:  # "Friday to Friday" is 0, 7 or 14 days; "2007 to 2007" answers no "how many years"
        return with_changes(calculation, error="both operands name the same day or year, so they give no span")
    if isinstance(first, str) and isinstance(second, str):  # weekdays: days forward from the first
        return with_changes(calculation, value=Fraction((WEEKDAYS.index(second) - WEEKDAYS.index(first)) % 7))
    if isinstance(first, date) and isinstance(second, date):
        early, late = sorted((first, second))
        if not yearly:
            return with_changes(calculation, value=Fraction((late - early).days))
        whole_years = late.year - early.year - ((late.month, late.day) < (early.month, early.day))
        return with_changes(calculation, value=Fraction(whole_years))
    years = [_year_of(v) for v in (first, second)]
    if yearly and None not in years and years[0] == years[1]:  # "in 2001" and "July 30, 2001": no span of years
        return with_changes(calculation, error="both operands fall in the same year, so they give no span of years")
    if yearly and None not in years:
        return with_changes(calculation, value=Fraction(abs(int(years[0] or 0) - int(years[1] or 0))))
    return with_changes(calculation, error="the two operands are not both dates, both weekdays or both years")


def _year_of(value: object) -> int | None:
    if isinstance(value, date):
        return value.year
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return None
