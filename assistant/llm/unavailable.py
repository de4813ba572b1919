"""Stand-in for a chat model that could not be loaded: answers then quote the articles at once."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.errors import LLMUnavailableError
from assistant.llm.base import ChatMessage, Trace


class UnavailableLLM:
    """Every call raises LLMUnavailableError with the reason, so the engine falls back without retrying a load."""

    def __init__(self, name: str, reason: str, context_window: int = 4096) -> None:
        self.name = name
        self.reason = reason
        self._context_window = context_window

    @property
    def context_window(self) -> int:
        """Tokens the missing model would have accepted."""
        return self._context_window

    def count_tokens(self, text: str) -> int:
        """Raises: there is no tokenizer to count with."""
        raise LLMUnavailableError(self.reason)

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        trace: Trace | None = None,
        grammar: str | None = None,
        fixed_messages: int = 0,
    ) -> Iterator[str]:
        """Raises: there is no model to answer."""
        raise LLMUnavailableError(self.reason)

    def yes_probability(self, messages: list[ChatMessage]) -> float | None:
        """Raises: there is no model to ask."""
        raise LLMUnavailableError(self.reason)

    def sample(self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, seed: int) -> str:
        """Raises: there is no model to sample."""
        raise LLMUnavailableError(self.reason)
