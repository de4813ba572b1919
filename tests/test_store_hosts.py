"""Stores in different data dirs on one Chroma follow each other's writes and removals through the change log;
the writer claim refuses a second writer and takes over a stale one (fast: one embedded Chroma, two stores)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.errors import StoreLockedError
from tests.conftest import FakeEmbedder

STORY = (
    "Brindlewick ferry resumes\n\nThe Brindlewick ferry carried 312 passengers on its first crossing since the "
    "flood, the harbour office of Quellmoor said on Monday.\n"
)
OTHER = "Orchard count\n\nGrowers in Tamsford counted 48 pear trees lost to the frost this spring.\n"


@pytest.fixture
def two_hosts(tmp_path: Path, make_settings):
    """Two assistants with their own data dirs on the same (embedded) Chroma client, as two hosts on one server."""
    from assistant.engine import Assistant
    from assistant.store.chroma import open_client
    from assistant.store.chunk_store import ChunkStore

    shared = open_client(make_settings(data_dir=tmp_path / "server"))
    hosts = []
    for name in ("a", "b"):
        settings = make_settings(data_dir=tmp_path / name, store_sync_s=0)
        embedder = FakeEmbedder()
        store = ChunkStore(settings, embedder.name, embedder.dimension, client=shared)
        hosts.append(Assistant(settings, llm=None, embedder=embedder, store=store))
    return hosts


def _corpus(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_an_article_ingested_on_one_host_reaches_the_other_hosts_lexical_index(tmp_path: Path, two_hosts) -> None:
    a, b = two_hosts
    a.ingest([_corpus(tmp_path / "corpus-1", **{"orchard.txt": OTHER})])
    assert b.store.lexical_search("pear trees", 5, _no_filters())  # B opened: its index built from Chroma
    a.ingest([_corpus(tmp_path / "corpus-2", **{"ferry.txt": STORY})])
    hits = b.store.lexical_search("Brindlewick", 5, _no_filters())
    assert hits and b.store.chunks_by_id([hits[0][0]])[hits[0][0]].title == "Brindlewick ferry resumes"
    assert b.store.lexical.count(_no_filters()) == b.store.chunk_count(), "B's index holds every chunk in Chroma"
    assert "312 passengers" in b.ask("How many passengers did the Brindlewick ferry carry?").text


def test_a_followed_chunk_carries_the_sentence_vectors_its_writer_computed(tmp_path: Path, two_hosts) -> None:
    a, b = two_hosts
    b.ingest([_corpus(tmp_path / "corpus-1", **{"orchard.txt": OTHER})])  # B's index exists before A writes
    a.ingest([_corpus(tmp_path / "corpus-2", **{"ferry.txt": STORY})])
    hits = b.store.lexical_search("Brindlewick", 5, _no_filters())
    assert hits
    chunk_id = hits[0][0]
    written = a.store.lexical.fetch([chunk_id])[chunk_id].sentence_vectors
    assert written and b.store.lexical.fetch([chunk_id])[chunk_id].sentence_vectors == written


def test_an_article_removed_on_one_host_leaves_the_other_hosts_index(tmp_path: Path, two_hosts) -> None:
    a, b = two_hosts
    a.ingest([_corpus(tmp_path / "corpus", **{"ferry.txt": STORY, "orchard.txt": OTHER})])
    assert b.store.lexical_search("Brindlewick", 5, _no_filters())
    ferry = next(d for d in a.store.documents().values() if d.title.startswith("Brindlewick"))
    a.store.delete_articles([ferry.doc_id])
    assert not b.store.lexical_search("Brindlewick", 5, _no_filters())
    assert b.store.lexical.count(_no_filters()) == b.store.chunk_count()
    assert not any(c.doc_id == ferry.doc_id for c in b.ask("How many passengers did the ferry carry?").citations)


def test_a_host_checks_the_change_log_at_most_once_per_sync_interval(tmp_path: Path, make_settings) -> None:
    from assistant.store.chunk_store import ChunkStore

    store = ChunkStore(make_settings(store_sync_s=60), "fake-hash-embedder", 256)
    store.open(create=True)
    counted = []
    log = store._change_log()
    original = log.latest
    log.latest = lambda: counted.append(1) or original()  # type: ignore[method-assign]
    store.lexical_search("anything", 3, _no_filters())
    assert counted, "the first search looks"
    counted.clear()
    for _ in range(5):
        store.lexical_search("anything", 3, _no_filters())
    assert not counted, "later searches within the interval do not"


def test_an_index_that_followed_a_rebuilt_store_is_rebuilt_from_it(tmp_path: Path, two_hosts) -> None:
    a, b = two_hosts
    a.ingest([_corpus(tmp_path / "corpus-1", **{"ferry.txt": STORY})])
    assert b.store.lexical_search("Brindlewick", 5, _no_filters())
    a.ingest([_corpus(tmp_path / "corpus-2", **{"orchard.txt": OTHER})], rebuild=True)
    assert not b.store.lexical_search("Brindlewick", 5, _no_filters()), "the old store's articles are gone"
    assert b.store.lexical_search("pear trees", 5, _no_filters())


def _claim(client, **kwargs):
    from assistant.store.claim import WriterClaim

    collection = client.get_or_create_collection("articles-writer", embedding_function=None)
    return WriterClaim(
        collection,
        lambda what, call: call(),
        stale_after_s=kwargs.pop("stale_after_s", 30.0),
        location="server: test",
        **kwargs,
    )


def test_a_second_writer_is_refused_with_the_host_and_pid_of_the_first(make_settings) -> None:
    from assistant.store.chroma import open_client

    client = open_client(make_settings())
    first = _claim(client)
    second = _claim(client)
    second.host, second.pid = "another-host", 424242  # another machine: the first's PID cannot be checked there
    first.acquire()
    try:
        with pytest.raises(StoreLockedError, match=f"PID {first.pid} on host {first.host}"):
            second.acquire()
    finally:
        first.release()
    second.acquire()  # released: free again
    second.release()


def test_a_claim_whose_heartbeat_stopped_is_taken_over_after_the_timeout(make_settings) -> None:
    from assistant.store.chroma import open_client

    client = open_client(make_settings())
    gone = _claim(client, stale_after_s=1.0)
    gone.host = "a-host-that-went-away"
    gone._write()  # its claim stays, and nothing refreshes it
    late = _claim(client, stale_after_s=1.0)
    with pytest.raises(StoreLockedError, match="a-host-that-went-away"):
        late.acquire()
    time.sleep(1.2)
    late.acquire()
    late.release()


def test_a_claim_left_by_a_process_that_ended_on_this_host_is_taken_over_at_once(make_settings) -> None:
    import subprocess
    import sys

    from assistant.store.chroma import open_client

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    client = open_client(make_settings())
    dead = _claim(client)
    dead.pid = int(ended.stdout)
    dead._write()
    fresh = _claim(client)
    fresh.acquire()
    fresh.release()


def _no_filters():
    from assistant.store.lexical import Filters

    return Filters()
