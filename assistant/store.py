"""Chroma store of chunks and articles: embedded on disk by default, a Chroma server when a URL is set."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from assistant import near_duplicates
from assistant.errors import StoreMismatchError, StoreMissingError, StoreUnavailableError
from assistant.settings import Settings
from assistant.types import Article, Chunk

REBUILD_HINT = "rebuild it with `assistant ingest --rebuild`"


@dataclass(frozen=True)
class StoredDocument:
    """What the store records of one article."""

    doc_id: str
    source_path: str
    content_hash: str
    title: str
    chunk_count: int
    signature: tuple[int, ...] = ()  # MinHash of the text (near_duplicates.py); empty in stores built before it


def published_number(published: str) -> int:
    """YYYY-MM-DD as the integer YYYYMMDD (0 when unknown), for range filters."""
    digits = "".join(ch for ch in published[:10] if ch.isdigit())
    if len(digits) == 8:
        return int(digits)
    if len(digits) == 4:
        return int(digits) * 10000
    return 0


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """Chroma metadata (flat, no None) for a chunk."""
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "source": chunk.source,
        "url": chunk.url,
        "published": chunk.published,
        "published_n": published_number(chunk.published),
        "chunk_index": chunk.chunk_index,
        "paragraph_index": chunk.paragraph_index,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentence_spans),
        "page": chunk.page or 0,
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a Chunk from what Chroma returns."""
    return Chunk(
        id=chunk_id,
        doc_id=str(meta["doc_id"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        chunk_index=int(meta["chunk_index"]),
        paragraph_index=int(meta["paragraph_index"]),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published=str(meta.get("published", "")),
        sentence_spans=tuple(tuple(span) for span in json.loads(str(meta.get("sentences", "[]")))),  # type: ignore[misc]
        page=int(meta.get("page", 0)) or None,
    )


def where_clause(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` for source / doc_id / published date range filters."""
    if not filters:
        return None
    parts: list[dict[str, Any]] = []
    if filters.get("source"):
        parts.append({"source": str(filters["source"])})
    if filters.get("doc_id"):
        parts.append({"doc_id": str(filters["doc_id"])})
    if filters.get("published_from"):
        parts.append({"published_n": {"$gte": published_number(str(filters["published_from"]))}})
    if filters.get("published_to"):
        parts.append({"published_n": {"$lte": published_number(str(filters["published_to"])) or 99999999}})
    unknown = set(filters) - {"source", "doc_id", "published_from", "published_to"}
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def open_client(settings: Settings) -> Any:
    """A Chroma client: HttpClient when ``chroma_url`` is set, else PersistentClient in the data dir."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as err:
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({type(err).__name__}); "
                "start it or unset ASSISTANT_CHROMA_URL."
            ) from err
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class ChunkStore:
    """Chunks (with embeddings) and articles (full text, content hash) in two Chroma collections."""

    def __init__(self, settings: Settings, embedder_name: str, dimension: int, client: Any = None) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._client = client
        self._chunks: Any = None
        self._docs: Any = None

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
            self._client = open_client(self.settings)
        return self._client

    @property
    def _names(self) -> tuple[str, str]:
        return self.settings.collection, f"{self.settings.collection}-articles"

    def exists(self) -> bool:
        """True when the chunk collection exists."""
        try:
            self.client.get_collection(self._names[0])
        except Exception as err:
            if _is_not_found(err):
                return False
            raise
        return True

    def open(self, *, create: bool = False) -> None:
        """Open the collections, checking they were built with this embedder."""
        if self._chunks is not None:
            return
        chunks_name, docs_name = self._names
        if create:
            chunks = self.client.get_or_create_collection(
                chunks_name,
                metadata={"embedder": self.embedder_name, "dimension": self.dimension, "hnsw:space": "cosine"},
                embedding_function=None,
            )
        else:
            try:
                chunks = self.client.get_collection(chunks_name, embedding_function=None)
            except Exception as err:
                if _is_not_found(err):
                    raise StoreMissingError(
                        f"No store at {self.location} yet: run `assistant ingest` (or `make run`) first."
                    ) from err
                raise
        self._check_embedder(chunks.metadata or {})
        self._chunks = chunks
        self._docs = self.client.get_or_create_collection(docs_name, embedding_function=None)

    def _check_embedder(self, metadata: dict[str, Any]) -> None:
        name = metadata.get("embedder")
        dimension = metadata.get("dimension")
        if name != self.embedder_name or (dimension is not None and int(dimension) != self.dimension):
            raise StoreMismatchError(
                f"The store at {self.location} was built with embedder {name!r} (dimension {dimension}), "
                f"but this assistant uses {self.embedder_name!r} (dimension {self.dimension}); "
                f"{REBUILD_HINT}."
            )

    def reset(self) -> None:
        """Delete both collections (used by --rebuild)."""
        for name in self._names:
            try:
                self.client.delete_collection(name)
            except Exception as err:
                if not _is_not_found(err):
                    raise
        self._chunks = self._docs = None

    def documents(self) -> dict[str, StoredDocument]:
        """Every stored article by doc id."""
        self.open()
        got = self._docs.get(include=["metadatas"])
        return {
            doc_id: StoredDocument(
                doc_id=doc_id,
                source_path=str(meta.get("source_path", "")),
                content_hash=str(meta.get("content_hash", "")),
                title=str(meta.get("title", "")),
                chunk_count=int(meta.get("chunk_count", 0)),
                signature=near_duplicates.decode(str(meta.get("minhash", ""))),
            )
            for doc_id, meta in zip(got["ids"], got["metadatas"], strict=True)
        }

    def write_article(
        self,
        article: Article,
        content_hash: str,
        chunks: list[Chunk],
        vectors: list[list[float]],
        signature: tuple[int, ...] = (),
    ) -> None:
        """Replace an article's chunks, then record the article (the record marks the write complete)."""
        self.open(create=True)
        new_ids = [c.id for c in chunks]
        for start in range(0, len(chunks), 256):
            batch = chunks[start : start + 256]
            self._chunks.upsert(
                ids=[c.id for c in batch],
                embeddings=vectors[start : start + 256],
                documents=[c.text for c in batch],
                metadatas=[chunk_metadata(c) for c in batch],
            )
        stale = [i for i in self._chunk_ids_of(article.doc_id) if i not in set(new_ids)]
        if stale:
            self._chunks.delete(ids=stale)
        self._docs.upsert(
            ids=[article.doc_id],
            embeddings=[[0.0]],
            documents=[article.text],
            metadatas=[
                {
                    "source_path": article.source_path,
                    "content_hash": content_hash,
                    "title": article.title,
                    "source": article.source,
                    "url": article.url,
                    "published": article.published,
                    "tags": ",".join(article.tags),
                    "page_starts": json.dumps(article.page_starts),
                    "chunk_count": len(chunks),
                    "minhash": near_duplicates.encode(signature),
                }
            ],
        )

    def delete_article(self, doc_id: str) -> int:
        """Remove an article and its chunks; returns how many chunks were removed."""
        self.open()
        ids = self._chunk_ids_of(doc_id)
        if ids:
            self._chunks.delete(ids=ids)
        self._docs.delete(ids=[doc_id])
        return len(ids)

    def _chunk_ids_of(self, doc_id: str) -> list[str]:
        return list(self._chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    def get_article(self, doc_id: str) -> Article | None:
        """The stored article, full text included."""
        self.open()
        got = self._docs.get(ids=[doc_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        return Article(
            doc_id=doc_id,
            source_path=str(meta.get("source_path", "")),
            title=str(meta.get("title", "")),
            text=str(got["documents"][0]),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published=str(meta.get("published", "")),
            tags=tuple(t for t in str(meta.get("tags", "")).split(",") if t),
            page_starts=tuple(json.loads(str(meta.get("page_starts", "[]")))),
        )

    def query(self, vector: list[float], n: int, filters: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity."""
        self.open()
        count = self._chunks.count()
        if count == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[vector],
            n_results=min(n, count),
            where=where_clause(filters),
            include=["documents", "metadatas", "distances"],
        )
        return [
            (chunk_from_record(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def all_chunks(self, filters: dict[str, Any] | None = None) -> list[Chunk]:
        """Every stored chunk (for the lexical index)."""
        self.open()
        got = self._chunks.get(where=where_clause(filters), include=["documents", "metadatas"])
        return [
            chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def chunk_count(self) -> int:
        """How many chunks are stored."""
        self.open()
        return int(self._chunks.count())

    def document_count(self) -> int:
        """How many articles are stored."""
        self.open()
        return int(self._docs.count())

    def find_by_hash(self, content_hash: str) -> list[str]:
        """Doc ids of stored articles with this content hash."""
        self.open(create=True)
        return list(self._docs.get(where={"content_hash": content_hash}, include=[])["ids"])

    def missing_chunks(self, doc_ids: Iterable[str]) -> list[str]:
        """Doc ids whose recorded chunk count differs from what is stored (an interrupted write)."""
        documents = self.documents()
        return [d for d in doc_ids if d in documents and len(self._chunk_ids_of(d)) != documents[d].chunk_count]


def _is_not_found(err: Exception) -> bool:
    return type(err).__name__ in {"NotFoundError", "InvalidCollectionException"} or "does not exist" in str(err)
