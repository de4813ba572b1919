"""Near-duplicate articles: MinHash signatures of word shingles and their estimated Jaccard similarity (pure).

The same wire story republished with a new headline or a corrected line should not be stored twice: every
question about it would then cite two copies of one sentence. Each article gets a signature of
``SIGNATURE_SIZE`` minimum hashes over its 5-word shingles; the share of equal positions in two signatures
estimates the Jaccard similarity of their shingle sets (about +-0.06 at 64 hashes).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

SIGNATURE_SIZE = 64
SHINGLE_WORDS = 5
BAND_ROWS = 4  # 16 bands of 4: a pair at similarity 0.9 shares a band with probability > 0.999, at 0.3 about 0.12
_PRIME = 4_294_967_311  # the first prime above 2**32
_WORD = re.compile(r"\w+")


def _hash32(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")


# Fixed permutations (a * x + b) mod p, derived from their index so they never change between runs or machines.
_COEFFICIENTS = tuple((1 + _hash32(b"a%d" % i) % (2**31 - 1), _hash32(b"b%d" % i)) for i in range(SIGNATURE_SIZE))


def shingles(text: str) -> set[str]:
    """Lowercased runs of ``SHINGLE_WORDS`` consecutive words (the whole text when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(text: str) -> tuple[int, ...]:
    """The MinHash signature of ``text`` (empty for a text without words)."""
    import numpy as np

    found = shingles(text)
    if not found:
        return ()
    hashes = np.fromiter((_hash32(s.encode()) for s in found), dtype=np.uint64, count=len(found))
    a = np.array([c[0] for c in _COEFFICIENTS], dtype=np.uint64)[:, None]
    b = np.array([c[1] for c in _COEFFICIENTS], dtype=np.uint64)[:, None]
    # a < 2**31 and hashes < 2**32, so a * hash + b stays below 2**64.
    return tuple(int(v) for v in ((a * hashes[None, :] + b) % np.uint64(_PRIME)).min(axis=1))


def similarity(first: Sequence[int], second: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures (0 when either is empty)."""
    if not first or len(first) != len(second):
        return 0.0
    return sum(x == y for x, y in zip(first, second, strict=True)) / len(first)


def encode(sig: Sequence[int]) -> str:
    """A signature as a compact string for the store's metadata."""
    return ".".join(f"{v:x}" for v in sig)


def decode(text: str) -> tuple[int, ...]:
    """The signature written by ``encode`` (empty for an empty or malformed string)."""
    try:
        return tuple(int(part, 16) for part in text.split(".")) if text else ()
    except ValueError:
        return ()


class SignatureIndex:
    """Signatures by doc id, banded (locality-sensitive hashing) so a lookup compares few candidates."""

    def __init__(self) -> None:
        self._signatures: dict[str, tuple[int, ...]] = {}
        self._bands: defaultdict[tuple[int, tuple[int, ...]], set[str]] = defaultdict(set)

    def add(self, doc_id: str, sig: tuple[int, ...]) -> None:
        """Record (or replace) the signature of ``doc_id``; an empty signature is not recorded."""
        self.remove(doc_id)
        if not sig:
            return
        self._signatures[doc_id] = sig
        for band in _bands(sig):
            self._bands[band].add(doc_id)

    def remove(self, doc_id: str) -> None:
        """Forget ``doc_id`` if it is known."""
        old = self._signatures.pop(doc_id, None)
        for band in _bands(old or ()):
            self._bands[band].discard(doc_id)

    def nearest(self, sig: tuple[int, ...], *, exclude: str = "") -> tuple[str, float]:
        """The most similar recorded document other than ``exclude`` and its similarity ("", 0.0 if none)."""
        candidates = {doc for band in _bands(sig) for doc in self._bands.get(band, ())} - {exclude}
        best = ("", 0.0)
        for doc_id in sorted(candidates):
            score = similarity(sig, self._signatures[doc_id])
            if score > best[1]:
                best = (doc_id, score)
        return best


def _bands(sig: Sequence[int]) -> list[tuple[int, tuple[int, ...]]]:
    return [(i, tuple(sig[i : i + BAND_ROWS])) for i in range(0, len(sig), BAND_ROWS)]
