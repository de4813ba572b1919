"""The store: chunk vectors and article records in Chroma, the lexical index beside them, kept in step.

Chroma (embedded on disk, or a server when ``chroma_url`` is set) holds every chunk with its vector and the
article records; an article's record is written last and marks its write complete. The lexical index
(``lexical.py``) holds BM25 terms, filter fields and what a query needs to show a chunk. The two share no
transaction: a ledger note (``ledger.py``) names the articles of each batch until both sides are written,
and ``heal`` repairs the articles of any note left by a killed write.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.errors import StoreLockedError, StoreMismatchError, StoreMissingError
from assistant.ingest import near_duplicates
from assistant.settings import Settings
from assistant.store.chroma import (
    batches,
    chunk_from_record,
    chunk_metadata,
    is_not_found,
    open_client,
    published_number,
    with_retries,
)
from assistant.store.ledger import Ledger
from assistant.store.lexical import Entry, Filters, LexicalIndex, make_lexical_index
from assistant.store.locking import WriteLock
from assistant.store.vectors import pack_f16, unpack_f16
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
EXACT_SEARCH_LIMIT = 300
"""A filter that leaves at most this many chunks is searched exactly, over the vectors the lexical index keeps."""
OVERFETCH_LIMIT = 4000
"""Most neighbours fetched from the vector index to find ``n`` that pass a broad filter."""
WRITE_BATCH = 2000


@dataclass(frozen=True)
class StoredDocument:
    """What the store records of one article."""

    doc_id: str
    source_path: str
    content_hash: str
    title: str
    chunk_count: int
    signature: tuple[int, ...] = ()  # MinHash of the text (near_duplicates.py); empty in stores built before it


@dataclass(frozen=True)
class ArticleWrite:
    """One article ready to store: its chunks, their vectors and (when known) their sentence vectors."""

    article: Article
    content_hash: str
    chunks: list[Chunk]
    vectors: list[list[float]]
    signature: tuple[int, ...] = ()
    sentence_vectors: list[bytes] | None = None
    replaces: bool = False
    """True when an earlier version of the article is stored (its old chunks are removed)."""


def make_filters(filters: dict[str, Any] | None) -> Filters:
    """Filters from the API's dict (source, doc_id, published_from, published_to)."""
    filters = filters or {}
    unknown = set(filters) - {"source", "doc_id", "published_from", "published_to"}
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    return Filters(
        source=str(filters.get("source") or ""),
        doc_id=str(filters.get("doc_id") or ""),
        published_from=published_number(str(filters.get("published_from") or "")),
        published_to=(published_number(str(filters["published_to"])) or 99999999) if filters.get("published_to") else 0,
    )


