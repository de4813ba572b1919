"""Dates of a question: the day it is asked on (``as_of``) and the days its words name ("this week", "in January").

Pure functions over text and ``datetime.date``; nothing here reads the archive. A window is inclusive at both ends.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.errors import QuestionError

MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


@dataclass(frozen=True)
class TimeWindow:
    """Days a question is about, resolved against the day it was asked."""

    start: date
    end: date
    phrase: str
    """The words of the question that named these days ("this week")."""
    exact: bool = True
    """True for days named relative to the day of asking ("this week", "yesterday"); False for vague words
    ("recently") and for a bare month, weekday or year, which may date the event rather than the report."""

    def holds(self, day: date) -> bool:
        """True when ``day`` falls inside the window."""
        return self.start <= day <= self.end

    def days_outside(self, day: date) -> int:
        """0 inside the window, else the days from its nearer end."""
        if day < self.start:
            return (self.start - day).days
        if day > self.end:
            return (day - self.end).days
        return 0

    def label(self) -> str:
        """The window in words: "5 January 2023", "1–7 January 2023", "28 December 2022 – 3 January 2023"."""
        return describe_days(self.start, self.end)


def describe_days(start: date, end: date) -> str:
    """Days in words, as a reader writes them."""
    if start == end:
        return f"{start.day} {MONTHS[start.month - 1].title()} {start.year}"
    if start.day == 1 and end == _month_end(start.year, start.month) and start.month == end.month:
        return f"{MONTHS[start.month - 1].title()} {start.year}"
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return str(start.year)
    if start.year == end.year and start.month == end.month:
        return f"{start.day}\u2013{end.day} {MONTHS[start.month - 1].title()} {start.year}"
    if start.year == end.year:
        return (
            f"{start.day} {MONTHS[start.month - 1].title()} \u2013 {end.day} {MONTHS[end.month - 1].title()} {end.year}"
        )
    return f"{describe_days(start, start)} \u2013 {describe_days(end, end)}"


def parse_as_of(value: date | datetime | str | None) -> date:
    """The day a question is asked on: a date, an ISO string (YYYY-MM-DD), or None for today.

    Anything else is a QuestionError that says what is expected.
    """
    if value is None:
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text) else _bad(text)
        except ValueError:
            return _bad(text)
    raise QuestionError(f"as_of must be a date or YYYY-MM-DD text, not {type(value).__name__}.")


def _bad(text: str) -> date:
    raise QuestionError(f"as_of {text[:40]!r} is not a date: write it as YYYY-MM-DD (for example 2023-01-06).")


def parse_published(text: str) -> date | None:
    """The day an article was published, from its stored ``published`` text (ISO date or datetime), else None."""
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", text or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _month_window(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), _month_end(year, month)


_PATTERNS: tuple[tuple[str, str], ...] = (
    ("month_year", rf"\b(?:in\s+|of\s+|during\s+)?{_MONTH}\s+(\d{{4}})\b"),
    ("year", r"\b(?i:in|of|during|since)\s+((?:19|20)\d{2})\b|\b((?:19|20)\d{2})(?:'s)?\s+(?=[A-Z])"),
    ("today", r"\b(today|tonight|this morning|this afternoon|this evening)\b"),
    ("yesterday", r"\b(yesterday|last night)\b"),
    ("this_week", r"\b(this week|this past week|the past week|past week|last few days|past few days)\b"),
    ("last_week", r"\b(last week|a week ago)\b"),
    ("this_month", r"\b(this month|the past month|past month)\b"),
    ("last_month", r"\b(last month)\b"),
    ("this_year", r"\b(this year)\b"),
    ("last_year", r"\b(last year)\b"),
    ("recently", r"\b(recently|recent|lately|latest)\b"),
    ("weekday", rf"\b(?:on|last|this)\s+{_WEEKDAY}\b"),
    ("month", rf"\b(?:in|of|during|since|early|late|mid-?)\s+{_MONTH}\b"),
)
_CASE_SENSITIVE = frozenset({"year"})  # "the 2023 Golden Globes": a year before a name, not "2000 troops"
_COMPILED = tuple((name, re.compile(pattern, 0 if name in _CASE_SENSITIVE else re.I)) for name, pattern in _PATTERNS)

_RELATIVE = frozenset("today yesterday this_week last_week this_month last_month this_year last_year".split())
"""Words that name days relative to the day of asking: only for these does an empty window mean the archive lacks
the story. A bare month, weekday or year ("halted in early February") often dates an event an article reports
later, and "recently" is vague."""

RECENT_DAYS = 14
"""What "recently" and "latest" cover before ``as_of``: news words for the last days, not an exact span."""


def resolve_times(question: str, as_of: date) -> TimeWindow | None:
    """The days the question names, resolved against ``as_of``; None when it names none.

    The first matching expression in order of precision wins: a month with its year, a year, a named day,
    a week, a month, a year, then a weekday or a bare month (the latest one not after ``as_of``).
    """
    for name, pattern in _COMPILED:
        match = pattern.search(question)
        if match is None:
            continue
        window = _window(name, match, as_of)
        if window is not None:
            start, end = window
            return TimeWindow(start=start, end=min(end, as_of), phrase=match.group(0).strip(), exact=name in _RELATIVE)
    return None


def _window(name: str, match: re.Match[str], as_of: date) -> tuple[date, date] | None:
    if name == "month_year":
        return _month_window(int(match.group(2)), MONTHS.index(match.group(1).lower()) + 1)
    if name == "year":
        year = int(match.group(1) or match.group(2))
        return (date(year, 1, 1), date(year, 12, 31)) if year <= as_of.year else None
    if name == "today":
        return as_of, as_of
    if name == "yesterday":
        day = as_of - timedelta(days=1)
        return day, day
    if name == "this_week":
        return as_of - timedelta(days=6), as_of
    if name == "last_week":
        return as_of - timedelta(days=13), as_of - timedelta(days=7)
    if name == "this_month":
        return as_of - timedelta(days=30), as_of
    if name == "last_month":
        first = as_of.replace(day=1) - timedelta(days=1)
        return _month_window(first.year, first.month)
    if name == "this_year":
        return date(as_of.year, 1, 1), as_of
    if name == "last_year":
        return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
    if name == "recently":
        return as_of - timedelta(days=RECENT_DAYS), as_of
    if name == "weekday":
        back = (as_of.weekday() - WEEKDAYS.index(match.group(1).lower())) % 7
        day = as_of - timedelta(days=back)
        return day, day
    if name == "month":
        month = MONTHS.index(match.group(1).lower()) + 1
        year = as_of.year if month <= as_of.month else as_of.year - 1
        return _month_window(year, month)
    return None
