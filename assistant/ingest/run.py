"""Idempotent, incremental, crash-safe ingest of article files and pages named by URL into the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import DocumentError
from assistant.ingest import near_duplicates
from assistant.ingest.chunking import chunk_article
from assistant.ingest.documents import SUPPORTED_SUFFIXES, content_hash, iter_corpus_files, load_file_with_warnings
from assistant.ingest.fetch import is_url
from assistant.ingest.web import WebBatch, load_web
from assistant.settings import Settings
from assistant.store.chunk_store import ArticleWrite, ChunkStore, StoredDocument
from assistant.store.embedding import ChunkEncoder, Embedder
from assistant.store.vectors import pack_int8
from assistant.types import Article, Chunk, IngestReport

ProgressCallback = Callable[[int, int, str], None]
BATCH_CHUNKS = 256
"""Chunks embedded and written together; a kill loses at most one batch of work, which the next run redoes."""


def ingest_paths(
    paths: Iterable[Path],
    *,
    settings: Settings,
    store: ChunkStore,
    embedder: Embedder,
    rebuild: bool = False,
    prune: bool = False,
    progress: ProgressCallback | None = None,
    urls: Sequence[str] = (),
    feeds: Sequence[str] = (),
) -> IngestReport:
    """Bring the store in line with the files under ``paths`` and the pages at ``urls`` and in ``feeds``;
    unchanged articles cost no writes."""
    began = time.perf_counter()
    wanted = [Path(p) for p in paths]
    files = _files_to_ingest(wanted, prune) if wanted or not (urls or feeds) else []
    web = WebBatch()
    if urls or feeds:
        web = load_web(urls, feeds, settings.fetch, progress)  # the network is never waited on under the lock
    with store.writing():
        if rebuild:
            store.reset()
        store.heal()
        stored = store.documents()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "skipped": 0, "removed": 0, "chunks": 0}
        errors: list[tuple[str, str]] = []
        messages: list[str] = (
            []
            if files or not wanted
            else [f"no article files under {_names(wanted)}: --prune only removes stored articles whose files are gone"]
        )
        seen = _SeenTexts.of(stored.values())
        loaded_ids: dict[str, set[str]] = {}
        batch = _Batch(store, embedder)
        for done, path in enumerate(files):
            if progress:
                progress(done, len(files), str(path))
            try:
                articles, warnings = load_file_with_warnings(path, max_bytes=settings.max_file_bytes)
            except DocumentError as err:
                errors.append((str(path), str(err)))
                continue
            errors.extend((str(path), w) for w in warnings)
            loaded_ids[str(path)] = {a.doc_id for a in articles}
            for article in articles:
                outcome = _ingest_article(article, settings, embedder, stored, seen, messages, batch)
                counts[outcome[0]] += 1
                counts["chunks"] += outcome[1]
        errors.extend(web.errors)
        for article in web.articles:
            outcome = _ingest_article(article, settings, embedder, stored, seen, messages, batch)
            counts[outcome[0]] += 1
            counts["chunks"] += outcome[1]
        batch.flush()
        if progress:
            progress(len(files), len(files), "")
        gone = [
            doc
            for doc in stored.values()
            if not is_url(doc.source_path)  # a page fetched once stays until removed
            and (
                not Path(doc.source_path).exists()
                or (doc.source_path in loaded_ids and doc.doc_id not in loaded_ids[doc.source_path])
            )
        ]
        if prune and gone:
            store.delete_articles([doc.doc_id for doc in gone])
            for doc in gone:
                counts["removed"] += 1
                messages.append(f"removed {doc.source_path} ({doc.title})")
        elif gone:
            messages.append(
                f"{len(gone)} stored article(s) are no longer on disk; `assistant ingest --prune` removes them"
            )
    return IngestReport(
        added=counts["added"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        skipped=counts["skipped"],
        removed=counts["removed"],
        chunks_written=counts["chunks"],
        seconds=time.perf_counter() - began,
        errors=tuple(errors),
        messages=tuple(messages),
    )


def _files_to_ingest(paths: list[Path], prune: bool) -> list[Path]:
    """The article files under ``paths``; a path that does not exist, or nothing to read, is a DocumentError (an
    empty folder is allowed with ``prune``: removing what is gone is then the whole job)."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise DocumentError(f"{missing[0]}: no such file or folder; nothing was ingested.")
    files = iter_corpus_files(paths)
    if not files and not prune:
        raise DocumentError(
            f"Nothing to ingest: no article files ({', '.join(SUPPORTED_SUFFIXES)}) under {_names(paths)}."
        )
    return files


