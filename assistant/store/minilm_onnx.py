"""all-MiniLM-L6-v2 for ingest through ONNX Runtime with int8 weights: about twice as fast as torch on 2 cores.

Ingest time is almost all encoder time (one pass per chunk, ``chunk_encoder.py``). The packaged float32 weights
are exported once to ONNX (``torch.onnx``) and their matrix weights quantized to int8 per output channel
(``onnxruntime.quantization``); the file goes to the per-user model cache under a name that carries a hash of the
weights, so every data dir shares it and a new model gets a new file. Vectors agree with the float32 model to a
cosine of about 0.99 (``tests/test_minilm_onnx.py``; retrieval measured in ``docs/benchmarks.md``). Questions
are still embedded in float32 (``minilm_numpy.py``).

Nothing is downloaded: the export reads the installed package's files only. Building the file needs torch,
sentence-transformers and ``onnx``; once it is in the cache, ingest needs none of them (only onnxruntime).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from assistant.store.chunk_encoder import Forward

log = logging.getLogger(__name__)

QUANTIZED_PREFIX = "minilm-int8"


class OnnxEncoderError(RuntimeError):
    """The int8 encoder could not be built or loaded (the caller falls back to torch)."""


def weights_key(model_path: Path) -> str:
    """A short hash of the model's weights and config: the cached file is rebuilt when either changes."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = model_path / name
        if path.exists():
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def quantized_model_file(model_path: Path, cache_dir: Path) -> Path:
    """The int8 ONNX file for the model in ``model_path``, built into ``cache_dir`` on first use."""
    target = cache_dir / f"{QUANTIZED_PREFIX}-{weights_key(model_path)}.onnx"
    if target.exists():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".export-") as work:
            float_file = Path(work) / "float32.onnx"
            int8_file = Path(work) / "int8.onnx"
            _export_float32(model_path, float_file)
            _quantize(float_file, int8_file)
            os.replace(int8_file, target)  # atomic: a second process building at once writes the same bytes
    except OnnxEncoderError:
        raise
    except Exception as err:  # the exporters raise many kinds; any of them means: use torch instead
        raise OnnxEncoderError(f"cannot build the int8 encoder: {type(err).__name__}: {err}") from err
    log.info("built the int8 ingest encoder %s", target)
    return target


def _export_float32(model_path: Path, out: Path) -> None:
    try:
        import onnx  # noqa: F401  (torch.onnx needs it to write the file)
    except ImportError as err:
        raise OnnxEncoderError("the onnx package is not installed (`pip install onnx`)") from err
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer

    bert: Any = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)[0].auto_model
    bert.eval()

    class TokenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones((2, 8), dtype=torch.int64), torch.ones((2, 8), dtype=torch.int64))
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenStates(),
            example,
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["token_states"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_states": axes},
            opset_version=17,
            dynamo=False,
        )


def _quantize(float_file: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it advises "pre-processing" on the root logger; the model needs none
    try:
        quantize_dynamic(str(float_file), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        quiet.setLevel(level)


def load_quantized(model_path: Path, cache_dir: Path) -> Forward:
    """The int8 encoder's ``Forward``, built on first use; a cached file that will not load is rebuilt once."""
    model_file = quantized_model_file(model_path, cache_dir)
    try:
        return onnx_forward(model_file)
    except OnnxEncoderError as err:
        log.warning("rebuilding the int8 ingest encoder: %s", err)
        model_file.unlink(missing_ok=True)
        return onnx_forward(quantized_model_file(model_path, cache_dir))


def onnx_forward(model_file: Path) -> Forward:
    """A ``Forward`` over the ONNX file: int64 ids and mask in, float32 token states out."""
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # a truncated or foreign file, or no onnxruntime
        raise OnnxEncoderError(f"cannot load {model_file}: {type(err).__name__}: {err}") from err

    def run(ids: Any, mask: Any) -> Any:
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    return run
