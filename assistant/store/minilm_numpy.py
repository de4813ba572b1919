"""all-MiniLM-L6-v2 run in numpy: the model's own weights (safetensors) and tokenizer, no torch.

Importing torch, transformers and sentence-transformers takes 6-7 s on 2 cores, which a one-shot ``assistant ask``
or the first question after start paid before it could embed one question. The encoder is a 6-layer BERT, so
its forward pass is a few matrix products: this module computes it with numpy (vectors agree with
sentence-transformers to a cosine of 0.99999 or better, ``tests/test_embedding.py``). It loads in well under a
second.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _erf(x: Any) -> Any:
    """Error function (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7), for BERT's exact GELU."""
    import numpy as np

    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: Any, weight: Any, bias: Any, eps: float) -> Any:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyMiniLM:
    """A BERT encoder with mean pooling and unit-length output, as sentence-transformers runs all-MiniLM-L6-v2."""

    def __init__(self, model_path: Path, max_seq_tokens: int) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        positions = config.get("position_embedding_type", "absolute")
        if config.get("hidden_act", "gelu") != "gelu" or positions != "absolute":
            raise ValueError("only BERT encoders with GELU and absolute positions run in numpy")
        import numpy as np

        weights = {k.removeprefix("bert."): v for k, v in load_file(str(model_path / "model.safetensors")).items()}
        # Dense weights stored transposed once, so every product is a plain row-major GEMM.
        self.w = {k: (np.ascontiguousarray(v.T) if v.ndim == 2 and ".layer." in k else v) for k, v in weights.items()}
        self.max_tokens = min(max_seq_tokens, int(config["max_position_embeddings"]))
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    def encode(self, texts: list[str]) -> Any:
        """Unit-length float32 vectors, one row per text (texts of one call are padded together)."""
        import numpy as np

        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(self.layers):
            x = self._layer(x, blocked, f"encoder.layer.{layer}.")
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def _layer(self, x: Any, blocked: Any, prefix: str) -> Any:
        import numpy as np

        w = self.w
        batch, length, _ = x.shape
        size = self.hidden // self.heads

        def dense(h: Any, name: str) -> Any:
            flat = h.reshape(-1, h.shape[-1]) @ w[f"{prefix}{name}.weight"] + w[f"{prefix}{name}.bias"]
            return flat.reshape(batch, length, -1)

        def split(h: Any) -> Any:
            return h.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q = split(dense(x, "attention.self.query"))
        k = split(dense(x, "attention.self.key"))
        v = split(dense(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
        ln = "attention.output.LayerNorm"
        x = _layer_norm(
            dense(context, "attention.output.dense") + x, w[f"{prefix}{ln}.weight"], w[f"{prefix}{ln}.bias"], self.eps
        )
        inner = dense(x, "intermediate.dense")
        inner = 0.5 * inner * (1.0 + _erf(inner / np.float32(math.sqrt(2.0))))
        out = dense(inner, "output.dense") + x
        return _layer_norm(out, w[f"{prefix}output.LayerNorm.weight"], w[f"{prefix}output.LayerNorm.bias"], self.eps)