def _names(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


class _Batch:
    """Articles waiting to be embedded and written together (one embedder call and one write per batch)."""

    def __init__(self, store: ChunkStore, embedder: Embedder, max_chunks: int | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.max_chunks = max_chunks or BATCH_CHUNKS
        self.pending: list[tuple[Article, str, list[Chunk], tuple[int, ...], bool]] = []
        self.size = 0

    def add(self, article: Article, digest: str, chunks: list[Chunk], signature: tuple[int, ...], replaces: bool):
        """Queue an article; writes the batch when it is full."""
        self.pending.append((article, digest, chunks, signature, replaces))
        self.size += len(chunks)
        if self.size >= self.max_chunks:
            self.flush()

    def flush(self) -> None:
        """Embed and write what is queued."""
        if not self.pending:
            return
        chunks = [c for _, _, cs, _, _ in self.pending for c in cs]
        vectors, sentence_vectors = embed_chunks(self.embedder, chunks)
        writes: list[ArticleWrite] = []
        at = 0
        for article, digest, cs, signature, replaces in self.pending:
            part = slice(at, at + len(cs))
            writes.append(
                ArticleWrite(article, digest, cs, vectors[part], signature, sentence_vectors[part], replaces=replaces)
            )
            at += len(cs)
        self.store.write_articles(writes)
        self.pending, self.size = [], 0


def embed_chunks(embedder: Embedder, chunks: list[Chunk]) -> tuple[list[list[float]], list[bytes]]:
    """Chunk vectors and, per chunk, its sentence vectors packed as int8.

    An embedder that can (the real one) reads each chunk once and pools its sentences from the same token states;
    any other embeds each distinct sentence once on its own."""
    if isinstance(embedder, ChunkEncoder):
        encoded = embedder.encode_chunks([c.text for c in chunks], [c.sentence_spans for c in chunks])
        return encoded.vectors.tolist(), [pack_int8(rows) for rows in encoded.sentence_vectors]
    quotes = [[c.text[s:e] for s, e in c.sentence_spans] for c in chunks]
    distinct = list(dict.fromkeys(q for qs in quotes for q in qs))
    embedded = embedder.embed([c.text for c in chunks] + distinct)
    vectors = embedded[: len(chunks)]
    by_quote = dict(zip(distinct, embedded[len(chunks) :], strict=True))
    return vectors, [pack_int8([by_quote[q] for q in qs]) for qs in quotes]


@dataclass
class _SeenTexts:
    """Content hashes and MinHash signatures of the stored articles, kept current during one ingest."""

    by_hash: dict[str, str] = field(default_factory=dict)
    signatures: near_duplicates.SignatureIndex = field(default_factory=near_duplicates.SignatureIndex)

    @classmethod
    def of(cls, documents: Iterable[StoredDocument]) -> _SeenTexts:
        seen = cls()
        for doc in documents:
            seen.add(doc.doc_id, doc.content_hash, doc.signature)
        return seen

    def add(self, doc_id: str, digest: str, signature: tuple[int, ...]) -> None:
        self.by_hash[digest] = doc_id
        self.signatures.add(doc_id, signature)


def _ingest_article(
    article: Article,
    settings: Settings,
    embedder: Embedder,
    stored: dict,
    seen: _SeenTexts,
    messages: list[str],
    batch: _Batch,
) -> tuple[str, int]:
    """Write one article if it is new or changed; returns (outcome, chunks written)."""
    digest = content_hash(article.text)
    previous = stored.get(article.doc_id)
    if previous is not None and previous.content_hash == digest:
        return "unchanged", 0
    twin = seen.by_hash.get(digest)
    if twin is not None and twin != article.doc_id:
        messages.append(f"skipped {article.source_path}: same text as an article already stored ({twin})")
        return "skipped", 0
    signature = near_duplicates.signature(article.text)
    near, score = seen.signatures.nearest(signature, exclude=article.doc_id) if previous is None else ("", 0.0)
    if near and score >= settings.near_duplicate_threshold:
        messages.append(
            f"skipped {article.source_path}: nearly the same text (about {score:.0%} of its 5-word runs) as an "
            f"article already stored ({near}); set near_duplicate_threshold = 1 to keep both"
        )
        return "skipped", 0
    chunks = chunk_article(
        article,
        embedder.count_tokens,
        max_tokens=min(settings.chunking.max_tokens, settings.embedding.max_seq_tokens),
        overlap_sentences=settings.chunking.overlap_sentences,
        content_hash=digest,
    )
    batch.add(article, digest, chunks, signature, replaces=previous is not None)
    seen.add(article.doc_id, digest, signature)
    return ("updated" if previous is not None else "added"), len(chunks)
