"""The managed archive: what is stored, listed and searched by its metadata, and one article removed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.errors import ArticleNotFoundError, QuestionError
from assistant.settings import Settings
from assistant.store.chunk_store import ChunkStore


@dataclass(frozen=True)
class ArticleEntry:
    """One stored article as the archive lists it."""

    doc_id: str
    title: str
    source: str
    author: str
    published: str
    url: str
    chunks: int
    source_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return dict(self.__dict__)


def entry_from_metadata(doc_id: str, meta: dict[str, Any]) -> ArticleEntry:
    """An entry from what the store records of an article."""
    return ArticleEntry(
        doc_id=doc_id,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        author=str(meta.get("author", "")),
        published=str(meta.get("published", "")),
        url=str(meta.get("url", "")),
        chunks=int(meta.get("chunk_count", 0) or 0),
        source_path=str(meta.get("source_path", "")),
    )


def list_articles(
    store: ChunkStore,
    query: str | None = None,
    source: str | None = None,
    published_from: str | None = None,
    published_to: str | None = None,
) -> list[ArticleEntry]:
    """Stored articles, newest first, that match every word of ``query`` (in the title, outlet, author, URL or
    id), come from ``source`` (the outlet, case-insensitive) and were published within the dates given."""
    start, end = _date(published_from, "published_from"), _date(published_to, "published_to")
    if start and end and start > end:
        raise QuestionError(f"published_from ({start}) is after published_to ({end}).")
    if not store.exists():
        return []
    words = [w for w in re.split(r"\s+", (query or "").lower()) if w]
    wanted_source = (source or "").strip().lower()
    entries = []
    for doc_id, meta in store.article_metadata().items():
        entry = entry_from_metadata(doc_id, meta)
        if wanted_source and entry.source.lower() != wanted_source:
            continue
        if (start or end) and not entry.published:
            continue
        if (start and entry.published < start) or (end and entry.published > end):
            continue
        haystack = " ".join((entry.title, entry.source, entry.author, entry.url, entry.doc_id)).lower()
        if all(word in haystack for word in words):
            entries.append(entry)
    entries.sort(key=lambda e: e.title.lower())
    entries.sort(key=lambda e: e.published, reverse=True)
    return entries


def remove_article(store: ChunkStore, settings: Settings, doc_id: str) -> ArticleEntry:
    """Remove one article from Chroma and the lexical index together (under the write lock, through the store's
    ledger, so a crash midway is repaired on the next open); ArticleNotFoundError when no article has the id."""
    doc_id = (doc_id or "").strip()
    if not doc_id:
        raise ArticleNotFoundError("No article id given: `assistant list` shows the ids.")
    with store.writing():
        article = store.get_article(doc_id) if store.exists() else None
        if article is None:
            raise ArticleNotFoundError(f"No stored article has the id {doc_id!r}: `assistant list` shows the ids.")
        chunks = store.delete_article(doc_id)
    return ArticleEntry(
        doc_id=doc_id,
        title=article.title,
        source=article.source,
        author=article.author,
        published=article.published,
        url=article.url,
        chunks=chunks,
        source_path=article.source_path,
    )


def _date(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        date.fromisoformat(value)
    except ValueError:
        raise QuestionError(f"{name} must be a date like 2024-03-02, not {value!r}.") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise QuestionError(f"{name} must be a date like 2024-03-02, not {value!r}.")
    return value
