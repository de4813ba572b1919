"""Saved states of fixed prompt starts: reused from memory and disk, never for another start, refused when broken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.llm import prompt_states
from assistant.llm.prompt_states import PromptStates
from tests.conftest import REPO


class FakeLlama:
    """Records evaluations; its "key/value cache" is the list of token ids it holds."""

    def __init__(self) -> None:
        self.input_ids = np.zeros(256, dtype=np.intc)
        self.n_tokens = 0
        self.evaluated: list[list[int]] = []
        self.cache: list[int] = []

    def reset(self) -> None:
        self.n_tokens = 0

    def eval(self, tokens: list[int]) -> None:
        self.evaluated.append(list(tokens))
        self.input_ids[self.n_tokens : self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self.cache = list(self.input_ids[: self.n_tokens])


@pytest.fixture
def fake_state_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake's cache as bytes; a state that is not one the fake wrote is refused, as llama.cpp refuses it."""

    def snapshot(llama: FakeLlama) -> bytes:
        return ("cache:" + ",".join(map(str, llama.cache))).encode()

    def restore(llama: FakeLlama, start: list[int], state: bytes) -> bool:
        if not state.startswith(b"cache:"):
            return False
        llama.cache = [int(t) for t in state[6:].decode().split(",")]
        llama.input_ids[: len(start)] = start
        llama.n_tokens = len(start)
        return True

    monkeypatch.setattr(prompt_states, "_snapshot", snapshot)
    monkeypatch.setattr(prompt_states, "_restore", restore)


START = list(range(100, 140))


@pytest.mark.usefixtures("fake_state_io")
def test_a_start_is_evaluated_once_then_reused_from_memory_and_by_a_later_process_from_disk(tmp_path: Path) -> None:
    states = PromptStates(tmp_path, "model-a")
    llama = FakeLlama()
    assert states.prepare(llama, START) == "evaluated"
    assert states.prepare(llama, START) == "held", "already in the cache: nothing to do"
    llama.eval([1, 2, 3])
    other = FakeLlama()
    assert states.prepare(other, START) == "memory"
    assert other.evaluated == [] and other.cache == START
    later_process = PromptStates(tmp_path, "model-a")
    fresh = FakeLlama()
    assert later_process.prepare(fresh, START) == "disk"
    assert fresh.evaluated == [] and list(fresh.input_ids[: fresh.n_tokens]) == START


@pytest.mark.usefixtures("fake_state_io")
def test_a_state_is_never_used_for_another_model_or_another_start(tmp_path: Path) -> None:
    PromptStates(tmp_path, "model-a").prepare(FakeLlama(), START)
    other_model = FakeLlama()
    assert PromptStates(tmp_path, "model-b").prepare(other_model, START) == "evaluated"
    other_start = FakeLlama()
    assert PromptStates(tmp_path, "model-a").prepare(other_start, [*START[:-1], 7]) == "evaluated"


@pytest.mark.usefixtures("fake_state_io")
def test_a_broken_or_foreign_state_file_is_dropped_and_the_start_evaluated(tmp_path: Path) -> None:
    PromptStates(tmp_path, "model-a").prepare(FakeLlama(), START)
    (saved,) = tmp_path.glob("*.state")
    header = saved.read_bytes().split(b"\n", 2)
    saved.write_bytes(header[0] + b"\n" + header[1] + b"\nnot a state")
    llama = FakeLlama()
    assert PromptStates(tmp_path, "model-a").prepare(llama, START) == "evaluated"
    assert llama.evaluated == [START]
    saved.write_bytes(b"\x00garbage")
    assert PromptStates(tmp_path, "model-a").prepare(FakeLlama(), START) == "evaluated"
    assert saved.read_bytes().startswith(prompt_states._MAGIC), "rewritten with a good state"


@pytest.mark.usefixtures("fake_state_io")
def test_an_unwritable_directory_costs_only_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    states = PromptStates(blocked / "states", "model-a")
    assert states.prepare(FakeLlama(), START) == "evaluated"
    assert states.prepare(FakeLlama(), START) == "memory"


@pytest.mark.integration
def test_real_model_answers_the_same_with_a_saved_start_and_a_later_process_skips_it(tmp_path: Path) -> None:
    from assistant.answer.prompting import build_messages
    from assistant.llm.base import Trace
    from assistant.llm.llama_cpp import LlamaCppLLM
    from assistant.llm.models import resolve_gguf
    from assistant.types import Chunk, Evidence

    path = resolve_gguf("qwen2.5-coder-0.5b", REPO / ".assistant" / "models")
    quote = "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria."
    chunk = Chunk(id="c1", doc_id="d1", text=quote, start=0, end=len(quote), chunk_index=0, paragraph_index=0)
    evidence = [Evidence(number=1, quote=quote, chunk=chunk, start=0, end=len(quote), score=1.0)]

    def answer(llm: LlamaCppLLM, question: str) -> tuple[str, list[float]]:
        messages = build_messages(question, evidence)
        trace = Trace()
        text = "".join(llm.stream(messages, max_tokens=16, trace=trace, fixed_messages=len(messages) - 1))
        return text, trace.token_logprobs

    plain = LlamaCppLLM(path, n_ctx=2048)
    first = answer(plain, "How many troops are in eastern Syria?")
    saving = LlamaCppLLM(path, n_ctx=2048, state_dir=tmp_path)
    assert answer(saving, "How many troops are in eastern Syria?") == first
    assert len(list(tmp_path.glob("*.state"))) == 1
    later = LlamaCppLLM(path, n_ctx=2048, state_dir=tmp_path)
    evaluated: list[int] = []
    later._load()
    real_eval = later._llama.eval
    later._llama.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    assert answer(later, "How many troops are in eastern Syria?") == first, "bit-for-bit the same reply"
    prompt_tokens = later._prompt_tokens(build_messages("How many troops are in eastern Syria?", evidence))[0]
    assert evaluated[0] < len(prompt_tokens) / 2, "only the question's own part was evaluated"
