"""Quantities and dates in text: digits, number words, scales, percentages, weekdays, months, full dates (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from assistant.markers import MARKER

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 10**12}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}
_NOT_A_COUNT_BEFORE = frozenset(["no", "any", "every", "each", "some", "which", "this", "that", "the", "anyone"])
_TOKEN = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+|%")


@dataclass(frozen=True)
class Quantity:
    """A number mentioned in text."""

    value: float
    text: str
    start: int
    end: int
    is_percent: bool = False


@dataclass(frozen=True)
class DateMention:
    """A weekday, month, full date or year mentioned in text."""

    kind: str  # weekday | month | date | year
    value: str
    text: str
    start: int
    end: int


def strip_citations(text: str) -> str:
    """Text with [n] markers blanked out (same length, so offsets still hold)."""
    return MARKER.sub(lambda m: " " * len(m.group(0)), text)


def parse_quantities(text: str) -> list[Quantity]:
    """Every quantity: "900", "2,500", "two thousand five hundred", "a dozen", "1.5 million", "40%", "three-month"."""
    text = strip_citations(text)
    tokens = list(_TOKEN.finditer(text))
    found: list[Quantity] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        word = token.group(0).lower()
        value: float | None = None
        j = i
        if word[0].isdigit():
            value = float(word.replace(",", ""))
            j = i + 1
            if j < len(tokens) and tokens[j].group(0).lower() in ("million", "billion", "trillion", "thousand"):
                value *= SCALES[tokens[j].group(0).lower()]
                j += 1
        elif word in ("dozen",) and i > 0 and tokens[i - 1].group(0).lower() == "a":
            value, j = 12.0, i + 1
        elif word in UNITS or word in TENS:
            if word == "one" and _one_is_pronoun(tokens, i):
                i += 1
                continue
            value, j = _read_number_words(tokens, i)
        if value is None:
            i += 1
            continue
        percent = j < len(tokens) and tokens[j].group(0).lower() in ("%", "percent")
        if percent:
            j += 1
        start = tokens[i - 1].start() if word == "dozen" else token.start()
        end = tokens[j - 1].end()
        found.append(Quantity(value=value, text=text[start:end], start=start, end=end, is_percent=percent))
        i = j
    return found


def _one_is_pronoun(tokens: list[re.Match[str]], i: int) -> bool:
    before = tokens[i - 1].group(0).lower() if i > 0 else ""
    after = tokens[i + 1].group(0).lower() if i + 1 < len(tokens) else ""
    return before in _NOT_A_COUNT_BEFORE or after in ("of", "another")


def _read_number_words(tokens: list[re.Match[str]], i: int) -> tuple[float, int]:
    """Value of a run of number words starting at token i, and the index after it."""
    total, current, j = 0, 0, i
    while j < len(tokens):
        word = tokens[j].group(0).lower()
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in SCALES:
            total += max(current, 1) * SCALES[word]
            current = 0
        elif word == "and" and j + 1 < len(tokens) and tokens[j + 1].group(0).lower() in UNITS | TENS and j > i:
            pass
        else:
            break
        j += 1
    return float(total + current), j


def numbers_in(text: str) -> list[float]:
    """The values of every quantity in ``text``."""
    return [q.value for q in parse_quantities(text)]


def normalize_number_text(text: str) -> str:
    """Number words as digits and thousands separators removed: "two thousand five hundred" -> "2500"."""
    out, last = [], 0
    for quantity in parse_quantities(text):
        out.append(text[last : quantity.start])
        value = int(quantity.value) if quantity.value == int(quantity.value) else quantity.value
        out.append(f"{value}%" if quantity.is_percent else str(value))
        last = quantity.end
    out.append(text[last:])
    return "".join(out)


def same_number(a: Quantity, b: Quantity) -> bool:
    """Equal values of the same kind (a percentage only equals a percentage)."""
    return a.is_percent == b.is_percent and abs(a.value - b.value) <= 1e-9 * max(1.0, abs(a.value))


_FULL_DATES = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "%Y-%m-%d"),
    (re.compile(r"\b(\d{1,2}) ([A-Z][a-z]+\.?) (\d{4})\b"), "%d %B %Y"),
    (re.compile(r"\b([A-Z][a-z]+\.?) (\d{1,2}),? (\d{4})\b"), "%B %d %Y"),
]


def _month_name(word: str) -> str | None:
    word = word.lower().rstrip(".")
    if word in MONTHS:
        return word
    return _MONTH_ABBR.get(word) if len(word) in (3, 4) else None


def parse_dates(text: str) -> list[DateMention]:
    """Weekdays, months (not lowercase "may"/"march"), full dates (normalized YYYY-MM-DD) and years."""
    text = strip_citations(text)
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, _ in _FULL_DATES:
        for match in pattern.finditer(text):
            value = _full_date(match)
            if value:
                found.append(DateMention("date", value, match.group(0), match.start(), match.end()))
                taken.append((match.start(), match.end()))
    for match in re.finditer(r"\b[A-Za-z]+\.?", text):
        word = match.group(0)
        lower = word.lower().rstrip(".")
        if lower in WEEKDAYS and word[0].isupper():
            found.append(DateMention("weekday", lower, word, match.start(), match.end()))
        elif word[0].isupper() and (month := _month_name(word)) and not _inside(match.start(), taken):
            found.append(DateMention("month", month, word, match.start(), match.end()))
    for match in re.finditer(r"\b(1[89]\d\d|20\d\d|2100)\b", text):
        if not _inside(match.start(), taken):
            found.append(DateMention("year", match.group(0), match.group(0), match.start(), match.end()))
    return sorted(found, key=lambda d: d.start)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def _full_date(match: re.Match[str]) -> str | None:
    groups = match.groups()
    try:
        if groups[0].isdigit() and len(groups[0]) == 4:
            return datetime(int(groups[0]), int(groups[1]), int(groups[2])).strftime("%Y-%m-%d")
        if groups[0].isdigit():
            month = _month_name(groups[1])
            return (
                datetime(int(groups[2]), MONTHS.index(month) + 1, int(groups[0])).strftime("%Y-%m-%d")
                if month
                else None
            )
        month = _month_name(groups[0])
        return datetime(int(groups[2]), MONTHS.index(month) + 1, int(groups[1])).strftime("%Y-%m-%d") if month else None
    except ValueError:
        return None
