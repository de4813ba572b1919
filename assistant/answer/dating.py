"""Time in retrieval: no article after the day a question is asked on, and the story of the right days first.

A passage's fused score is weighed by how near its article's date is to the days the question names ("this
week"), or, when it names none, to the day it is asked on: news questions are about what happened lately, and an
archive holds many stories alike (storms, award shows, elections every year). Undated articles keep a neutral
weight and stay usable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from assistant.settings import RetrievalSettings
from assistant.times import TimeWindow, parse_published
from assistant.types import Passage


class Retriever(Protocol):
    """What dated retrieval needs of a retriever."""

    def retrieve(
        self,
        query: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        query_vector: list[float] | None = None,
    ) -> list[Passage]: ...


@dataclass(frozen=True)
class DatedPassages:
    """Passages ranked with time, their weights by chunk id, and whether the named days hold any article."""

    passages: list[Passage]
    weights: dict[str, float]
    window_is_empty: bool = False


def dated_filters(filters: dict[str, Any] | None, as_of: date | None) -> dict[str, Any] | None:
    """The filters with nothing published after ``as_of`` (the earlier of it and a ``published_to`` given)."""
    if as_of is None:
        return filters
    merged = dict(filters or {})
    given = parse_published(str(merged.get("published_to") or ""))
    merged["published_to"] = min(given, as_of).isoformat() if given else as_of.isoformat()
    return merged


def time_weight(published: str, window: TimeWindow | None, as_of: date | None, settings: RetrievalSettings) -> float:
    """How much a passage of an article published on ``published`` counts: 1 inside the named days, less with
    every day away from them (or, with no days named, with its age on ``as_of``); undated articles a fixed share."""
    if as_of is None:
        return 1.0
    day = parse_published(published)
    if day is None:
        return settings.undated_weight if window is not None or settings.recency_half_life_days > 0 else 1.0
    if window is not None:
        away = window.days_outside(day)
        half_life = settings.window_half_life_days
    else:
        away = max(0, (as_of - day).days)
        half_life = settings.recency_half_life_days
    if half_life <= 0:
        return 1.0
    floor = settings.time_weight_floor
    return floor + (1.0 - floor) * math.exp(-math.log(2) * away / half_life)


def retrieve_dated(
    retriever: Retriever,
    query: str,
    *,
    settings: RetrievalSettings,
    top_k: int | None,
    filters: dict[str, Any] | None,
    query_vector: list[float],
    as_of: date | None,
    window: TimeWindow | None,
) -> DatedPassages:
    """The ``top_k`` passages of articles published by ``as_of``, fused score times time weight.

    A wider pool than ``top_k`` is fetched so that the weight can lift a story of the right days over an older one;
    when days are named, the best passages inside them are fetched on their own too, so they are never missed.
    """
    top_k = top_k or settings.top_k
    wanted = dated_filters(filters, as_of)
    if as_of is None:
        passages = retriever.retrieve(query, top_k=top_k, filters=wanted, query_vector=query_vector)
        return DatedPassages(passages, {p.chunk.id: 1.0 for p in passages})
    pool = retriever.retrieve(query, top_k=max(top_k, settings.time_pool), filters=wanted, query_vector=query_vector)
    inside: list[Passage] = []
    if window is not None:
        named = {**(wanted or {}), "published_from": window.start.isoformat(), "published_to": window.end.isoformat()}
        inside = retriever.retrieve(query, top_k=top_k, filters=named, query_vector=query_vector)
    merged = _by_chunk([*pool, *_below(inside, pool)])
    weights = {p.chunk.id: time_weight(p.chunk.published, window, as_of, settings) for p in merged}
    ranked = _keep_leaders(sorted(merged, key=lambda p: -p.score * weights[p.chunk.id]), top_k)
    return DatedPassages(ranked, weights, window_is_empty=window is not None and window.exact and not inside)


def _keep_leaders(ranked: list[Passage], top_k: int) -> list[Passage]:
    """The first ``top_k`` of ``ranked``, always with the first hit of each search (as fusion keeps it: the one
    article naming a rare word may rank first lexically and nowhere among the nearest vectors)."""
    leaders = [p for p in ranked if p.dense_rank == 1 or p.lexical_rank == 1]
    kept = {p.chunk.id for p in leaders}
    for passage in ranked:
        if len(kept) >= max(top_k, len(leaders)):
            break
        kept.add(passage.chunk.id)
    return [p for p in ranked if p.chunk.id in kept]


def _below(inside: Sequence[Passage], pool: Sequence[Passage]) -> list[Passage]:
    """Passages of the named days that the wide pool missed, scored just below its last (their own fused scores
    come from a smaller race and would outrank better passages)."""
    import dataclasses

    pooled = {p.chunk.id for p in pool}
    lowest = min((p.score for p in pool), default=1.0)
    return [
        dataclasses.replace(p, score=lowest * (1.0 - 0.01 * rank))
        for rank, p in enumerate((p for p in inside if p.chunk.id not in pooled), start=1)
    ]


def _by_chunk(passages: Sequence[Passage]) -> list[Passage]:
    """Each chunk once, with its best score."""
    best: dict[str, Passage] = {}
    for passage in passages:
        kept = best.get(passage.chunk.id)
        if kept is None or passage.score > kept.score:
            best[passage.chunk.id] = passage
    return list(best.values())
