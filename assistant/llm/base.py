"""The protocol every backend implements, and the factory that picks one from settings."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypedDict


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
