"""Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, hosted APIs) over HTTP."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

from assistant.errors import LLMUnavailableError
from assistant.llm.base import YES_NO_WORDS, ChatMessage, Trace, yes_share
from assistant.settings import LLMSettings

CONNECT_TIMEOUT_S = 5.0
"""Longest wait for a connection: a server that is down is known at once, not after the whole timeout."""


class OpenAICompatLLM:
    """Streams chat completions from ``{base_url}/chat/completions``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        temperature: float = 0.0,
        timeout_s: float = 60.0,
        context_window: int = 8192,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = model
        self._api_key = api_key
        self._temperature = temperature
        self._timeout = timeout_s
        self._context_window = context_window

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> OpenAICompatLLM:
        """Build from the llm settings section; the key is read from the named env variable."""
        if not settings.base_url:
            raise LLMUnavailableError(
                "The openai backend needs a server URL: set ASSISTANT_LLM__BASE_URL (e.g. http://127.0.0.1:8000/v1)."
            )
        return cls(
            settings.base_url,
            settings.model,
            api_key=os.environ.get(settings.api_key_env, ""),
            temperature=settings.temperature,
            timeout_s=settings.timeout_s,
            context_window=settings.n_ctx,
        )

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus reply (as configured)."""
        return self._context_window

    def count_tokens(self, text: str) -> int:
        """A conservative estimate: about four characters a token."""
        return len(text) // 3 + 1

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        trace: Trace | None = None,
        grammar: str | None = None,
        fixed_messages: int = 0,
    ) -> Iterator[str]:
        """Yield reply deltas from the server's event stream (token log-probabilities go to ``trace`` when the
        server returns them). ``grammar`` is not sent (servers differ in how they take one): what the server
        writes is parsed strictly by the caller instead. ``fixed_messages`` is left to the server's own prompt
        cache."""
        watching = trace is not None and bool(trace.watch)
        for choice in self._events(
            messages, max_tokens=max_tokens, logprobs=trace is not None, top_logprobs=10 if watching else 0
        ):
            if trace is not None:
                content = (choice.get("logprobs") or {}).get("content") or []
                if content and not trace.token_logprobs and watching:
                    top = {
                        str(i.get("token", "")).strip(): float(i["logprob"])
                        for i in content[0].get("top_logprobs") or []
                    }
                    trace.first_token_logprobs.update({w: top[w] for w in trace.watch if w in top})
                trace.token_logprobs.extend(float(item["logprob"]) for item in content)
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                yield delta

    def yes_probability(self, messages: list[ChatMessage]) -> float | None:
        """P(yes) / P(yes or no) from the top log-probabilities of the first reply token (None if not given)."""
        for choice in self._events(messages, max_tokens=1, logprobs=True, top_logprobs=10):
            content = (choice.get("logprobs") or {}).get("content") or []
            if content:
                top = {
                    str(item.get("token", "")).strip(): float(item["logprob"])
                    for item in content[0].get("top_logprobs") or []
                }
                found = {w: v for w, v in top.items() if w in YES_NO_WORDS}
                return yes_share(found) if found else None
        return None

    def sample(self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, seed: int) -> str:
        """One reply sampled at ``temperature``; ``seed`` is sent (servers that honour it repeat the reply)."""
        events = self._events(messages, max_tokens=max_tokens, logprobs=False, temperature=temperature, seed=seed)
        return "".join((choice.get("delta") or {}).get("content") or "" for choice in events)

    def _events(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        logprobs: bool,
        top_logprobs: int = 0,
        temperature: float | None = None,
        seed: int | None = None,
    ) -> Iterator[dict]:
        """The ``choices[0]`` of each streamed event."""
        import httpx

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body: dict[str, object] = {
            "model": self.name,
            "messages": list(messages),
            "temperature": self._temperature if temperature is None else temperature,
            "max_tokens": max_tokens,
            "stream": True,
        }
        if seed is not None:
            body["seed"] = seed
        if logprobs:
            body["logprobs"] = True
            if top_logprobs:
                body["top_logprobs"] = top_logprobs
        url = f"{self.base_url}/chat/completions"
        # A dead server fails at connect within a few seconds; a slow one may not exceed timeout_s in total,
        # even while it trickles bytes (httpx's own timeouts apply to each read, not to the whole reply).
        timeout = httpx.Timeout(self._timeout, connect=min(CONNECT_TIMEOUT_S, self._timeout))
        deadline = time.monotonic() + self._timeout
        try:
            with httpx.stream("POST", url, json=body, headers=headers, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise LLMUnavailableError(
                        f"The LLM server at {self.base_url} answered {response.status_code}: "
                        f"{' '.join(response.text[:200].split())}"
                    )
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise LLMUnavailableError(
                            f"The LLM server at {self.base_url} did not finish within {self._timeout:g} s."
                        )
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        choice = (json.loads(payload).get("choices") or [{}])[0]
                        (choice.get("delta") or {}).get("content")
                    except (ValueError, AttributeError, IndexError, TypeError) as err:
                        raise LLMUnavailableError(
                            f"The LLM server at {self.base_url} sent a malformed event: {payload[:100]!r}"
                        ) from err
                    yield choice
        except httpx.TimeoutException as err:
            raise LLMUnavailableError(
                f"The LLM server at {self.base_url} did not answer within {self._timeout:g} s ({type(err).__name__})."
            ) from err
        except httpx.HTTPError as err:
            raise LLMUnavailableError(
                f"Cannot reach the LLM server at {self.base_url} ({type(err).__name__}); is it running?"
            ) from err
