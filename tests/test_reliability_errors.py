"""No raw exception reaches a user (issue 11, case 3), and a dead, slow, missing or corrupt model gives the
extractive answer marked as such instead of an error (case 5)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app as cli_app
from assistant.errors import AssistantError, UnexpectedError
from assistant.settings import Settings
from assistant.types import Answer
from tests.conftest import FakeEmbedder, FakeLLM, make_citation

QUESTION = "How many schools did the storm close?"
CHROMA_FAULT = "Error executing plan: Internal error:\n  error returned from database: (code: 1) too many SQL variables"


class RaisingStore:
    """A store whose every Chroma call fails the way a broken Chroma does: a raw, multi-line InternalError."""

    def __getattr__(self, name: str) -> Any:
        from chromadb.errors import InternalError

        raise InternalError(CHROMA_FAULT)


def assert_one_line_user_error(err: BaseException) -> None:
    assert isinstance(err, AssistantError), type(err)
    message = str(err)
    assert message and "\n" not in message and "\r" not in message, message
    assert len(message) < 600


@pytest.fixture
def broken(make_settings, tiny_corpus: Path) -> Any:
    from assistant.engine import Assistant

    return Assistant(make_settings(), llm=FakeLLM(["40 schools [1]."]), embedder=FakeEmbedder(), store=RaisingStore())  # type: ignore[arg-type]


ENTRY_POINTS = {
    "ingest": lambda a, corpus: a.ingest([corpus]),
    "ask": lambda a, corpus: a.ask(QUESTION),
    "stream": lambda a, corpus: list(a.stream(QUESTION)),
    "chat": lambda a, corpus: a.chat([{"role": "user", "content": QUESTION}]),
    "conversation.ask": lambda a, corpus: a.conversation().ask(QUESTION),
    "conversation.stream": lambda a, corpus: list(a.conversation().stream(QUESTION)),
    "get_article": lambda a, corpus: a.get_article("doc-1"),
    "stats": lambda a, corpus: a.stats(),
    "query_engine": lambda a, corpus: a.as_query_engine().query(QUESTION),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_assistant_method_raises_a_one_line_assistant_error_when_chroma_fails(
    broken: Any, tiny_corpus: Path, entry: str
) -> None:
    with pytest.raises(Exception) as caught:
        ENTRY_POINTS[entry](broken, tiny_corpus)
    assert_one_line_user_error(caught.value)
    assert "Chroma" in str(caught.value) and "InternalError" in str(caught.value)


def test_a_fault_inside_the_pipeline_while_streaming_is_a_user_error(fake_assistant_factory, tiny_corpus) -> None:
    class ExplodingLLM(FakeLLM):
        def stream(self, messages: list[dict[str, str]], *, max_tokens: int, **options: object) -> Iterator[str]:
            yield "The storm "
            raise RuntimeError("CUDA kernel\nexploded")

    assistant = fake_assistant_factory(ExplodingLLM())
    assistant.ingest([tiny_corpus])
    events = assistant.stream(QUESTION)
    assert next(events).delta == "The storm "
    with pytest.raises(UnexpectedError) as caught:
        list(events)
    assert_one_line_user_error(caught.value)
    assert "RuntimeError: CUDA kernel exploded" in str(caught.value)


def test_unknown_filter_and_bad_setting_are_user_errors(fake_assistant_factory, tiny_corpus, monkeypatch) -> None:
    from assistant.engine import Assistant

    assistant = fake_assistant_factory(None)
    assistant.ingest([tiny_corpus])
    with pytest.raises(AssistantError, match="Unknown filter"):
        assistant.ask(QUESTION, filters={"author": "x"})
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "many")
    with pytest.raises(AssistantError, match=r"Invalid setting retrieval\.top_k") as caught:
        Assistant()
    assert_one_line_user_error(caught.value)


# -- the CLI --------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_with_broken_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.setattr("assistant.engine.make_embedder", lambda settings, *_: FakeEmbedder())
    monkeypatch.setattr("assistant.engine.ChunkStore", lambda *args, **kwargs: RaisingStore())
    return ["--data-dir", str(tmp_path / "data")]


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "corpus"],
        ["ask", QUESTION, "--backend", "extractive"],
        ["ask", QUESTION, "--json", "--backend", "extractive"],
        ["stats"],
    ],
    ids=["ingest", "ask", "ask-json", "stats"],
)
def test_cli_commands_print_one_error_line_when_chroma_fails(cli_with_broken_store: list[str], argv: list[str]) -> None:
    result = CliRunner().invoke(cli_app, [*argv, *cli_with_broken_store])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: The store (Chroma) failed unexpectedly"), errors


def test_cli_chat_keeps_going_after_a_store_fault(cli_with_broken_store: list[str]) -> None:
    result = CliRunner().invoke(
        cli_app, ["chat", "--backend", "extractive", *cli_with_broken_store], input=f"{QUESTION}\n\n"
    )
    assert result.exit_code == 0 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if "error:" in line]
    assert len(errors) == 1 and "InternalError" in errors[0]
    assert "too many SQL variables" in errors[0], "the whole message is on that one line"


def test_cli_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_LLM__MAX_TOKENS", "-3")
    result = CliRunner().invoke(cli_app, ["stats", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "Invalid setting llm.max_tokens" in result.output


# -- the UI ---------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_ui_shows_one_line_for_every_entry_point_when_chroma_fails(broken: Any, tmp_path: Path) -> None:
    import gradio as gr
    from gradio_client.exceptions import AppError

    from assistant.ui.app import ChatSession
    from tests.test_ui_app import RunningApp, last_message_text, make_client

    running = RunningApp(broken, broken.settings)
    try:
        client = make_client(running.url)
        _box, history, bar, _ = client.predict(QUESTION, [], 5, "", "", api_name="/chat")
        message = last_message_text(history)
        assert "ui-error" in bar and "InternalError" in message and "\n" not in message.strip()
        with pytest.raises(AppError) as caught:
            client.predict(QUESTION, api_name="/ask")
        assert "The store (Chroma) failed" in str(caught.value) and "\n" not in str(caught.value)
        stats = client.predict(api_name="/stats")
        assert "InternalError" in stats and "Traceback" not in stats
        functions = {f.name: f.fn for f in running.demo.fns.values()}
        upload = tmp_path / "new.md"
        upload.write_text("# New\n\nA new article.\n")
        result, _ = functions["ingest_files"]([str(upload)], gr.Progress())
        assert "InternalError" in result and "Traceback" not in result
        shown = (make_citation("A quote."), Answer(question="q", text="t"))
        session = ChatSession(conversation=None, citations={1: shown})
        panel = functions["show_citation"](session, SimpleNamespace(_data={"number": 1}))
        assert "InternalError" in panel and "Traceback" not in panel
    finally:
        running.close()


# -- case 5: the model is down, slow, missing or corrupt ------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _SlowServer(BaseHTTPRequestHandler):
    """Accepts the request, starts a reply, then trickles one empty event a second and never finishes."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for _ in range(30):
            try:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.5)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def openai_assistant(make_settings, tiny_corpus: Path, base_url: str, timeout_s: float = 30.0) -> Any:
    from assistant.engine import Assistant

    settings = make_settings(llm={"backend": "openai", "base_url": base_url, "model": "m", "timeout_s": timeout_s})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.ingest([tiny_corpus])
    return assistant


