"""LLM backends: model files (hash, magic), an OpenAI-compatible server over HTTP, the real llama.cpp model."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from assistant.errors import LLMUnavailableError, ModelCorruptError, ModelNotFoundError
from assistant.llm import models
from assistant.llm.models import check_gguf, resolve_gguf
from assistant.llm.openai_compat import OpenAICompatLLM
from assistant.settings import LLMSettings, Settings
from tests.conftest import REPO


def test_unknown_model_name_says_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"qwen2\.5-coder-0\.5b"):
        resolve_gguf("gpt-17", tmp_path)


def test_missing_or_non_gguf_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        check_gguf(tmp_path / "absent.gguf")
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelCorruptError, match="magic"):
        check_gguf(bogus)


def test_assembled_model_with_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = []
    for i in range(2):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(b"GGUF" + bytes([i]) * 10)
        parts.append(part)
    model = dataclasses.replace(models.QWEN_1_5B, size=sum(p.stat().st_size for p in parts))
    monkeypatch.setattr(models, "part_paths", lambda _model: parts)
    with pytest.raises(ModelCorruptError, match="SHA-256"):
        models.assemble(model, tmp_path / "cache")
    assert not (tmp_path / "cache" / model.file).exists(), "no half-assembled file is left behind"


def test_assembled_model_of_wrong_size_is_refused_before_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = tmp_path / "p.bin"
    part.write_bytes(b"GGUF-truncated")
    monkeypatch.setattr(models, "part_paths", lambda _model: [part])
    monkeypatch.setattr(models, "sha256_file", lambda _path: pytest.fail("hashed a file of the wrong size"))
    with pytest.raises(ModelCorruptError, match="size 14 bytes"):
        models.assemble(models.QWEN_1_5B, tmp_path / "cache")


def test_assembled_model_is_verified_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part = tmp_path / "p.bin"
    part.write_bytes(b"GGUF-fake-weights")
    digest = models.sha256_file(part)
    model = dataclasses.replace(models.QWEN_0_5B, sha256=digest, size=part.stat().st_size)
    monkeypatch.setattr(models, "part_paths", lambda _model: [part])
    first = models.assemble(model, tmp_path / "cache")
    monkeypatch.setattr(models, "part_paths", lambda _model: pytest.fail("parts re-read"))
    assert models.assemble(model, tmp_path / "cache") == first


class _ChatServer(BaseHTTPRequestHandler):
    replies: ClassVar[list[str]] = ["About 900 troops [1]."]
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ChatServer.seen.append({"body": body, "auth": self.headers.get("Authorization")})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in self.replies[0].split(" "):
            choice: dict = {"delta": {"content": word + " "}}
            if body.get("logprobs"):  # as OpenAI: the chosen token's log-probability, and the top alternatives
                top = [
                    {"token": "Yes", "logprob": -0.2},
                    {"token": "No", "logprob": -1.8},
                    {"token": "NOT", "logprob": -3.0},
                ]
                choice["logprobs"] = {"content": [{"token": word, "logprob": -0.25, "top_logprobs": top}]}
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chat_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_compatible_server_streams_the_reply(chat_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "secret")
    llm = OpenAICompatLLM.from_settings(
        LLMSettings(backend="openai", base_url=chat_server, model="m", api_key_env="MY_KEY")
    )
    text = "".join(llm.stream([{"role": "user", "content": "q"}], max_tokens=20))
    assert text.strip() == "About 900 troops [1]."
    request = _ChatServer.seen[-1]
    assert request["auth"] == "Bearer secret"
    assert request["body"]["temperature"] == 0 and request["body"]["max_tokens"] == 20


def test_openai_server_reports_token_logprobs_and_a_yes_probability(chat_server: str) -> None:
    import math

    from assistant.llm.base import Trace

    llm = OpenAICompatLLM(chat_server, "m")
    trace = Trace(watch=("NOT",))
    text = "".join(llm.stream([{"role": "user", "content": "q"}], max_tokens=20, trace=trace))
    assert text.strip() == "About 900 troops [1]."
    assert trace.token_logprobs == [-0.25] * 4
    assert trace.first_token_logprobs == {"NOT": -3.0}
    assert _ChatServer.seen[-1]["body"]["logprobs"] is True
    yes = llm.yes_probability([{"role": "user", "content": "Is it? Reply yes or no."}])
    assert yes == pytest.approx(math.exp(-0.2) / (math.exp(-0.2) + math.exp(-1.8)))
    assert _ChatServer.seen[-1]["body"]["max_tokens"] == 1


def test_openai_server_samples_with_the_given_temperature_and_seed(chat_server: str) -> None:
    llm = OpenAICompatLLM(chat_server, "m")
    text = llm.sample([{"role": "user", "content": "q"}], max_tokens=12, temperature=0.8, seed=42)
    assert text.strip() == "About 900 troops [1]."
    body = _ChatServer.seen[-1]["body"]
    assert body["temperature"] == 0.8 and body["seed"] == 42 and body["max_tokens"] == 12
    assert "logprobs" not in body


def test_server_that_is_down_raises_a_clear_error() -> None:
    llm = OpenAICompatLLM("http://127.0.0.1:9/v1", "m", timeout_s=2)
    with pytest.raises(LLMUnavailableError, match="Cannot reach the LLM server"):
        "".join(llm.stream([{"role": "user", "content": "q"}], max_tokens=5))


def test_openai_backend_without_url_says_how_to_set_it() -> None:
    with pytest.raises(LLMUnavailableError, match="ASSISTANT_LLM__BASE_URL"):
        OpenAICompatLLM.from_settings(LLMSettings(backend="openai"))


@pytest.mark.integration
def test_real_local_model_streams_a_short_greedy_reply(tmp_path: Path) -> None:
    from assistant.llm.llama_cpp import LlamaCppLLM

    llm = LlamaCppLLM(resolve_gguf("qwen2.5-coder-0.5b", REPO / ".assistant" / "models"), n_ctx=1024)
    messages = [{"role": "user", "content": "Reply with the single word: yes"}]
    first = "".join(llm.stream(messages, max_tokens=8))
    second = "".join(llm.stream(messages, max_tokens=8))
    assert first == second and "yes" in first.lower()


@pytest.mark.integration
def test_real_local_model_samples_repeatably_by_seed_and_stays_greedy_after() -> None:
    from assistant.llm.llama_cpp import LlamaCppLLM

    llm = LlamaCppLLM(resolve_gguf("qwen2.5-coder-0.5b", REPO / ".assistant" / "models"), n_ctx=1024)
    messages = [{"role": "user", "content": "Write one short sentence about the sea."}]
    greedy = "".join(llm.stream(messages, max_tokens=24))
    samples = [llm.sample(messages, max_tokens=24, temperature=1.2, seed=seed) for seed in (11, 12, 13, 11)]
    assert samples[0] == samples[3], "the same seed samples the same reply"
    assert len(set(samples[:3])) > 1, "different seeds sample different replies"
    assert "".join(llm.stream(messages, max_tokens=24)) == greedy, "sampling leaves the greedy reply as it was"


@pytest.mark.integration
def test_gemma_model_assembles_and_loads(tmp_path: Path) -> None:
    from assistant.llm.llama_cpp import LlamaCppLLM

    path = resolve_gguf("gemma3-270m", REPO / ".assistant" / "models")
    llm = LlamaCppLLM(path, n_ctx=512)
    assert llm.count_tokens("hello world") > 0


@pytest.mark.integration
def test_real_default_model_gives_token_logprobs_and_a_yes_probability_that_follows_the_facts() -> None:
    from assistant.llm.base import Trace
    from assistant.llm.llama_cpp import LlamaCppLLM
    from assistant.settings import Settings

    llm = LlamaCppLLM(resolve_gguf(Settings().llm.model, REPO / ".assistant" / "models"), n_ctx=1024)
    trace = Trace(watch=("NOT",))
    text = "".join(
        llm.stream([{"role": "user", "content": "What is 2 + 2? Reply with the number."}], max_tokens=8, trace=trace)
    )
    assert "4" in text
    assert len(trace.token_logprobs) >= 1 and all(lp <= 0 for lp in trace.token_logprobs)
    assert trace.token_logprobs[0] > -1.0, "the model is sure of an easy answer"
    assert "NOT" in trace.first_token_logprobs and trace.first_token_logprobs["NOT"] < -3
    sentence = "Paris is the capital of France."
    yes = llm.yes_probability(
        [{"role": "user", "content": f"{sentence} Is Paris the capital of France? Reply yes or no."}]
    )
    no = llm.yes_probability(
        [{"role": "user", "content": f"{sentence} Is Rome the capital of France? Reply yes or no."}]
    )
    assert yes > 0.8 and no < 0.5, "read from the first token: the model leans the right way (it is no sharp judge)"


def _fake_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> models.PackagedModel:
    part = tmp_path / "part.bin"
    part.write_bytes(b"GGUF-fake-weights")
    model = dataclasses.replace(models.QWEN_0_5B, sha256=models.sha256_file(part), size=part.stat().st_size)
    monkeypatch.setattr(models, "part_paths", lambda _model: [part])
    monkeypatch.setitem(models.PACKAGED_MODELS, model.name, model)
    return model


def test_two_data_dirs_share_one_assembled_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _fake_packaged(tmp_path, monkeypatch)
    cache = tmp_path / "user-cache"
    one = Settings(data_dir=tmp_path / "archive-one", model_cache=cache)
    two = Settings(data_dir=tmp_path / "archive-two", model_cache=cache)
    first = resolve_gguf(model.name, one.model_cache_dir, [one.legacy_model_dir])
    monkeypatch.setattr(models, "part_paths", lambda _model: pytest.fail("assembled a second copy"))
    assert resolve_gguf(model.name, two.model_cache_dir, [two.legacy_model_dir]) == first == cache / model.file
    assert not one.legacy_model_dir.exists() and not two.legacy_model_dir.exists()


def test_model_already_assembled_in_an_old_data_dir_is_still_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_packaged(tmp_path, monkeypatch)
    old = Settings(data_dir=tmp_path / "old-archive", model_cache=tmp_path / "user-cache")
    before = models.assemble(model, old.legacy_model_dir)  # what a data dir from before the shared cache holds
    monkeypatch.setattr(models, "part_paths", lambda _model: pytest.fail("assembled again"))
    assert resolve_gguf(model.name, old.model_cache_dir, [old.legacy_model_dir]) == before
    assert not (tmp_path / "user-cache" / model.file).exists()


def test_model_cache_defaults_to_the_users_cache_and_can_be_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings(data_dir=tmp_path / "d").model_cache_dir == tmp_path / "xdg" / "assistant" / "models"
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert Settings(data_dir=tmp_path / "d").model_cache_dir == tmp_path / "elsewhere"
