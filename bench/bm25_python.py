"""The former pure-Python BM25 (rebuilt from every chunk whenever the store changed), kept to benchmark against."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from assistant.text import terms
from assistant.types import Chunk


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
