"""Compact vector encodings for the lexical index: float16 chunk vectors, int8 sentence vectors (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def pack_f16(vector: Sequence[float]) -> bytes:
    """A vector as float16 bytes."""
    import numpy as np

    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack_f16(data: bytes) -> Any:
    """The float32 array of ``pack_f16`` bytes."""
    import numpy as np

    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def pack_int8(vectors: Sequence[Sequence[float]]) -> bytes:
    """Unit vectors as int8 with one float32 scale each: [count: u16][dim: u16][scales f32 x n][values i8 x n*dim]."""
    import numpy as np

    array = np.asarray(vectors, dtype=np.float32)
    if array.size == 0:
        return b""
    scales = np.maximum(np.abs(array).max(axis=1), 1e-12) / 127.0
    values = np.round(array / scales[:, None]).astype(np.int8)
    header = np.array(array.shape, dtype=np.uint16).tobytes()
    return header + scales.astype(np.float32).tobytes() + values.tobytes()


def unpack_int8(data: bytes) -> Any:
    """The float32 (n, dim) array of ``pack_int8`` bytes (empty (0, 0) for no bytes)."""
    import numpy as np

    if not data:
        return np.zeros((0, 0), dtype=np.float32)
    count, dim = (int(x) for x in np.frombuffer(data[:4], dtype=np.uint16))
    scales = np.frombuffer(data[4 : 4 + 4 * count], dtype=np.float32)
    values = np.frombuffer(data[4 + 4 * count : 4 + 4 * count + count * dim], dtype=np.int8).reshape(count, dim)
    return values.astype(np.float32) * scales[:, None]
