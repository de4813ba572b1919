"""The order of one write: chunks to Chroma, the lexical index, then the article records that mark it complete.

A ledger note names the batch's articles until every side is written, so a killed write is repaired at the next
start (``repair.py``). Removal runs the same way: records first, then chunks, then the lexical entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assistant.store.chroma import batches, chunk_metadata, published_number
from assistant.store.ledger import Ledger
from assistant.store.lexical import Entry, LexicalIndex
from assistant.store.records import ArticleWrite, article_metadata, with_sentence_vectors
from assistant.store.repair import chunk_ids_in_chroma
from assistant.store.vectors import pack_f16

Call = Callable[[str, Any], Any]
"""Runs one Chroma call under the store's retries: ``call(what, function)``."""


def write_batch(
    chunks: Any, docs: Any, lexical: LexicalIndex, ledger: Ledger, call: Call, writes: Sequence[ArticleWrite], step: int
) -> None:
    """Store a batch of articles, ``step`` records per Chroma call."""
    note = ledger.begin(w.article.doc_id for w in writes)
    new_chunks = [c for w in writes for c in w.chunks]
    vectors = [v for w in writes for v in w.vectors]
    hashes = [w.content_hash for w in writes for _ in w.chunks]
    sentences = [w.sentence_vectors[i] if w.sentence_vectors else b"" for w in writes for i in range(len(w.chunks))]
    fresh = {c.id for c in new_chunks}
    stale = [i for w in writes if w.replaces for i in lexical.chunk_ids_of(w.article.doc_id) if i not in fresh]
    for start in range(0, len(new_chunks), step):
        part, part_vectors = new_chunks[start : start + step], vectors[start : start + step]
        metadatas = [
            with_sentence_vectors(chunk_metadata(c, h), v)
            for c, h, v in zip(part, hashes[start : start + step], sentences[start : start + step], strict=True)
        ]
        call(
            "write chunks",
            lambda part=part, part_vectors=part_vectors, metadatas=metadatas: chunks.upsert(
                ids=[c.id for c in part], embeddings=part_vectors, documents=[c.text for c in part], metadatas=metadatas
            ),
        )
    for stale_ids in batches(stale):
        call("delete chunks", lambda stale_ids=stale_ids: chunks.delete(ids=list(stale_ids)))
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
    lexical.replace([w.article.doc_id for w in writes], entries)
    for start in range(0, len(writes), step):
        group = writes[start : start + step]
        call(
            "write articles",
            lambda group=group: docs.upsert(
                ids=[w.article.doc_id for w in group],
                embeddings=[[0.0]] * len(group),
                documents=[w.article.text for w in group],
                metadatas=[article_metadata(w) for w in group],
            ),
        )
    ledger.end(note)


def remove_articles(
    chunks: Any, docs: Any, lexical: LexicalIndex, ledger: Ledger, call: Call, doc_ids: Sequence[str]
) -> int:
    """Remove articles and their chunks from both sides; returns how many chunks were removed."""
    note = ledger.begin(doc_ids)
    ids = list(
        dict.fromkeys(
            [i for d in doc_ids for i in lexical.chunk_ids_of(d)] + chunk_ids_in_chroma(chunks, call, doc_ids)
        )
    )
    for group in batches(list(doc_ids)):
        call("delete articles", lambda group=group: docs.delete(ids=list(group)))
    for group in batches(ids):
        call("delete chunks", lambda group=group: chunks.delete(ids=list(group)))
    lexical.replace(doc_ids, [])
    ledger.end(note)
    return len(ids)
