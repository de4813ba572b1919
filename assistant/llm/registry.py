"""The generative backends by name, and the factory that builds the configured one."""

from __future__ import annotations

from collections.abc import Callable

from assistant.llm.base import ChatLLM
from assistant.settings import Settings


def _llama_cpp(settings: Settings) -> ChatLLM:
    from assistant.llm.llama_cpp import LlamaCppLLM
    from assistant.llm.models import resolve_gguf

    return LlamaCppLLM(
        lambda: resolve_gguf(settings.llm.model, settings.model_cache_dir, [settings.legacy_model_dir]),
        name=settings.llm.model,
        n_ctx=settings.llm.n_ctx,
        n_threads=settings.llm.n_threads,
        temperature=settings.llm.temperature,
        state_dir=settings.model_cache_dir / "prompt-states" if settings.llm.prompt_states else None,
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
