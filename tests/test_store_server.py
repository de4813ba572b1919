"""A real Chroma server (the installed `chroma` CLI) on 127.0.0.1, and the no-network guarantee."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import StoreUnavailableError
from tests.conftest import REPO, FakeEmbedder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """The installed `chroma` CLI serving a folder on a fixed loopback port; can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if chroma is None:
            pytest.fail("the chroma CLI is not installed (it ships with the chromadb package)")
        log = (self.folder / "chroma.log").open("a")
        self.process = subprocess.Popen(
            [
                chroma,
                "run",
                "--path",
                str(self.folder / "server-data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail("chroma server did not start: " + (self.folder / "chroma.log").read_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    server = ChromaServer(tmp_path)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_ingest_and_ask_through_a_chroma_server(chroma_server: str, make_settings, tiny_corpus: Path) -> None:
    from assistant.engine import Assistant

    settings = make_settings(chroma_url=chroma_server)
    assistant = Assistant(settings, llm=None, embedder=FakeEmbedder())
    assert assistant.ingest([tiny_corpus]).added == 3
    stats = assistant.stats()
    assert stats["store"] == f"server: {chroma_server}" and stats["documents"] == 3
    assert not (settings.data_dir / "chroma").exists(), "nothing was written to the embedded store"
    answer = Assistant(settings, llm=None, embedder=FakeEmbedder()).ask("How many schools did the storm close?")
    assert "40 schools" in answer.text and answer.citations


def test_server_that_is_down_gives_a_clear_error(make_settings) -> None:
    from assistant.engine import Assistant

    url = f"http://127.0.0.1:{free_port()}"
    assistant = Assistant(make_settings(chroma_url=url), llm=None, embedder=FakeEmbedder())
    with pytest.raises(StoreUnavailableError, match="Cannot reach the Chroma server"):
        assistant.ask("anything?")


NO_NETWORK = """
import socket, sys
from pathlib import Path
def refuse(*args, **kwargs):
    raise OSError("network access attempted: " + repr(args[:1]))
real_connect = socket.socket.connect
def guarded_connect(self, address):
    if self.family == socket.AF_UNIX:
        return real_connect(self, address)
    refuse(address)
socket.socket.connect = guarded_connect
socket.create_connection = refuse
socket.getaddrinfo = refuse
from assistant.engine import Assistant
from assistant.settings import Settings
a = Assistant(Settings(data_dir=Path(sys.argv[1]), chroma_url=None, llm={"backend": "extractive"}))
report = a.ingest([Path(sys.argv[2])])
assert report.added == 1 and not report.errors, report
answer = a.ask("How many U.S. troops are in eastern Syria?")
print("OK", answer.status, answer.text)
"""


@pytest.mark.integration
def test_ingest_and_ask_with_sockets_blocked_uses_the_real_embedder(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(tmp_path / "data"), str(REPO / "corpus")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("OK") and "900" in done.stdout


@pytest.mark.integration
def test_server_down_mid_ingest_and_mid_question_fails_cleanly_and_the_next_ingest_completes(
    tmp_path: Path, make_settings, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.engine import Assistant
    from assistant.ingest import run as ingest_module
    from assistant.store.chunk_store import ChunkStore
    from tests.test_ingest import assert_both_sides_agree

    for i in range(3):
        (tiny_corpus / f"extra-{i}.txt").write_text(f"Extra story {i}\n\nThe count was {i * 7} boats.\n")
    server = ChromaServer(tmp_path)
    server.start()
    try:
        settings = make_settings(chroma_url=server.url, store_retries=2, store_retry_wait_s=0.2)
        monkeypatch.setattr(ingest_module, "BATCH_CHUNKS", 1)
        original = ChunkStore.write_articles
        calls = []

        def write_then_lose_the_server(self, writes):
            calls.append(len(writes))
            if len(calls) == 3:
                server.stop()  # the server goes away in the middle of the third article's write
            return original(self, writes)

        monkeypatch.setattr(ChunkStore, "write_articles", write_then_lose_the_server)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="3 tries") as err:
            Assistant(settings, llm=None, embedder=FakeEmbedder()).ingest([tiny_corpus])
        assert "\n" not in str(err.value) and time.monotonic() - started < 60
        monkeypatch.setattr(ChunkStore, "write_articles", original)

        server.start()  # restarted on the same data
        assistant = Assistant(settings, llm=None, embedder=FakeEmbedder())
        report = assistant.ingest([tiny_corpus])
        assert (report.unchanged, report.added) == (2, 4), "the two complete articles were kept; the rest written"
        assert_both_sides_agree(assistant)

        server.stop()
        with pytest.raises(StoreUnavailableError):
            Assistant(settings, llm=None, embedder=FakeEmbedder()).ask("How many schools did the storm close?")
        server.start()
        answer = Assistant(settings, llm=None, embedder=FakeEmbedder()).ask("How many schools did the storm close?")
        assert "40 schools" in answer.text
    finally:
        server.stop()