def where_clause(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` for source / doc_id / published date range filters."""
    f = make_filters(filters)
    parts: list[dict[str, Any]] = []
    if f.source:
        parts.append({"source": f.source})
    if f.doc_id:
        parts.append({"doc_id": f.doc_id})
    if f.published_from:
        parts.append({"published_n": {"$gte": f.published_from}})
    if f.published_to:
        parts.append({"published_n": {"$lte": f.published_to}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


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
            with WriteLock(self.settings.data_dir):
                self.heal()
        except StoreLockedError:
            log.info("store is being written by another process; it repairs any interrupted write itself")

    def reset(self) -> None:
        """Delete both collections and the lexical index (used by --rebuild)."""
        for name in self._names:
            try:
                self._call("delete a collection", lambda name=name: self.client.delete_collection(name))
            except Exception as err:
                if not is_not_found(err):
                    raise
        self.lexical.reset()
        self.ledger.clear()
        self._chunks = self._docs = None

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
            repaired += self._repair(list(group))
        self.ledger.clear()
        return repaired

    def rebuild_lexical(self) -> int:
        """Fill the lexical index from every chunk in Chroma, a page at a time; returns chunks indexed."""
        self.open(create=True)
        self.lexical.reset()
        self.lexical.replace([], [])
        done = 0
        total = self.chunk_count()
        while done < total:
            got = self._call(
                "read chunks",
                lambda done=done: self._chunks.get(
                    include=["documents", "metadatas", "embeddings"], limit=WRITE_BATCH, offset=done
                ),
            )
            if not got["ids"]:
                break
            entries = [
                _entry_from_record(i, d, m, v)
                for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
            ]
            self.lexical.replace([], entries)
            done += len(entries)
        self.lexical.mark_built()
        if done:
            log.warning("built the lexical index from %d stored chunks", done)
        return done

    def _repair(self, doc_ids: list[str]) -> int:
        records = self._records(doc_ids)
        got = self._call(
            "read chunks",
            lambda: self._chunks.get(
                where={"doc_id": {"$in": doc_ids}}, include=["documents", "metadatas", "embeddings"]
            ),
        )
        by_doc: dict[str, list[tuple[str, str, dict[str, Any], Any]]] = {d: [] for d in doc_ids}
        for row in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True):
            by_doc.setdefault(str(row[2]["doc_id"]), []).append(row)
        drop_chunks: list[str] = []
        drop_records: list[str] = []
        relex: dict[str, list[Entry]] = {}
        for doc_id in doc_ids:
            rows = by_doc.get(doc_id, [])
            record = records.get(doc_id)
            keep = [r for r in rows if record and r[2].get("content_hash") == record.content_hash]
            if record is None or len(keep) != record.chunk_count:
                # Never written completely: remove every trace; the next ingest writes it again from its file.
                drop_chunks += [r[0] for r in rows]
                drop_records += [doc_id] if record else []
                relex[doc_id] = []
                continue
            kept = {r[0] for r in keep}
            drop_chunks += [r[0] for r in rows if r[0] not in kept]
            if sorted(self.lexical.chunk_ids_of(doc_id)) != sorted(kept):
                relex[doc_id] = [_entry_from_record(*r) for r in keep]
        for group in batches(drop_records):
            self._call("delete articles", lambda group=group: self._docs.delete(ids=list(group)))
        for group in batches(drop_chunks):
            self._call("delete chunks", lambda group=group: self._chunks.delete(ids=list(group)))
        if relex:
            self.lexical.replace(relex, [e for entries in relex.values() for e in entries])
        if relex or drop_chunks:
            log.warning("repaired %d article(s) left by an interrupted write", len(set(relex) | set(drop_records)))
        return len(set(relex) | set(drop_records))

    # -- writing -------------------------------------------------------------------------------------------------
    def write_articles(self, writes: Sequence[ArticleWrite]) -> None:
        """Store a batch of articles: chunks to Chroma, then the lexical index, then the article records."""
        if not writes:
            return
        self.open(create=True)
        note = self.ledger.begin(w.article.doc_id for w in writes)
        chunks = [c for w in writes for c in w.chunks]
        vectors = [v for w in writes for v in w.vectors]
        hashes = [w.content_hash for w in writes for _ in w.chunks]
        fresh = {c.id for c in chunks}
        stale = [i for w in writes if w.replaces for i in self.lexical.chunk_ids_of(w.article.doc_id) if i not in fresh]
        step = max(1, min(WRITE_BATCH, self._max_batch()))
        for start in range(0, len(chunks), step):
            batch_chunks, batch_vectors = chunks[start : start + step], vectors[start : start + step]
            batch_hashes = hashes[start : start + step]
            self._call(
                "write chunks",
                lambda batch_chunks=batch_chunks, batch_vectors=batch_vectors, batch_hashes=batch_hashes: (
                    self._chunks.upsert(
                        ids=[c.id for c in batch_chunks],
                        embeddings=batch_vectors,
                        documents=[c.text for c in batch_chunks],
                        metadatas=[chunk_metadata(c, h) for c, h in zip(batch_chunks, batch_hashes, strict=True)],
                    )
                ),
            )
        for stale_ids in batches(stale):
            self._call("delete chunks", lambda stale_ids=stale_ids: self._chunks.delete(ids=list(stale_ids)))
        entries = [
            Entry(
                chunk,
                w.content_hash,
                published_number(chunk.published),
                pack_f16(vector),
                w.sentence_vectors[i] if w.sentence_vectors else b"",
            )
            for w in writes
            for i, (chunk, vector) in enumerate(zip(w.chunks, w.vectors, strict=True))
        ]
        self.lexical.replace([w.article.doc_id for w in writes], entries)
        for start in range(0, len(writes), step):
            group = writes[start : start + step]
            self._call(
                "write articles",
                lambda group=group: self._docs.upsert(
                    ids=[w.article.doc_id for w in group],
                    embeddings=[[0.0]] * len(group),
                    documents=[w.article.text for w in group],
                    metadatas=[_article_metadata(w) for w in group],
                ),
            )
        self.ledger.end(note)

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
        """Remove articles and their chunks from both sides; returns how many chunks were removed."""
        self.open()
        if not doc_ids:
            return 0
        note = self.ledger.begin(doc_ids)
        ids = [i for d in doc_ids for i in self.lexical.chunk_ids_of(d)]
        for group in batches(list(doc_ids)):
            self._call("delete articles", lambda group=group: self._docs.delete(ids=list(group)))
        for group in batches(ids):
            self._call("delete chunks", lambda group=group: self._chunks.delete(ids=list(group)))
        self.lexical.replace(doc_ids, [])
        self.ledger.end(note)
        return len(ids)

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
                out[doc_id] = _stored(doc_id, meta)
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

    def _records(self, doc_ids: Sequence[str]) -> dict[str, StoredDocument]:
        out: dict[str, StoredDocument] = {}
        for group in batches(list(doc_ids)):
            got = self._call(
                "read articles", lambda group=group: self._docs.get(ids=list(group), include=["metadatas"])
            )
            out.update((i, _stored(i, m)) for i, m in zip(got["ids"], got["metadatas"], strict=True))
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
                out[doc_id] = Article(
                    doc_id=doc_id,
                    source_path=str(meta.get("source_path", "")),
                    title=str(meta.get("title", "")),
                    text=str(text),
                    source=str(meta.get("source", "")),
                    url=str(meta.get("url", "")),
                    published=str(meta.get("published", "")),
                    author=str(meta.get("author", "")),
                    tags=tuple(t for t in str(meta.get("tags", "")).split(",") if t),
                    page_starts=tuple(json.loads(str(meta.get("page_starts", "[]")))),
                )
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
        if filters.empty:
            return self._nearest(vector, n)
        if not self.lexical.exists():
            return [(c.id, s) for c, s in self._chroma_query(vector, n, filters)]
        matching = self.lexical.count(filters)
        if matching == 0:
            return []
        if matching <= EXACT_SEARCH_LIMIT:
            return _exact(vector, self.lexical.within(filters, matching), n)
        total = max(matching, self.lexical.count(Filters()))
        want = min(total, math.ceil(n * total / matching * 1.5) + n)
        while True:
            near = self._nearest(vector, want)
            passing = self.lexical.passing([i for i, _ in near], filters)
            kept = [(i, s) for i, s in near if i in passing]
            if len(kept) >= n or want >= min(total, OVERFETCH_LIMIT):
                return kept[:n]
            want = min(total, OVERFETCH_LIMIT, want * 3)

    def _nearest(self, vector: list[float], n: int) -> list[tuple[str, float]]:
        # No count first: Chroma returns what it has when asked for more (and nothing from an empty collection),
        # and a count per question cost as much as the search itself.
        got = self._call(
            "search vectors",
            lambda: self._chunks.query(query_embeddings=[vector], n_results=max(1, n), include=["distances"]),
        )
        ids, distances = (got.get("ids") or [[]])[0], (got.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def lexical_search(self, query: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """Ids and BM25 scores of the best ``n`` lexical matches passing ``filters``."""
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

    def query(self, vector: list[float], n: int, filters: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity."""
        hits = self.dense_search(vector, n, make_filters(filters))
        chunks = self.chunks_by_id([i for i, _ in hits])
        return [(chunks[i], s) for i, s in hits if i in chunks]

    def _chroma_query(self, vector: list[float], n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        """Chroma's own filtered search: correct but slow on large stores (used only before the index exists)."""
        count = self.chunk_count()
        if count == 0:
            return []
        where = where_clause({k: v for k, v in _filter_dict(filters).items() if v})
        got = self._call(
            "search vectors",
            lambda: self._chunks.query(
                query_embeddings=[vector],
                n_results=min(n, count),
                where=where,
                include=["documents", "metadatas", "distances"],
            ),
        )
        return [
            (chunk_from_record(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

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


def _filter_dict(filters: Filters) -> dict[str, Any]:
    return {
        "source": filters.source,
        "doc_id": filters.doc_id,
        "published_from": str(filters.published_from) if filters.published_from else "",
        "published_to": str(filters.published_to) if filters.published_to else "",
    }


def _exact(vector: list[float], entries: list[Entry], n: int) -> list[tuple[str, float]]:
    import numpy as np

    usable = [e for e in entries if e.vector]
    if not usable:
        return []
    matrix = np.stack([unpack_f16(e.vector) for e in usable])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    order = np.argsort(-scores)[:n]
    return [(usable[i].chunk.id, float(scores[i])) for i in order]


def _entry_from_record(chunk_id: str, text: str, meta: dict[str, Any], embedding: Any) -> Entry:
    chunk = chunk_from_record(chunk_id, text, meta)
    vector = pack_f16(list(embedding)) if embedding is not None else b""
    return Entry(chunk, str(meta.get("content_hash", "")), int(meta.get("published_n", 0)), vector, b"")


def _stored(doc_id: str, meta: dict[str, Any]) -> StoredDocument:
    return StoredDocument(
        doc_id=doc_id,
        source_path=str(meta.get("source_path", "")),
        content_hash=str(meta.get("content_hash", "")),
        title=str(meta.get("title", "")),
        chunk_count=int(meta.get("chunk_count", 0)),
        signature=near_duplicates.decode(str(meta.get("minhash", ""))),
    )


def _article_metadata(write: ArticleWrite) -> dict[str, Any]:
    article = write.article
    return {
        "source_path": article.source_path,
        "content_hash": write.content_hash,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published,
        "author": article.author,
        "tags": ",".join(article.tags),
        "page_starts": json.dumps(article.page_starts),
        "chunk_count": len(write.chunks),
        "minhash": near_duplicates.encode(write.signature),
    }
