"""One encoder pass per chunk gives the chunk's vector and its sentences' vectors (pooled from its token states).

Ingest used to embed every chunk and then every sentence again on its own: about twice the work of encoding the
chunks once. Here each chunk is read by the model once; the chunk vector is the mean of its token states (what
sentence-transformers computes for all-MiniLM-L6-v2) and each sentence vector is the mean of the token states
inside that sentence's characters, so the sentence is read in the context of its chunk. Texts are sorted by
length into batches so that padding costs little.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Forward = Callable[[Any, Any], Any]
"""(input_ids, attention_mask) as int64 arrays (batch, length) -> token states (batch, length, dim) as float32."""


@dataclass(frozen=True)
class EncodedChunks:
    """Unit-length chunk vectors (n, dim) and, per chunk, its sentence vectors (sentences, dim)."""

    vectors: Any
    sentence_vectors: list[Any]


def _unit(rows: Any) -> Any:
    import numpy as np

    return (rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def encode_chunks(
    tokenizer: Any,
    forward: Forward,
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    *,
    batch_size: int = 32,
) -> EncodedChunks:
    """Chunk and sentence vectors of ``texts`` in one pass; ``spans`` are each text's sentences as character spans.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` with truncation set and padding off. A sentence whose tokens all
    fall past the truncation point gets the chunk's vector (it is read only as part of the chunk)."""
    import numpy as np

    encodings = tokenizer.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
    vectors: list[Any] = [None] * len(texts)
    sentences: list[Any] = [None] * len(texts)
    for at in range(0, len(order), batch_size):
        rows = order[at : at + batch_size]
        length = max(len(encodings[i].ids) for i in rows)
        ids = np.zeros((len(rows), length), dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for r, i in enumerate(rows):
            n = len(encodings[i].ids)
            ids[r, :n] = encodings[i].ids
            mask[r, :n] = 1
        states = np.asarray(forward(ids, mask), dtype=np.float32)
        for r, i in enumerate(rows):
            n = len(encodings[i].ids)
            own = states[r, :n]
            chunk = own.mean(axis=0)
            vectors[i] = chunk
            sentences[i] = _pool_sentences(own, encodings[i].offsets, encodings[i].special_tokens_mask, spans[i], chunk)
    dim = vectors[0].shape[0] if vectors else 0
    matrix = _unit(np.vstack(vectors)) if vectors else np.zeros((0, dim), dtype=np.float32)
    return EncodedChunks(matrix, [_unit(s) for s in sentences])


def _pool_sentences(
    states: Any,
    offsets: Sequence[tuple[int, int]],
    special: Sequence[int],
    spans: Sequence[tuple[int, int]],
    chunk: Any,
) -> Any:
    """Mean token state of each span: the tokens whose characters lie in it (special tokens left out)."""
    import numpy as np

    starts = np.array([o[0] for o in offsets])
    ends = np.array([o[1] for o in offsets])
    real = np.array(special) == 0
    pooled = np.empty((len(spans), states.shape[1]), dtype=np.float32)
    for j, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (ends <= end) & (ends > starts)
        pooled[j] = states[inside].mean(axis=0) if inside.any() else chunk
    return pooled


def torch_forward(model: Any) -> Forward:
    """A ``Forward`` over a Hugging Face BERT model (``SentenceTransformer[0].auto_model``), without gradients."""
    import torch

    def run(ids: Any, mask: Any) -> Any:
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return out.last_hidden_state.numpy()

    return run
