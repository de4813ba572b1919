"""Hybrid retrieval: dense (Chroma) and lexical (BM25, ``lexical.py``) rankings fused by reciprocal rank.

Both searches apply the filters themselves and return ids; only the few fused chunks are then read. Nothing
per question reads all chunks or all article records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.settings import RetrievalSettings
from assistant.store.chunk_store import ChunkStore, make_filters
from assistant.store.embedding import Embedder
from assistant.types import Passage


def fuse(rankings: Sequence[Sequence[str]], k: int) -> list[tuple[str, float, list[int | None]]]:
    """Reciprocal rank fusion of id rankings: each id scores sum(1 / (k + rank)) over the rankings it is in."""
    scores: dict[str, float] = {}
    ranks: dict[str, list[int | None]] = {}
    for which, ranking in enumerate(rankings):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            ranks.setdefault(item, [None] * len(rankings))[which] = rank
    ordered = sorted(scores, key=lambda item: -scores[item])
    return [(item, scores[item], ranks[item]) for item in ordered]


def keep_leaders(
    fused: Sequence[tuple[str, float, list[int | None]]], rankings: Sequence[Sequence[str]], top_k: int
) -> list[tuple[str, float, list[int | None]]]:
    """The best ``top_k`` of ``fused``, always holding the first hit of every ranking.

    Reciprocal rank fusion alone drops an id that only one search found, even at its first place (1/61 loses to
    two middling ranks, 1/63 + 1/62): on a large archive the one article naming a rare word can rank first
    lexically and nowhere among the nearest vectors. Each search's best hit therefore keeps a place.
    """
    leaders = {ranking[0] for ranking in rankings if ranking}
    chosen = {item for item, _, _ in fused if item in leaders}
    for item, _, _ in fused:
        if len(chosen) >= max(top_k, len(leaders)):
            break
        chosen.add(item)
    return [entry for entry in fused if entry[0] in chosen]


class HybridRetriever:
    """Dense + lexical retrieval over one store."""

    def __init__(self, store: ChunkStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def retrieve(
        self,
        query: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        query_vector: list[float] | None = None,
    ) -> list[Passage]:
        """The ``top_k`` fused passages for ``query``."""
        top_k = top_k or self.settings.top_k
        n = max(self.settings.candidates, top_k)
        wanted = make_filters(filters)
        vector = query_vector if query_vector is not None else self.embedder.embed([query])[0]
        dense = [i for i, _ in self.store.dense_search(vector, n, wanted)]
        lexical = [i for i, _ in self.store.lexical_search(query, n, wanted)]
        fused = keep_leaders(fuse([dense, lexical], self.settings.rrf_k), [dense, lexical], top_k)
        chunks = self.store.chunks_by_id([i for i, _, _ in fused])
        return [
            Passage(chunk=chunks[i], score=score, dense_rank=r[0], lexical_rank=r[1])
            for i, score, r in fused
            if i in chunks
        ]
