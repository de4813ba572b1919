"""Ingest: idempotent, incremental, prune, duplicates, lock, embedder mismatch, crash resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.errors import StoreLockedError, StoreMismatchError, StoreMissingError
from assistant.store.locking import WriteLock
from tests.conftest import REPO, FakeEmbedder, republished


def test_first_ingest_adds_every_article(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    report = assistant.ingest([tiny_corpus])
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert report.chunks_written == assistant.store.chunk_count() > 0
    assert assistant.stats()["documents"] == 3


def test_reingest_of_unchanged_corpus_writes_nothing(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([tiny_corpus])
    calls_before = assistant.embedder.calls
    report = assistant.ingest([tiny_corpus])
    assert report.wrote_nothing and report.unchanged == 3
    assert assistant.embedder.calls == calls_before, "nothing was re-embedded"


def test_edited_file_replaces_all_its_old_chunks(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([tiny_corpus])
    (tiny_corpus / "storm.md").write_text(
        "---\ntitle: Storm closes schools\n---\nA storm closed 55 schools. Snow fell all week.\n", encoding="utf-8"
    )
    report = assistant.ingest([tiny_corpus])
    assert (report.updated, report.unchanged) == (1, 2)
    texts = " ".join(c.text for c in assistant.store.all_chunks())
    assert "55 schools" in texts and "40 schools" not in texts


def test_prune_removes_chunks_of_deleted_files(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([tiny_corpus])
    (tiny_corpus / "festival.txt").unlink()
    kept = assistant.ingest([tiny_corpus])
    assert kept.removed == 0 and any("--prune" in m for m in kept.messages)
    report = assistant.ingest([tiny_corpus], prune=True)
    assert report.removed == 1
    assert "Riverton" not in " ".join(c.text for c in assistant.store.all_chunks())


def test_same_text_under_another_path_is_skipped(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([tiny_corpus])
    copy = tiny_corpus / "copy-of-storm.md"
    copy.write_text((tiny_corpus / "storm.md").read_text(encoding="utf-8"), encoding="utf-8")
    report = assistant.ingest([tiny_corpus])
    assert report.skipped == 1 and any("same text" in m for m in report.messages)


@pytest.fixture
def seed_story(seed_corpus: Path, tmp_path: Path) -> Path:
    """A corpus folder holding the seed article alone, as story.md."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "story.md").write_text(next(seed_corpus.glob("*.md")).read_text(encoding="utf-8"), encoding="utf-8")
    return corpus


def test_near_duplicate_under_another_path_is_skipped_unless_the_threshold_says_keep(
    fake_assistant_factory, seed_story: Path, tmp_path: Path
) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([seed_story])
    original = (seed_story / "story.md").read_text(encoding="utf-8")
    (seed_story / "republished.md").write_text(republished(original), encoding="utf-8")
    report = assistant.ingest([seed_story])
    assert (report.added, report.skipped) == (0, 1)
    assert any("nearly the same text" in m and "republished.md" in m for m in report.messages), report.messages
    assert assistant.stats()["documents"] == 1

    keep_all = fake_assistant_factory(data_dir=tmp_path / "keep", near_duplicate_threshold=1.0)
    keep_all.ingest([seed_story])
    assert keep_all.stats()["documents"] == 2


def test_small_edit_of_a_stored_article_is_an_update_not_a_near_duplicate(
    fake_assistant_factory, seed_story: Path
) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([seed_story])
    path = seed_story / "story.md"
    path.write_text(republished(path.read_text(encoding="utf-8")), encoding="utf-8")
    report = assistant.ingest([seed_story])
    assert (report.updated, report.skipped) == (1, 0)


def test_broken_file_is_reported_and_others_still_ingest(fake_assistant_factory, tiny_corpus: Path) -> None:
    (tiny_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tiny_corpus / "empty.txt").write_text("", encoding="utf-8")
    report = fake_assistant_factory().ingest([tiny_corpus])
    assert report.added == 3
    failed = {Path(p).name for p, _ in report.errors}
    assert {"broken.pdf", "empty.txt"} <= failed


def test_rebuild_starts_from_scratch(fake_assistant_factory, tiny_corpus: Path) -> None:
    assistant = fake_assistant_factory()
    assistant.ingest([tiny_corpus])
    report = assistant.ingest([tiny_corpus], rebuild=True)
    assert report.added == 3


def test_store_built_with_another_embedder_is_refused(make_settings, tiny_corpus: Path) -> None:
    from assistant.engine import Assistant

    settings = make_settings()
    Assistant(settings, llm=None, embedder=FakeEmbedder(name="embedder-a")).ingest([tiny_corpus])
    other = Assistant(settings, llm=None, embedder=FakeEmbedder(name="embedder-b"))
    with pytest.raises(StoreMismatchError) as err:
        other.ask("How many schools closed?")
    message = str(err.value)
    assert "embedder-a" in message and "embedder-b" in message and "assistant ingest --rebuild" in message


