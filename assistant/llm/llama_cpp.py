"""In-process llama.cpp backend; one Llama object, calls serialized (it is not thread-safe)."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.errors import ModelCorruptError
from assistant.llm.base import YES_NO_WORDS, ChatMessage, Trace, yes_share
from assistant.llm.prompt_states import MIN_TOKENS, PromptStates


class LlamaCppLLM:
    """A GGUF chat model run by llama-cpp-python with the model's own chat template, greedy by default.

    Generation runs token by token so that the log-probability of every token written is known (llama.cpp keeps
    only the last position's logits unless ``logits_all``, which would cost n_ctx x vocabulary floats).
    """

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        *,
        name: str = "",
        n_ctx: int = 4096,
        n_threads: int | None = None,
        temperature: float = 0.0,
        state_dir: Path | None = None,
    ) -> None:
        """``state_dir``: where evaluated prompt starts are saved for later processes (None: memory only)."""
        self._model_path = model_path
        self._state_dir = state_dir
        self._states: PromptStates | None = None
        self.name = name or str(model_path)
        self._n_ctx = n_ctx
        self._n_threads = n_threads or os.cpu_count() or 2
        self._temperature = temperature
        self._llama: Any = None
        self._formatter: Any = None
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
            self._formatter = _chat_formatter(self._llama)
            self._states = PromptStates(self._state_dir, _model_key(path, self._n_ctx))
        return self._llama

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus reply."""
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under the model's tokenizer."""
        with self._lock:
            return len(self._load().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> tuple[list[int], list[str]]:
        """The chat template applied to ``messages`` (ready for the assistant's turn), tokenized; and stop strings."""
        llama = self._load()
        if self._formatter is None:
            raise ModelCorruptError(f"{self.name} has no chat template in its GGUF metadata.")
        formatted = self._formatter(messages=list(messages))
        stops = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        tokens = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
        return tokens, [s for s in stops if s]

    def _fixed_start(self, messages: Sequence[ChatMessage], fixed_messages: int, tokens: list[int]) -> list[int]:
        """The tokens of ``tokens`` that the first ``fixed_messages`` messages decide: the prompt up to where the
        next message's content begins (found as what the prompt shares with that message emptied)."""
        if not 0 < fixed_messages < len(messages):
            return []
        next_role = messages[fixed_messages]["role"]
        emptied: list[ChatMessage] = [*messages[:fixed_messages], {"role": next_role, "content": ""}]
        from llama_cpp import Llama

        variant, _ = self._prompt_tokens(emptied)
        shared = Llama.longest_token_prefix(tokens, variant)
        return tokens[: min(shared, len(tokens) - 1)]

    def _next_logits(self) -> Any:
        import numpy as np

        llama = self._llama
        return np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),))

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        trace: Trace | None = None,
        grammar: str | None = None,
        fixed_messages: int = 0,
    ) -> Iterator[str]:
        """Yield reply deltas; holds the model for the whole generation. ``trace`` receives each token's
        log-probability; ``grammar`` (GBNF) constrains what may be written; the evaluated state of the first
        ``fixed_messages`` messages (the same for every question) is saved and reused."""
        yield from self._generate(messages, max_tokens, trace, grammar, fixed_messages, self._temperature)

    def sample(self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, seed: int) -> str:
        """One reply sampled at ``temperature`` with a fixed ``seed`` (the same call gives the same reply). The
        prompt's evaluated tokens are reused from the previous call where they match."""
        with self._lock:
            self._load().set_seed(seed)
            return "".join(self._generate(messages, max_tokens, None, None, 0, temperature))

    def _generate(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        trace: Trace | None,
        grammar: str | None,
        fixed_messages: int,
        temperature: float,
    ) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            tokens, stops = self._prompt_tokens(messages)
            start = self._fixed_start(messages, fixed_messages, tokens)
            if len(start) >= MIN_TOKENS and self._states is not None:
                self._states.prepare(llama, start)
            compiled = None
            if grammar is not None:
                from llama_cpp import LlamaGrammar

                compiled = LlamaGrammar.from_string(grammar, verbose=False)
            greedy = temperature == 0
            written: list[int] = []
            shown = ""
            from llama_cpp import llama_vocab_is_eog

            vocab = llama._model.vocab
            for token in llama.generate(
                tokens,
                top_k=1 if greedy else 40,
                top_p=1.0 if greedy else 0.95,
                min_p=0.0 if greedy else 0.05,
                temp=temperature,
                repeat_penalty=1.0,
                grammar=compiled,
            ):
                if trace is not None:
                    logits = self._next_logits()
                    trace.token_logprobs.append(_logprob(logits, token))
                    if not written:
                        for word in trace.watch:
                            first = llama.tokenize(word.encode(), add_bos=False, special=False)[0]
                            trace.first_token_logprobs[word] = _logprob(logits, first)
                if llama_vocab_is_eog(vocab, token) or len(written) >= max_tokens:
                    break
                written.append(token)
                text = llama.detokenize(written).decode("utf-8", errors="ignore")
                cut = min((text.find(s) for s in stops if s in text), default=-1)
                if cut >= 0:
                    text = text[:cut]
                if len(text) > len(shown) and text.startswith(shown):
                    yield text[len(shown) :]
                    shown = text
                if cut >= 0 or len(written) >= max_tokens:
                    break

    def yes_probability(self, messages: list[ChatMessage]) -> float:
        """P(the reply starts with "yes") / P("yes" or "no"), read from the first token's distribution."""
        with self._lock:
            llama = self._load()
            tokens, _ = self._prompt_tokens(messages)
            generator = llama.generate(tokens, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0)
            next(generator)
            logits = self._next_logits()
            generator.close()
            first_tokens = {w: llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in YES_NO_WORDS}
            return yes_share({word: _logprob(logits, token) for word, token in first_tokens.items()})


def _model_key(path: Path, n_ctx: int) -> str:
    """What a saved prompt state depends on: the model file, the context size and the llama.cpp build."""
    import llama_cpp

    stat = path.stat()
    return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{n_ctx}:{llama_cpp.__version__}"


def _chat_formatter(llama: Any) -> Any:
    """The GGUF's own chat template (None when the file has none)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    model = llama._model

    def text_of(token: int) -> str:
        return model.token_get_text(token) if token != -1 else ""

    return Jinja2ChatFormatter(
        template=template, eos_token=text_of(llama.token_eos()), bos_token=text_of(llama.token_bos())
    )


def _logprob(logits: Any, token: int) -> float:
    import numpy as np

    top = float(np.max(logits))
    return float(logits[token]) - top - math.log(float(np.sum(np.exp(logits - top))))
