"""What may become evidence: no injected instruction, no chunk of an article whose write is unfinished."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import FakeLLM

QUESTION = "How many benches did the Brackwater council approve?"


def slow_record_writes(
    monkeypatch: pytest.MonkeyPatch,
    started: threading.Event,
    seconds: float,
    recorded: set[str] | None = None,
    hold: threading.Event | None = None,
) -> None:
    """Make every article record wait ``seconds`` after its chunks are in the store: a half-written article.
    With ``hold``, the first record also waits (up to two minutes) until ``hold`` is set, so a test can make
    sure something happened in the half-written window however fast the machine is. The ids of records
    written go to ``recorded`` once their write returns."""
    from chromadb.api.models.Collection import Collection

    original = Collection.upsert

    def upsert(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.name.endswith("-articles"):
            return original(self, *args, **kwargs)
        started.set()
        time.sleep(seconds)
        if hold is not None:
            hold.wait(120)
        done = original(self, *args, **kwargs)
        if recorded is not None:
            recorded.update(kwargs["ids"] if "ids" in kwargs else args[0])
        return done

    monkeypatch.setattr(Collection, "upsert", upsert)


def test_an_article_whose_record_is_not_written_yet_is_never_cited(
    fake_assistant_factory, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = fake_assistant_factory(FakeLLM(lambda prompt: "NOT IN SOURCES"))
    assistant.ingest([tiny_corpus])
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "benches.md").write_text("# Brackwater council\n\nThe Brackwater council approved 37 benches.\n")
    started = threading.Event()
    slow_record_writes(monkeypatch, started, seconds=3)
    writer = threading.Thread(target=assistant.ingest, args=([upload],))
    writer.start()
    assert started.wait(60)
    chunks = [c for c in assistant.store.all_chunks() if "Brackwater" in c.text]
    assert chunks, "the new article's chunks are in the store, its record is not"
    during = assistant.ask(QUESTION)
    writer.join()
    after = assistant.ask(QUESTION)
    assert all("Brackwater" not in c.quote for c in during.citations)
    assert all(p.doc_id != chunks[0].doc_id for p in during.passages)
    assert "37 benches" in after.text and after.citations[0].doc_id == chunks[0].doc_id
