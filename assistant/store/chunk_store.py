"""The store: chunk vectors and article records in Chroma, the lexical index beside them, kept in step.

Chroma (embedded on disk, or a server when ``chroma_url`` is set) holds every chunk with its vector and the
article records; an article's record is written last and marks its write complete. The lexical index
(``lexical.py``) holds BM25 terms, filter fields and what a query needs to show a chunk. The two share no
transaction: a ledger note (``ledger.py``) names the articles of each batch until both sides are written,
and ``heal`` repairs the articles of any note left by a killed write.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from assistant.errors import StoreLockedError, StoreMismatchError, StoreMissingError
from assistant.settings import Settings
from assistant.store import repair, search, writing
from assistant.store.changes import ChangeLog, Cursor, CursorFile
from assistant.store.chroma import (
    batches,
    chunk_from_record,
    chunk_metadata,
    is_not_found,
    open_client,
    published_number,
    with_retries,
)
from assistant.store.claim import WriterClaim
from assistant.store.ledger import Ledger
from assistant.store.lexical import Filters, LexicalIndex, make_lexical_index
from assistant.store.locking import WriteGuard
from assistant.store.records import (
    ArticleWrite,
    StoredDocument,
    article_from_record,
    make_filters,
    stored_document,
    where_clause,
)
from assistant.types import Article, Chunk

__all__ = [
    "ArticleWrite",
    "ChunkStore",
    "StoredDocument",
    "chunk_from_record",
    "chunk_metadata",
    "make_filters",
    "published_number",
    "where_clause",
]

log = logging.getLogger(__name__)
REBUILD_HINT = "rebuild it with `assistant ingest --rebuild`"
WRITE_BATCH = 2000


class ChunkStore:
    """Chunks (with embeddings) and articles in two Chroma collections, plus the lexical index, kept in step."""

    def __init__(
        self,
        settings: Settings,
        embedder_name: str,
        dimension: int,
        client: Any = None,
        lexical: LexicalIndex | None = None,
    ) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._client = client
        self._client_lock = threading.Lock()  # two first uses at once (a UI tab and an ingest) open one client
        self._chunks: Any = None
        self._docs: Any = None
        self.lexical = lexical or make_lexical_index(settings.lexical_engine, settings.data_dir)
        self.ledger = Ledger(settings.data_dir / "ledger")
        self.cursor = CursorFile(settings.data_dir / "lexical-cursor.json")
        self._changes: ChangeLog | None = None
        self._checked_at = -math.inf
        self.guard = WriteGuard(settings.data_dir, self._open_claim if settings.chroma_url else None)

    # -- opening -------------------------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Human-readable description of where the store lives."""
        if self.settings.chroma_url:
            return f"server: {self.settings.chroma_url}"
        return f"embedded: {self.settings.chroma_path}"

    @property
    def client(self) -> Any:
        """The Chroma client, opened on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = open_client(self.settings)
        return self._client

    @property
    def _names(self) -> tuple[str, str]:
        return self.settings.collection, f"{self.settings.collection}-articles"

    @property
    def _changes_name(self) -> str:
        return f"{self.settings.collection}-changes"

    def _call(self, what: str, call: Any) -> Any:
        return with_retries(self.settings, call, what)

    def exists(self) -> bool:
        """True when the chunk collection exists."""
        try:
            self._call("open the collection", lambda: self.client.get_collection(self._names[0]))
        except Exception as err:
            if is_not_found(err):
                return False
            raise
        return True

    def open(self, *, create: bool = False) -> None:
        """Open the collections, checking they were built with this embedder; repair an interrupted write."""
        if self._chunks is not None:
            return
        chunks_name, docs_name = self._names
        if create:
            chunks = self._call(
                "create the collection",
                lambda: self.client.get_or_create_collection(
                    chunks_name,
                    metadata={"embedder": self.embedder_name, "dimension": self.dimension, "hnsw:space": "cosine"},
                    embedding_function=None,
                ),
            )
        else:
            try:
                chunks = self._call(
                    "open the collection", lambda: self.client.get_collection(chunks_name, embedding_function=None)
                )
            except Exception as err:
                if is_not_found(err):
                    raise StoreMissingError(
                        f"No store at {self.location} yet: run `assistant ingest` (or `make run`) first."
                    ) from err
                raise
        self._check_embedder(chunks.metadata or {})
        self._chunks = chunks
        self._docs = self._call(
            "open the collection", lambda: self.client.get_or_create_collection(docs_name, embedding_function=None)
        )
        if not create and (self.ledger.pending() or not self.lexical.exists()):
            self._heal_if_free()

    def _check_embedder(self, metadata: dict[str, Any]) -> None:
        name = metadata.get("embedder")
        dimension = metadata.get("dimension")
        if name != self.embedder_name or (dimension is not None and int(dimension) != self.dimension):
            raise StoreMismatchError(
                f"The store at {self.location} was built with embedder {name!r} (dimension {dimension}), "
                f"but this assistant uses {self.embedder_name!r} (dimension {self.dimension}); "
                f"{REBUILD_HINT}."
            )

    def _heal_if_free(self) -> None:
        """A reader repairs only when no writer holds the lock (a writer heals at its own start)."""
        try:
            with self.guard.local():
                self.heal()
        except StoreLockedError:
            log.info("store is being written by another process; it repairs any interrupted write itself")

    def _open_claim(self) -> WriterClaim:
        name = f"{self.settings.collection}-writer"
        collection = self._call(
            "open the writer claim", lambda: self.client.get_or_create_collection(name, embedding_function=None)
        )
        return WriterClaim(collection, self._call, stale_after_s=self.settings.writer_stale_s, location=self.location)

    def writing(self) -> AbstractContextManager[None]:
        """Hold the right to write: the data dir's lock and, on a Chroma server, the one writer claim of all hosts."""
        return self.guard.writing()

    def _change_log(self) -> ChangeLog:
        if self._changes is None:
            collection = self._call(
                "open the change log",
                lambda: self.client.get_or_create_collection(self._changes_name, embedding_function=None),
            )
            self._changes = ChangeLog(collection, self._call)
        return self._changes

    def reset(self) -> None:
        """Delete the collections and the lexical index (used by --rebuild)."""
        for name in [*self._names, self._changes_name]:
            try:
                self._call("delete a collection", lambda name=name: self.client.delete_collection(name))
            except Exception as err:
                if not is_not_found(err):
                    raise
        self.lexical.reset()
        self.ledger.clear()
        self.cursor.clear()
        self._chunks = self._docs = self._changes = None

    # -- following other hosts -----------------------------------------------------------------------------------
    def catch_up(self, *, force: bool = False) -> int:
        """Copy into the lexical index what other processes wrote to or removed from Chroma since this one last
        looked (at most once per ``store_sync_s`` unless ``force``); returns how many articles changed in it."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.store_sync_s:
            return 0
        self._checked_at = now
        self.open()
        try:
            latest = self._change_log().latest()
        except Exception as err:
            if not is_not_found(err):
                raise
            self._chunks = self._docs = self._changes = None  # the store on the server was rebuilt: open it again
            self.open()
            latest = self._change_log().latest()
        cursor = self.cursor.read()
        if cursor.log_id == self._change_log().log_id and cursor.seq == latest:
            return 0
        try:
            with self.guard.local(following=True):
                return self._follow()
        except StoreLockedError:
            return 0  # this data dir's writer keeps its lexical index itself

    def _follow(self) -> int:
        changes = self._change_log()
        cursor = self.cursor.read()
        latest = changes.latest()
        if (cursor.log_id and cursor.log_id != changes.log_id) or cursor.seq > latest:
            # another log than the one this index followed: the server's store was rebuilt since
            self.rebuild_lexical()
            return self.document_count()
        seq, doc_ids = changes.since(cursor.seq)
        followed = 0
        for group in batches(sorted(doc_ids), 200):
            followed += repair.follow(self._chunks, self._docs, self.lexical, self._call, list(group))
        self.cursor.write(Cursor(changes.log_id, seq))
        return followed

    def _record_change(self, doc_ids: Sequence[str]) -> None:
        """Append the change to the log; this index already holds it, so its cursor moves too when it was current."""
        changes = self._change_log()
        seq = changes.append(doc_ids)
        cursor = self.cursor.read()
        if cursor.log_id in ("", changes.log_id) and cursor.seq == seq - 1:
            self.cursor.write(Cursor(changes.log_id, seq))

    # -- repair --------------------------------------------------------------------------------------------------
    def heal(self) -> int:
        """Bring Chroma and the lexical index in step (call under the write lock); returns articles repaired.

        Builds the lexical index from Chroma when it is missing or of an older format (stores written before
        it existed), then repairs the articles named by ledger notes left by a killed write.
        """
        self.open(create=True)
        repaired = 0
        if not self.lexical.exists():
            repaired += self.rebuild_lexical()
        pending = sorted(self.ledger.pending())
        for group in batches(pending, 200):
            repaired += repair.repair(self._chunks, self._docs, self.lexical, self._call, list(group))
        if pending:
            self._record_change(pending)
        self.ledger.clear()
        repaired += self._follow()
        return repaired

    def rebuild_lexical(self) -> int:
        """Fill the lexical index from every chunk in Chroma, a page at a time; returns chunks indexed."""
        self.open(create=True)
        changes = self._change_log()
        latest = changes.latest()  # read first: a change made during the build is followed again, harmlessly
        done = repair.rebuild_lexical(self._chunks, self.lexical, self._call)
        self.cursor.write(Cursor(changes.log_id, latest))
        return done

    # -- writing -------------------------------------------------------------------------------------------------
    def write_articles(self, writes: Sequence[ArticleWrite]) -> None:
        """Store a batch of articles: chunks to Chroma, then the lexical index, then the article records, then a
        change in the log that other hosts follow."""
        if not writes:
            return
        with self.writing():
            self.guard.check()
            self._write_articles(writes)
            self._record_change([w.article.doc_id for w in writes])

    def _write_articles(self, writes: Sequence[ArticleWrite]) -> None:
        self.open(create=True)
        step = max(1, min(WRITE_BATCH, self._max_batch()))
        writing.write_batch(self._chunks, self._docs, self.lexical, self.ledger, self._call, writes, step)

    def write_article(
        self,
        article: Article,
        content_hash: str,
        chunks: list[Chunk],
        vectors: list[list[float]],
        signature: tuple[int, ...] = (),
    ) -> None:
        """Store one article (see ``write_articles``)."""
        self.write_articles([ArticleWrite(article, content_hash, chunks, vectors, signature, replaces=True)])

    def delete_articles(self, doc_ids: Sequence[str]) -> int:
        """Remove articles and their chunks from both sides, and log the removal for other hosts; returns how many
        chunks were removed."""
        self.open()
        if not doc_ids:
            return 0
        with self.writing():
            self.guard.check()
            removed = writing.remove_articles(self._chunks, self._docs, self.lexical, self.ledger, self._call, doc_ids)
            self._record_change(doc_ids)
        return removed

    def delete_article(self, doc_id: str) -> int:
        """Remove one article and its chunks; returns how many chunks were removed."""
        return self.delete_articles([doc_id])

    def _max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return 1000

    # -- reading articles ----------------------------------------------------------------------------------------
    def documents(self) -> dict[str, StoredDocument]:
        """Every stored article by doc id (read a page at a time; for ingest, never per question)."""
        self.open()
        out: dict[str, StoredDocument] = {}
        total = self.document_count()
        while len(out) < total:
            offset = len(out)
            got = self._call(
                "read articles", lambda offset=offset: self._docs.get(include=["metadatas"], limit=2000, offset=offset)
            )
            if not got["ids"]:
                break
            for doc_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                out[doc_id] = stored_document(doc_id, meta)
        return out

    def article_metadata(self) -> dict[str, dict[str, Any]]:
        """Every stored article's metadata by doc id, without its text (read a page at a time; for listing)."""
        self.open()
        out: dict[str, dict[str, Any]] = {}
        total = self.document_count()
        while len(out) < total:
            offset = len(out)
            got = self._call(
                "read articles", lambda offset=offset: self._docs.get(include=["metadatas"], limit=2000, offset=offset)
            )
            if not got["ids"]:
                break
            out.update((doc_id, dict(meta or {})) for doc_id, meta in zip(got["ids"], got["metadatas"], strict=True))
        return out

    def get_article(self, doc_id: str) -> Article | None:
        """The stored article, full text included."""
        return self.get_articles([doc_id]).get(doc_id)

    def get_articles(self, doc_ids: Sequence[str]) -> dict[str, Article]:
        """The stored articles among ``doc_ids``, full text included (one read per batch, not one per article)."""
        self.open()
        out: dict[str, Article] = {}
        for group in batches(list(dict.fromkeys(doc_ids))):
            got = self._call(
                "read articles", lambda group=group: self._docs.get(ids=list(group), include=["documents", "metadatas"])
            )
            for doc_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out[doc_id] = article_from_record(doc_id, text, meta)
        return out

    def find_by_hash(self, content_hash: str) -> list[str]:
        """Doc ids of stored articles with this content hash."""
        self.open(create=True)
        got = self._call("read articles", lambda: self._docs.get(where={"content_hash": content_hash}, include=[]))
        return list(got["ids"])

    def chunk_count(self) -> int:
        """How many chunks are stored."""
        self.open()
        return int(self._call("count chunks", lambda: self._chunks.count()))

    def document_count(self) -> int:
        """How many articles are stored."""
        self.open()
        return int(self._call("count articles", lambda: self._docs.count()))

    # -- searching -----------------------------------------------------------------------------------------------
    def dense_search(self, vector: list[float], n: int, filters: Filters) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the ``n`` nearest chunks passing ``filters``."""
        self.open()
        self.catch_up()
        return search.dense_search(self._chunks, self.lexical, self._call, vector, n, filters)

    def lexical_search(self, query: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """Ids and BM25 scores of the best ``n`` lexical matches passing ``filters``."""
        self.open()
        self.catch_up()
        return self.lexical.search(query, n, filters)

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks (with their sentence vectors when stored) by id, from the lexical index, else from Chroma."""
        found = {cid: e.chunk_with_vectors() for cid, e in self.lexical.fetch(chunk_ids).items()}
        missing = [i for i in chunk_ids if i not in found]
        if missing:
            self.open()
            got = self._call("read chunks", lambda: self._chunks.get(ids=missing, include=["documents", "metadatas"]))
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                found[i] = chunk_from_record(i, d, m)
        return found

    def lead_chunks(self, doc_ids: Sequence[str]) -> dict[str, Chunk]:
        """The first chunk of each article (its headline and opening sentences), by doc id."""
        leads: dict[str, Chunk] = {}
        for doc_id in dict.fromkeys(doc_ids):
            chunks = self.chunks_by_id(self.lexical.chunk_ids_of(doc_id))
            if chunks:
                leads[doc_id] = min(chunks.values(), key=lambda chunk: chunk.start)
        return leads

    def query(self, vector: list[float], n: int, filters: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity."""
        hits = self.dense_search(vector, n, make_filters(filters))
        chunks = self.chunks_by_id([i for i, _ in hits])
        return [(chunks[i], s) for i, s in hits if i in chunks]

    def all_chunks(self, filters: dict[str, Any] | None = None) -> list[Chunk]:
        """Every stored chunk, read a page at a time (for tests and tools; never per question)."""
        self.open()
        out: list[Chunk] = []
        where = where_clause(filters)
        while True:
            offset = len(out)
            got = self._call(
                "read chunks",
                lambda offset=offset: self._chunks.get(
                    where=where, include=["documents", "metadatas"], limit=WRITE_BATCH, offset=offset
                ),
            )
            out += [
                chunk_from_record(i, d, m)
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            ]
            if len(got["ids"]) < WRITE_BATCH:
                return out
