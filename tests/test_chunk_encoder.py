"""One pass per chunk: chunk vectors as sentence-transformers computes them, sentence vectors from the same states."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.store.chunk_encoder import encode_chunks

COUNCIL = "The Brackenford council met on Tuesday. It voted 7 to 2 to rebuild the Mill Lane bridge."
HARBOUR = "Harbour fees rise in March."


def _tokenizer():
    from tokenizers import Tokenizer

    from assistant.store.embedding import installed_model_path

    tokenizer = Tokenizer.from_file(str(installed_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.no_padding()
    return tokenizer


def _spans(text: str) -> list[tuple[int, int]]:
    first = text.index(".") + 1
    return [(0, first), (first + 1, len(text))] if first < len(text) else [(0, len(text))]


def _one_hot_forward(calls: list[tuple[int, int]]):
    """Token states that say which token they are (its id in one of 64 buckets), so pooling is checkable."""

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        calls.append(ids.shape)
        states = np.zeros((*ids.shape, 64), dtype=np.float32)
        np.put_along_axis(states, (ids % 64)[..., None], 1.0, axis=-1)
        return states

    return run


def test_each_chunk_is_read_once_in_length_sorted_batches() -> None:
    calls: list[tuple[int, int]] = []
    texts = [HARBOUR, COUNCIL, HARBOUR + " " + COUNCIL]
    encode_chunks(_tokenizer(), _one_hot_forward(calls), texts, [_spans(t) for t in texts], batch_size=2)
    assert [rows for rows, _ in calls] == [2, 1], "three chunks, batches of two: two calls, each chunk once"
    assert calls[0][1] > calls[1][1], "the longest chunks come first, the short one is not padded to their length"


def test_sentence_vector_pools_only_that_sentences_tokens() -> None:
    tokenizer = _tokenizer()
    encoded = encode_chunks(tokenizer, _one_hot_forward([]), [COUNCIL], [_spans(COUNCIL)])
    first, second = encoded.sentence_vectors[0]
    bridge = tokenizer.token_to_id("bridge") % 64
    council = tokenizer.token_to_id("council") % 64
    assert second[bridge] > 0 and first[bridge] == 0
    assert first[council] > 0 and second[council] == 0
    assert np.allclose(np.linalg.norm(encoded.vectors, axis=1), 1.0)


@pytest.mark.integration
def test_chunk_vectors_match_sentence_transformers_and_sentences_stay_close() -> None:
    from assistant.settings import EmbeddingSettings
    from assistant.store.embedding import SentenceTransformerEmbedder

    texts = [COUNCIL, HARBOUR, " ".join([COUNCIL] * 30)]  # the last runs past the 256-piece window
    embedder = SentenceTransformerEmbedder(EmbeddingSettings(numpy_up_to=0, ingest_encoder="torch"))
    encoded = embedder.encode_chunks(texts, [_spans(t) for t in texts])
    plain = np.array(embedder.embed(texts))
    assert (encoded.vectors * plain).sum(axis=1).min() > 0.9999
    alone = np.array(embedder.embed([COUNCIL[a:b] for a, b in _spans(COUNCIL)] + ["unrelated words"] * 8))[:2]
    in_context = encoded.sentence_vectors[0]
    assert np.diag(in_context @ alone.T).min() > 0.6, "a sentence read in its chunk still means what it says"
