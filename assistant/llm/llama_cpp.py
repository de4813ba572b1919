"""In-process llama.cpp backend; one Llama object, calls serialized (it is not thread-safe)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.errors import ModelCorruptError
from assistant.llm.base import ChatMessage


class LlamaCppLLM:
    """A GGUF chat model run by llama-cpp-python with the model's own chat template, greedy by default."""

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        *,
        name: str = "",
        n_ctx: int = 4096,
        n_threads: int | None = None,
        temperature: float = 0.0,
    ) -> None:
        self._model_path = model_path
        self.name = name or str(model_path)
        self._n_ctx = n_ctx
        self._n_threads = n_threads or os.cpu_count() or 2
        self._temperature = temperature
        self._llama: Any = None
        self._lock = threading.RLock()

    def _load(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            path = self._model_path() if callable(self._model_path) else self._model_path
            try:
                self._llama = Llama(
                    model_path=str(path),
                    n_ctx=self._n_ctx,
                    n_threads=self._n_threads,
                    n_batch=512,
                    seed=0,
                    verbose=False,
                )
            except ValueError as err:
                raise ModelCorruptError(f"llama.cpp could not load {path}: {err}") from err
        return self._llama

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus reply."""
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under the model's tokenizer."""
        with self._lock:
            return len(self._load().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[ChatMessage], *, max_tokens: int) -> Iterator[str]:
        """Yield reply deltas; holds the model for the whole generation."""
        with self._lock:
            llama = self._load()
            chunks = llama.create_chat_completion(
                messages=list(messages),
                temperature=self._temperature,
                top_k=1 if self._temperature == 0 else 40,
                max_tokens=max_tokens,
                stream=True,
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta
