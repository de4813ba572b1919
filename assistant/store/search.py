"""Vector search with filters: Chroma's nearest neighbours narrowed by the lexical index, or exact in a small set.

A filter that leaves few chunks is searched exactly over the vectors the lexical index keeps; a broad one
over-fetches neighbours from Chroma and keeps those that pass. Chroma's own filtered search serves only a store
whose lexical index is not built yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from assistant.store.chroma import chunk_from_record
from assistant.store.lexical import Entry, Filters, LexicalIndex
from assistant.store.records import filter_dict, where_clause
from assistant.store.vectors import unpack_f16
from assistant.types import Chunk

Call = Callable[[str, Any], Any]
"""Runs one Chroma call under the store's retries: ``call(what, function)``."""
EXACT_SEARCH_LIMIT = 300
"""A filter that leaves at most this many chunks is searched exactly, over the vectors the lexical index keeps."""
OVERFETCH_LIMIT = 4000
"""Most neighbours fetched from the vector index to find ``n`` that pass a broad filter."""


def dense_search(
    chunks: Any, lexical: LexicalIndex, call: Call, vector: list[float], n: int, filters: Filters
) -> list[tuple[str, float]]:
    """Ids and cosine similarities of the ``n`` nearest chunks passing ``filters``."""
    if filters.empty:
        return nearest(chunks, call, vector, n)
    if not lexical.exists():
        return [(c.id, s) for c, s in chroma_query(chunks, call, vector, n, filters)]
    matching = lexical.count(filters)
    if matching == 0:
        return []
    if matching <= EXACT_SEARCH_LIMIT:
        return exact(vector, lexical.within(filters, matching), n)
    total = max(matching, lexical.count(Filters()))
    want = min(total, math.ceil(n * total / matching * 1.5) + n)
    while True:
        near = nearest(chunks, call, vector, want)
        passing = lexical.passing([i for i, _ in near], filters)
        kept = [(i, s) for i, s in near if i in passing]
        if len(kept) >= n or want >= min(total, OVERFETCH_LIMIT):
            return kept[:n]
        want = min(total, OVERFETCH_LIMIT, want * 3)


def nearest(chunks: Any, call: Call, vector: list[float], n: int) -> list[tuple[str, float]]:
    """Ids and cosine similarities of the ``n`` nearest chunks in Chroma."""
    # No count first: Chroma returns what it has when asked for more (and nothing from an empty collection),
    # and a count per question cost as much as the search itself.
    got = call(
        "search vectors",
        lambda: chunks.query(query_embeddings=[vector], n_results=max(1, n), include=["distances"]),
    )
    ids, distances = (got.get("ids") or [[]])[0], (got.get("distances") or [[]])[0]
    return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]


def chroma_query(chunks: Any, call: Call, vector: list[float], n: int, filters: Filters) -> list[tuple[Chunk, float]]:
    """Chroma's own filtered search: correct but slow on large stores (used only before the index exists)."""
    count = int(call("count chunks", lambda: chunks.count()))
    if count == 0:
        return []
    where = where_clause({k: v for k, v in filter_dict(filters).items() if v})
    got = call(
        "search vectors",
        lambda: chunks.query(
            query_embeddings=[vector],
            n_results=min(n, count),
            where=where,
            include=["documents", "metadatas", "distances"],
        ),
    )
    return [
        (chunk_from_record(i, d, m), 1.0 - float(dist))
        for i, d, m, dist in zip(
            got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
        )
    ]


def exact(vector: list[float], entries: list[Entry], n: int) -> list[tuple[str, float]]:
    """The ``n`` entries most similar to ``vector``, by cosine over their stored vectors."""
    import numpy as np

    usable = [e for e in entries if e.vector]
    if not usable:
        return []
    matrix = np.stack([unpack_f16(e.vector) for e in usable])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    order = np.argsort(-scores)[:n]
    return [(usable[i].chunk.id, float(scores[i])) for i in order]
