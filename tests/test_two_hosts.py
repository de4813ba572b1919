"""Two hosts on one real `chroma run` server: each its own process and data dir, the same archive within seconds.

Host A ingests and prunes; host B keeps serving questions from its own process the whole time. B must find an
article A just ingested through its own lexical index (BM25, the way a rare name finds its one article), stop
citing one A removed, and a second writer must be refused while A writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, TINY_ARTICLES, write_check_calibrator
from tests.test_store_server import ChromaServer

HOST = """
import json, sys
from pathlib import Path
from assistant.engine import Assistant
from assistant.settings import Settings
from assistant.store.lexical import Filters
from tests.conftest import FakeEmbedder

settings = Settings(**json.loads(sys.argv[1]))
assistant = Assistant(settings, llm=None, embedder=FakeEmbedder())
command = sys.argv[2]
if command == "ingest":
    report = assistant.ingest([Path(p) for p in sys.argv[3:]], prune=True)
    print(json.dumps({"added": report.added, "removed": report.removed}), flush=True)
elif command == "hold":  # a writer in the middle of a long ingest
    with assistant.store.writing():
        print("holding", flush=True)
        sys.stdin.readline()
elif command == "serve":
    print("ready", flush=True)
    for line in sys.stdin:
        question = line.strip()
        answer = assistant.ask(question)
        hits = assistant.store.lexical_search(question, 3, Filters())
        chunks = assistant.store.chunks_by_id([i for i, _ in hits])
        print(json.dumps({
            "cited": sorted({c.title for c in answer.citations}),
            "lexical": [chunks[i].title for i, _ in hits if i in chunks],
            "text": answer.text,
        }), flush=True)
"""
NEW_ARTICLE = (
    "Quellmoor ferry resumes\n\nThe Quellmoor ferry carried 312 passengers on its first crossing since the flood, "
    "the Brindlewick harbour office said.\n"
)
QUESTION = "How many passengers did the Quellmoor ferry carry?"


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**keep, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def _settings(tmp_path: Path, host: str, url: str) -> str:
    calibration = write_check_calibrator(tmp_path / "check-calibrator.json")
    values: dict[str, Any] = {
        "data_dir": str(tmp_path / f"host-{host}"),
        "chroma_url": url,
        "trust": {"calibration_file": str(calibration), "check": True, "abstain_below": None},
    }
    return json.dumps(values)


def _run(tmp_path: Path, host: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HOST, _settings(tmp_path, host, url), *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=180,
    )


class Serving:
    """Host B: one long-lived process answering questions sent on its stdin."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOST, _settings(tmp_path, "b", url), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "host-b.log").open("w"),
            text=True,
            env=_env(),
            cwd=tmp_path,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"host B ended (exit {self.process.poll()})")
        return line.strip()

    def ask(self, question: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(question + "\n")
        self.process.stdin.flush()
        return json.loads(self._line())

    def until(self, question: str, done: Any, limit_s: float) -> tuple[float, dict[str, Any]]:
        started = time.monotonic()
        while True:
            reply = self.ask(question)
            waited = time.monotonic() - started
            if done(reply) or waited > limit_s:
                return waited, reply
            time.sleep(0.2)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    chroma = ChromaServer(tmp_path)
    chroma.start()
    try:
        yield chroma.url
    finally:
        chroma.stop()


def test_an_article_ingested_on_one_host_is_answered_on_another_within_5_s_and_a_removed_one_stops(
    tmp_path: Path, server: str
) -> None:
    corpus = tmp_path / "corpus-a"
    corpus.mkdir()
    (corpus / "storm.md").write_text(TINY_ARTICLES["storm.md"], encoding="utf-8")
    first = _run(tmp_path, "a", server, "ingest", str(corpus))
    assert first.returncode == 0, first.stderr[-2000:]
    host_b = Serving(tmp_path, server)
    try:
        assert "Quellmoor ferry resumes" not in host_b.ask(QUESTION)["lexical"]

        (corpus / "ferry.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        added = _run(tmp_path, "a", server, "ingest", str(corpus))
        assert added.returncode == 0 and json.loads(added.stdout)["added"] == 1, added.stderr[-2000:]
        waited, reply = host_b.until(QUESTION, lambda r: "Quellmoor ferry resumes" in r["lexical"], 5.0)
        assert "Quellmoor ferry resumes" in reply["lexical"], f"B's lexical index never got it: {reply}"
        assert "Quellmoor ferry resumes" in reply["cited"] and "312" in reply["text"]
        assert waited <= 5.0

        (corpus / "ferry.txt").unlink()
        pruned = _run(tmp_path, "a", server, "ingest", str(corpus))
        assert pruned.returncode == 0 and json.loads(pruned.stdout)["removed"] == 1, pruned.stderr[-2000:]
        waited, reply = host_b.until(
            QUESTION, lambda r: "Quellmoor ferry resumes" not in r["cited"] + r["lexical"], 5.0
        )
        assert "Quellmoor ferry resumes" not in reply["cited"] + reply["lexical"], reply
        assert waited <= 5.0
    finally:
        host_b.close()


def test_a_second_writer_on_another_host_is_refused_with_the_first_ones_host_and_pid(
    tmp_path: Path, server: str
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "storm.md").write_text(TINY_ARTICLES["storm.md"], encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOST, _settings(tmp_path, "a", server), "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=tmp_path,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        second = _run(tmp_path, "b", server, "ingest", str(corpus))
        assert second.returncode != 0
        assert f"PID {holder.pid} on host {os.uname().nodename}" in second.stderr, second.stderr[-2000:]
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    after = _run(tmp_path, "b", server, "ingest", str(corpus))
    assert after.returncode == 0 and json.loads(after.stdout)["added"] == 1, after.stderr[-2000:]
