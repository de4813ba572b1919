"""How old the cited articles are on the day a question is asked: an answer read only in old stories says so.

On the RealTime QA development and calibration weeks (docs/benchmarks.md), answers whose newest cited article was
more than 30 days old on the day asked were right 5 times in 40, against 18 in 34 for answers citing a fresher
one: a news question asks about the story as it stands, and an old article often tells an earlier chapter (a
prime minister since replaced, last year's winner). The answer stays; the reader is told how old its source is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from assistant.times import describe_days, parse_published
from assistant.types import Answer, Citation


def newest_cited(citations: Sequence[Citation]) -> date | None:
    """The publication day of the newest dated article ``citations`` come from (None: none is dated)."""
    days = [day for day in (parse_published(c.published) for c in citations) if day is not None]
    return max(days, default=None)


def stale_note(newest: date, as_of: date) -> str:
    """The sentence that tells the reader how old the answer's newest source is."""
    age = (as_of - newest).days
    return (
        f"The newest article cited is from {describe_days(newest, newest)}, {age:,} days before "
        f"{describe_days(as_of, as_of)}: later articles may tell a different story."
    )


def with_freshness(answer: Answer, as_of: date | None, stale_after_days: int) -> Answer:
    """``answer`` with the age of its newest cited article in its signals (``cited_age_days``) and, when that
    article is more than ``stale_after_days`` old on ``as_of`` (0: never), a note saying so."""
    if as_of is None:
        return answer
    newest = newest_cited(answer.citations)
    if newest is None:
        return answer
    age = (as_of - newest).days
    note = stale_note(newest, as_of) if 0 < stale_after_days < age else ""
    signals = {**answer.signals, "cited_age_days": float(age), "cited_stale": float(bool(note))}
    return dataclasses.replace(answer, signals=signals, stale_note=note)
