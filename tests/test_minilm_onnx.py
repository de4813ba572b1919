"""The int8 ONNX ingest encoder: built once into the model cache, close to float32, rebuilt or replaced by torch
when it cannot be used."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.store import minilm_onnx

COUNCIL = "The Brackenford council met on Tuesday. It voted 7 to 2 to rebuild the Mill Lane bridge."
HARBOUR = "Harbour fees at Tillmouth rise in March. Fishing boats pay half."
LONG = " ".join([COUNCIL] * 30)  # runs past the 256-piece window


def _spans(text: str) -> list[tuple[int, int]]:
    first = text.index(".") + 1
    return [(0, first), (first + 1, len(text))]


def _tiny_encoder(path: Path) -> None:
    """A valid ONNX 'encoder' whose token states are the mask itself (batch, tokens, 1): a fake for unit tests."""
    from onnx import TensorProto, helper, save

    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])
    out = helper.make_tensor_value_info("token_states", TensorProto.FLOAT, ["batch", "tokens", 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [2])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["as_float", "axes"], ["token_states"]),
    ]
    graph = helper.make_graph(nodes, "tiny", [ids, mask], [out], initializer=[axes])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _fake_build(monkeypatch: pytest.MonkeyPatch, builds: list[Path]) -> None:
    monkeypatch.setattr(minilm_onnx, "_export_float32", lambda model_path, out: out.write_bytes(b"float32"))

    def quantize(float_file: Path, out: Path) -> None:
        builds.append(out)
        _tiny_encoder(out)

    monkeypatch.setattr(minilm_onnx, "_quantize", quantize)


def test_the_encoder_is_built_once_per_model_and_named_by_its_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 4}')
    (model / "model.safetensors").write_bytes(b"weights one")
    builds: list[Path] = []
    _fake_build(monkeypatch, builds)
    cache = tmp_path / "cache"
    first = minilm_onnx.quantized_model_file(model, cache)
    again = minilm_onnx.quantized_model_file(model, cache)
    assert first == again and len(builds) == 1, "a second data dir reuses the file in the cache"
    assert first.name.startswith("minilm-int8-") and first.suffix == ".onnx"
    assert [p.name for p in cache.iterdir()] == [first.name], "the build's scratch files are gone"
    (model / "model.safetensors").write_bytes(b"weights two")
    assert minilm_onnx.quantized_model_file(model, cache) != first and len(builds) == 2, "new weights, new file"
    states = minilm_onnx.onnx_forward(first)(np.ones((2, 3), dtype=np.int64), np.array([[1, 1, 0], [1, 0, 0]]))
    assert states.shape == (2, 3, 1) and states[:, :, 0].tolist() == [[1, 1, 0], [1, 0, 0]]


def test_a_cached_file_that_will_not_load_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    builds: list[Path] = []
    _fake_build(monkeypatch, builds)
    cache = tmp_path / "cache"
    built = minilm_onnx.quantized_model_file(model, cache)
    built.write_bytes(b"truncated by a full disk")
    with caplog.at_level(logging.WARNING):
        forward = minilm_onnx.load_quantized(model, cache)
    assert len(builds) == 2 and "rebuilding" in caplog.text
    assert forward(np.ones((1, 2), dtype=np.int64), np.ones((1, 2), dtype=np.int64)).shape == (1, 2, 1)


def test_a_build_that_fails_says_why_in_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model"
    model.mkdir()

    def no_exporter(model_path: Path, out: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(minilm_onnx, "_export_float32", no_exporter)
    with pytest.raises(minilm_onnx.OnnxEncoderError, match="exporter exploded"):
        minilm_onnx.quantized_model_file(model, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.onnx")), "nothing half-built is left to be loaded later"


@pytest.mark.integration
def test_int8_vectors_stay_close_to_float32_and_ingest_falls_back_to_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The real model: built from the installed package, chunk and sentence vectors near the float32 ones."""
    from assistant.settings import EmbeddingSettings
    from assistant.store.embedding import SentenceTransformerEmbedder

    texts = [COUNCIL, HARBOUR, LONG]
    spans = [_spans(t) for t in texts]
    int8 = SentenceTransformerEmbedder(EmbeddingSettings(), tmp_path / "cache")
    float32 = SentenceTransformerEmbedder(EmbeddingSettings(ingest_encoder="torch"), tmp_path / "cache")
    near = int8.encode_chunks(texts, spans)
    exact = float32.encode_chunks(texts, spans)
    assert int8.ingest_encoder == "onnx-int8" and float32.ingest_encoder == "torch"
    assert len(list((tmp_path / "cache").glob("minilm-int8-*.onnx"))) == 1
    assert (near.vectors * exact.vectors).sum(axis=1).min() > 0.97
    for ours, theirs in zip(near.sentence_vectors, exact.sentence_vectors, strict=True):
        assert (ours * theirs).sum(axis=1).min() > 0.95
    assert float(near.vectors[0] @ near.vectors[2]) > float(near.vectors[0] @ near.vectors[1]), "meaning kept"

    def no_exporter(model_path: Path, out: Path) -> None:
        raise ImportError("no onnx here")

    monkeypatch.setattr(minilm_onnx, "_export_float32", no_exporter)
    fallback = SentenceTransformerEmbedder(EmbeddingSettings(), tmp_path / "empty-cache")
    with caplog.at_level(logging.WARNING):
        vectors = fallback.encode_chunks(texts, spans).vectors
    assert fallback.ingest_encoder == "torch" and "ingest encodes with torch" in caplog.text
    assert np.allclose(vectors, exact.vectors, atol=1e-5)
