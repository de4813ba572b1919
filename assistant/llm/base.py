"""The protocol every backend implements, and the factory that picks one from settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypedDict

from assistant.settings import Settings


class ChatMessage(TypedDict):
    """One chat turn in OpenAI form."""

    role: str
    content: str


class ChatLLM(Protocol):
    """A chat model: greedy, bounded, streaming."""

    name: str

    def stream(self, messages: list[ChatMessage], *, max_tokens: int) -> Iterator[str]:
        """Yield text deltas of the reply."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` (an estimate is fine for remote servers)."""
        ...

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus reply the model accepts."""
        ...


def complete(llm: ChatLLM, messages: list[ChatMessage], *, max_tokens: int) -> str:
    """The whole reply as one string."""
    return "".join(llm.stream(messages, max_tokens=max_tokens))


def _llama_cpp(settings: Settings) -> ChatLLM:
    from assistant.llm.llama_cpp import LlamaCppLLM
    from assistant.llm.models import resolve_gguf

    return LlamaCppLLM(
        lambda: resolve_gguf(settings.llm.model, settings.model_cache_dir),
        name=settings.llm.model,
        n_ctx=settings.llm.n_ctx,
        n_threads=settings.llm.n_threads,
        temperature=settings.llm.temperature,
    )


def _openai(settings: Settings) -> ChatLLM:
    from assistant.llm.openai_compat import OpenAICompatLLM

    return OpenAICompatLLM.from_settings(settings.llm)


BACKENDS: dict[str, Callable[[Settings], ChatLLM]] = {"llama_cpp": _llama_cpp, "openai": _openai}
"""Generative backends by name; ``extractive`` needs no model and is handled by the engine."""


def make_llm(settings: Settings) -> ChatLLM | None:
    """The configured chat model, or None for the extractive backend (nothing is loaded yet)."""
    if settings.llm.backend == "extractive":
        return None
    return BACKENDS[settings.llm.backend](settings)