def assert_marked_extractive_answer(answer: Any, reason: str) -> None:
    assert answer.status == "fallback"
    assert "40 schools" in answer.text and answer.citations and answer.text.endswith("[1]")
    assert any(reason in note and "quoted instead" in note for note in answer.unsupported), answer.unsupported


def test_dead_llm_server_gives_the_extractive_answer_marked_as_such(make_settings, tiny_corpus: Path) -> None:
    assistant = openai_assistant(make_settings, tiny_corpus, f"http://127.0.0.1:{closed_port()}/v1")
    started = time.perf_counter()
    answer = assistant.ask(QUESTION)
    assert time.perf_counter() - started < 30
    assert_marked_extractive_answer(answer, "Cannot reach the LLM server")


@pytest.mark.timeout(120)
def test_slow_llm_server_times_out_then_gives_the_extractive_answer(
    make_settings, tiny_corpus: Path, slow_server: str
) -> None:
    assistant = openai_assistant(make_settings, tiny_corpus, slow_server, timeout_s=2)
    started = time.perf_counter()
    answer = assistant.ask(QUESTION)
    assert time.perf_counter() - started < 2 + 10, "the whole reply is bounded, not each read"
    assert_marked_extractive_answer(answer, "did not finish within 2 s")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "Model file not found"), (b"not a model at all", "not a GGUF model file")],
    ids=["missing", "corrupt"],
)
def test_missing_or_corrupt_local_model_is_said_at_start_and_answers_still_quote(
    make_settings, tiny_corpus: Path, tmp_path: Path, content: bytes | None, reason: str
) -> None:
    from assistant.engine import Assistant

    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    settings = make_settings(llm={"backend": "llama_cpp", "model": str(model)})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.ingest([tiny_corpus])
    assert reason in (assistant.check_llm() or "")
    assert assistant.describe()["problem"] == assistant.llm_problem
    assert_marked_extractive_answer(assistant.ask(QUESTION), reason)
    assert_marked_extractive_answer(assistant.ask(QUESTION), reason)  # and again, without a reload


@pytest.mark.timeout(120)
def test_gguf_that_llama_cpp_cannot_load_is_a_corrupt_model(make_settings, tiny_corpus: Path, tmp_path: Path) -> None:
    from assistant.engine import Assistant

    model = tmp_path / "truncated.gguf"
    model.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    assistant = Assistant(make_settings(llm={"backend": "llama_cpp", "model": str(model)}), embedder=FakeEmbedder())
    assistant.ingest([tiny_corpus])
    assert "could not load" in (assistant.check_llm() or "")
    assert_marked_extractive_answer(assistant.ask(QUESTION), "could not load")


def test_cli_ask_warns_once_about_a_missing_model_then_answers(
    tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("assistant.engine.make_embedder", lambda settings, *_: FakeEmbedder())
    monkeypatch.setenv("ASSISTANT_LLM__MODEL", str(tmp_path / "gone.gguf"))
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    assert runner.invoke(cli_app, ["ingest", str(tiny_corpus), *data]).exit_code == 0
    result = runner.invoke(cli_app, ["ask", QUESTION, *data])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "Model file not found" in warnings[0] and "quoting" in warnings[0]
    assert "40 schools" in result.output and "[fallback]" in result.output


def test_ui_start_shows_the_model_problem(make_settings, tiny_corpus: Path, tmp_path: Path) -> None:
    from assistant.engine import Assistant
    from assistant.ui.app import build_app

    settings: Settings = make_settings(llm={"backend": "llama_cpp", "model": str(tmp_path / "gone.gguf")})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assert assistant.check_llm()
    demo = build_app(assistant)
    banners = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "model-problem"]
    assert len(banners) == 1 and "Model file not found" in banners[0].value
