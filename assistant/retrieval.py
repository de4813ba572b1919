"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from assistant.embedding import Embedder
from assistant.settings import RetrievalSettings
from assistant.store import ChunkStore
from assistant.text import terms
from assistant.types import Chunk, Passage


class BM25Index:
    """Okapi BM25 over chunk texts (title included)."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = list(chunks)
        self._docs = [Counter(terms(f"{c.title}\n{c.text}")) for c in self.chunks]
        self._lengths = [sum(d.values()) for d in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        n = len(self._docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def search(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """Top ``n`` chunks with positive score."""
        query_terms = terms(query)
        scored = []
        for chunk, doc, length in zip(self.chunks, self._docs, self._lengths, strict=True):
            score = 0.0
            for term in query_terms:
                tf = doc.get(term, 0)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / (self._avg or 1))
                    score += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / norm
            if score > 0:
                scored.append((chunk, score))
        scored.sort(key=lambda pair: -pair[1])
        return scored[:n]


def fuse(rankings: Sequence[Sequence[Chunk]], k: int) -> list[tuple[Chunk, float, list[int | None]]]:
    """Reciprocal rank fusion: each chunk scores sum(1 / (k + rank)) over the rankings it appears in."""
    scores: dict[str, float] = {}
    ranks: dict[str, list[int | None]] = {}
    chunks: dict[str, Chunk] = {}
    for which, ranking in enumerate(rankings):
        for rank, chunk in enumerate(ranking, start=1):
            scores[chunk.id] = scores.get(chunk.id, 0.0) + 1.0 / (k + rank)
            ranks.setdefault(chunk.id, [None] * len(rankings))[which] = rank
            chunks[chunk.id] = chunk
    ordered = sorted(scores, key=lambda cid: -scores[cid])
    return [(chunks[cid], scores[cid], ranks[cid]) for cid in ordered]


class HybridRetriever:
    """Dense + lexical retrieval over one store; the lexical index is rebuilt when the store changes."""

    def __init__(self, store: ChunkStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._index: BM25Index | None = None
        self._index_key: Any = None
        self._lock = threading.Lock()

    def _lexical_index(self, filters: dict[str, Any] | None) -> BM25Index:
        if filters:
            return BM25Index(self.store.all_chunks(filters))
        key = (self.store.chunk_count(), tuple(sorted(d.content_hash for d in self.store.documents().values())))
        with self._lock:
            if self._index is None or key != self._index_key:
                self._index = BM25Index(self.store.all_chunks())
                self._index_key = key
            return self._index

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
        vector = query_vector if query_vector is not None else self.embedder.embed([query])[0]
        dense = [chunk for chunk, _ in self.store.query(vector, n, filters)]
        lexical = [chunk for chunk, _ in self._lexical_index(filters).search(query, n)]
        fused = fuse([dense, lexical], self.settings.rrf_k)[:top_k]
        return [Passage(chunk=chunk, score=score, dense_rank=r[0], lexical_rank=r[1]) for chunk, score, r in fused]