def test_asking_before_any_ingest_says_what_to_do(fake_assistant_factory) -> None:
    with pytest.raises(StoreMissingError, match="assistant ingest"):
        fake_assistant_factory().ask("anything?")


def test_second_writer_fails_at_once_naming_the_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time
            from pathlib import Path
            from assistant.store.locking import WriteLock
            with WriteLock(Path({str(tmp_path)!r})):
                print("locked", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreLockedError, match=f"PID {holder.pid}"):
            WriteLock(tmp_path).acquire()
        assert time.monotonic() - started < 2
    finally:
        holder.kill()
        holder.wait()
    with WriteLock(tmp_path):
        pass


KILL_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.conftest import FakeEmbedder
from assistant.engine import Assistant
from assistant.settings import Settings
from assistant.ingest import run as ingest_module
from assistant.store import lexical as lexical_module

ingest_module.BATCH_CHUNKS = 1  # one article per batch, so two complete before the third is cut
original = lexical_module.TantivyIndex.replace
calls = 0
def replace_then_maybe_hang(self, doc_ids, entries):
    global calls
    calls += bool(entries)  # article batches only (not the empty index made at the start)
    if calls == 3 and {when!r} == "before-lexical":
        print("chroma-written", flush=True)  # the third article's chunks are in Chroma, not in the index
        time.sleep(60)
    original(self, doc_ids, entries)
    if calls == 3 and {when!r} == "after-lexical":
        print("lexical-written", flush=True)  # in Chroma and the index, but its record is not written
        time.sleep(60)
lexical_module.TantivyIndex.replace = replace_then_maybe_hang
settings = Settings(data_dir=Path({data!r}), chroma_url=None)
Assistant(settings, llm=None, embedder=FakeEmbedder()).ingest([Path({corpus!r})])
"""


def _kill_mid_ingest(settings, corpus: Path, when: str) -> None:
    script = KILL_SCRIPT.format(repo=str(REPO), data=str(settings.data_dir), corpus=str(corpus), when=when)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert child.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] not in {"chroma-written", "lexical-written"}:
        line = child.stdout.readline()
        assert line, f"child ended early: {lines}"
        lines.append(line.strip())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


def assert_both_sides_agree(assistant) -> None:
    """Every stored article has all its chunks in Chroma and exactly those in the lexical index; no orphans."""
    store = assistant.store
    chunks = store.all_chunks()
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids))
    per_doc: dict[str, list[str]] = {}
    for chunk in chunks:
        per_doc.setdefault(chunk.doc_id, []).append(chunk.id)
    documents = store.documents()
    assert set(per_doc) == set(documents), "no chunk without its article record"
    for doc_id, doc in documents.items():
        assert len(per_doc[doc_id]) == doc.chunk_count, "no missing or extra chunk"
        assert sorted(store.lexical.chunk_ids_of(doc_id)) == sorted(per_doc[doc_id]), "lexical side matches"
    from assistant.store.lexical import Filters

    assert store.lexical.count(Filters()) == len(ids)
    assert not store.ledger.pending()


@pytest.mark.parametrize("when", ["before-lexical", "after-lexical"])
def test_sigkill_between_chroma_and_lexical_writes_heals_on_the_next_run(
    make_settings, tiny_corpus: Path, when: str
) -> None:
    from assistant.engine import Assistant

    for i in range(3):
        (tiny_corpus / f"extra-{i}.txt").write_text(f"Extra story {i}\n\nThe count was {i * 7} boats.\n")
    settings = make_settings()
    _kill_mid_ingest(settings, tiny_corpus, when)

    reader = Assistant(settings, llm=None, embedder=FakeEmbedder())
    assert reader.store.chunk_count() >= 0  # opening with no writer running repairs the cut article
    assert_both_sides_agree(reader)
    assert reader.stats()["documents"] == 2

    assistant = Assistant(settings, llm=None, embedder=FakeEmbedder())
    report = assistant.ingest([tiny_corpus])
    assert report.added == 6 - 2, "the two complete articles are unchanged; the rest are written"
    assert report.unchanged == 2
    assert_both_sides_agree(assistant)
    assert assistant.stats()["documents"] == 6
    assert assistant.ingest([tiny_corpus]).wrote_nothing


def test_ingest_heals_a_cut_write_when_no_reader_opened_the_store_first(make_settings, tiny_corpus: Path) -> None:
    from assistant.engine import Assistant

    settings = make_settings()
    _kill_mid_ingest(settings, tiny_corpus, "after-lexical")
    assert Assistant(settings, llm=None, embedder=FakeEmbedder()).ingest([tiny_corpus]).added == 1
