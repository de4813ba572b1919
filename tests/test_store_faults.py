"""Store faults: Chroma calls that raise become one-line AssistantErrors; the server token is sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from assistant.errors import AssistantError, StoreError, StoreUnavailableError
from tests.conftest import FakeEmbedder


class RaisingCollection:
    """A Chroma collection whose every call fails with a multi-line internal error."""

    metadata: ClassVar[dict[str, object]] = {"embedder": "fake-hash-embedder", "dimension": 256}

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise RuntimeError(f"Error executing plan: {name} failed\ntoo many SQL variables\n  at line 3")

        return fail


class RaisingClient:
    """A Chroma client that opens collections whose calls all fail."""

    def get_collection(self, *args, **kwargs):
        return RaisingCollection()

    def get_or_create_collection(self, *args, **kwargs):
        return RaisingCollection()

    def get_max_batch_size(self) -> int:
        return 100


def test_chroma_calls_that_raise_surface_as_one_line_store_errors(make_settings, tiny_corpus: Path) -> None:
    from assistant.engine import Assistant
    from assistant.store.chunk_store import ChunkStore

    settings = make_settings()
    embedder = FakeEmbedder()
    store = ChunkStore(settings, embedder.name, embedder.dimension, client=RaisingClient())
    assistant = Assistant(settings, llm=None, embedder=embedder, store=store)
    for call in (
        lambda: assistant.ask("How many schools closed?"),
        lambda: assistant.ingest([tiny_corpus]),
        assistant.stats,
        lambda: assistant.get_article("x"),
    ):
        with pytest.raises(StoreError) as err:
            call()
        message = str(err.value)
        assert "\n" not in message and "RuntimeError" in message and "too many SQL variables" in message
        assert isinstance(err.value, AssistantError)


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def _answer(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b'{"error": "Unauthorized", "message": "no"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_requests_to_a_chroma_server_carry_the_configured_token(make_settings) -> None:
    from assistant.engine import Assistant

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = make_settings(chroma_url=url, chroma_token="s3cret-token", store_retries=0)
        with pytest.raises(AssistantError) as err:
            Assistant(settings, llm=None, embedder=FakeEmbedder()).ask("anything?")
        assert "\n" not in str(err.value)
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.seen, "the client reached the server"
    assert all(h.get("Authorization") == "Bearer s3cret-token" for h in _Recorder.seen)
    assert all(h.get("X-Chroma-Token") == "s3cret-token" for h in _Recorder.seen)


def test_a_server_that_stays_down_is_retried_a_bounded_number_of_times(make_settings, monkeypatch) -> None:
    import time

    from assistant.engine import Assistant
    from assistant.store import chroma
    from tests.test_store_server import free_port

    waits: list[float] = []
    monkeypatch.setattr(chroma.time, "sleep", waits.append)
    settings = make_settings(chroma_url=f"http://127.0.0.1:{free_port()}", store_retries=3, store_retry_wait_s=0.2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="4 tries"):
        Assistant(settings, llm=None, embedder=FakeEmbedder()).ask("anything?")
    assert waits == [0.2, 0.4, 0.8]
    assert time.monotonic() - started < 30
