"""What the store writes and reads back: article records, chunk entries, and the filters a query passes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from assistant.ingest import near_duplicates
from assistant.store.chroma import chunk_from_record, published_number
from assistant.store.lexical import Entry, Filters
from assistant.store.vectors import pack_f16
from assistant.types import Article, Chunk


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


def filter_dict(filters: Filters) -> dict[str, Any]:
    """The API's dict for ``filters`` (the inverse of ``make_filters``)."""
    return {
        "source": filters.source,
        "doc_id": filters.doc_id,
        "published_from": str(filters.published_from) if filters.published_from else "",
        "published_to": str(filters.published_to) if filters.published_to else "",
    }


def with_sentence_vectors(metadata: dict[str, Any], sentence_vectors: bytes) -> dict[str, Any]:
    """A chunk's Chroma metadata carrying its sentence vectors (base64), so an index built or followed from Chroma
    on another host has them too and evidence need not embed the sentences again."""
    if not sentence_vectors:
        return metadata
    return {**metadata, "sentence_vectors": base64.b64encode(sentence_vectors).decode("ascii")}


def entry_from_record(chunk_id: str, text: str, meta: dict[str, Any], embedding: Any) -> Entry:
    """A lexical entry from a chunk as Chroma returns it (sentence vectors only when the write stored them)."""
    chunk = chunk_from_record(chunk_id, text, meta)
    vector = pack_f16(list(embedding)) if embedding is not None else b""
    sentences = base64.b64decode(str(meta.get("sentence_vectors", "")))
    return Entry(chunk, str(meta.get("content_hash", "")), int(meta.get("published_n", 0)), vector, sentences)


def stored_document(doc_id: str, meta: dict[str, Any]) -> StoredDocument:
    """An article record's metadata as a StoredDocument."""
    return StoredDocument(
        doc_id=doc_id,
        source_path=str(meta.get("source_path", "")),
        content_hash=str(meta.get("content_hash", "")),
        title=str(meta.get("title", "")),
        chunk_count=int(meta.get("chunk_count", 0)),
        signature=near_duplicates.decode(str(meta.get("minhash", ""))),
    )


def article_from_record(doc_id: str, text: str, meta: dict[str, Any]) -> Article:
    """An article record (text and metadata) as an Article."""
    return Article(
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


def article_metadata(write: ArticleWrite) -> dict[str, Any]:
    """The article record's metadata (flat, no None) for Chroma."""
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
