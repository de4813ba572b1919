"""The protocol every backend implements, and the factory that picks one from settings."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

from assistant.settings import Settings


class ChatMessage(TypedDict):
    """One chat turn in OpenAI form."""

    role: str
    content: str


@dataclass
class Trace:
    """What a backend reports about a reply besides its text: the log-probability of each token it wrote, and of
    the ``watch`` words as the reply's first token (e.g. how likely the model was to abstain)."""

    token_logprobs: list[float] = field(default_factory=list)
    watch: tuple[str, ...] = ()
    first_token_logprobs: dict[str, float] = field(default_factory=dict)


YES_NO_WORDS = ("yes", "Yes", "YES", "no", "No", "NO")


def yes_share(logprobs: Mapping[str, float]) -> float:
    """P(yes) / (P(yes) + P(no)) from log-probabilities of the words in ``YES_NO_WORDS`` (0.5 when neither)."""
    yes = sum(math.exp(v) for k, v in logprobs.items() if k.lower() == "yes")
    no = sum(math.exp(v) for k, v in logprobs.items() if k.lower() == "no")
    return yes / (yes + no) if yes + no > 0 else 0.5


class ChatLLM(Protocol):
    """A chat model: greedy, bounded, streaming."""

    name: str

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        trace: Trace | None = None,
        grammar: str | None = None,
        fixed_messages: int = 0,
    ) -> Iterator[str]:
        """Yield text deltas of the reply; token log-probabilities go to ``trace`` when the backend has them.
        ``grammar`` (GBNF) constrains the reply where the backend supports it; others ignore it. The first
        ``fixed_messages`` messages are the same for every question: a backend may keep their evaluated state."""
        ...

    def yes_probability(self, messages: list[ChatMessage]) -> float | None:
        """The probability that the reply is "yes" rather than "no" (None when the backend cannot tell)."""
        ...

    def sample(self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, seed: int) -> str:
        """One whole reply sampled at ``temperature`` (> 0) with ``seed``, for the self-consistency check."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` (an estimate is fine for remote servers)."""
        ...

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus reply the model accepts."""
        ...


def _llama_cpp(settings: Settings) -> ChatLLM:
    from assistant.llm.llama_cpp import LlamaCppLLM
    from assistant.llm.models import resolve_gguf

    return LlamaCppLLM(
        lambda: resolve_gguf(settings.llm.model, settings.model_cache_dir),
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
