"""Bringing the lexical index in step with Chroma: a full build from Chroma, and repair of named articles.

An article counts as stored when its record is in Chroma with as many chunks of its content hash as the record
names (the record is written last). ``repair`` (the writer's, after a killed write) removes every trace of an
article that is not; ``follow`` (any host's, after another host wrote) only copies into the lexical index what
Chroma holds complete, and never deletes from Chroma.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from assistant.store.chroma import batches
from assistant.store.lexical import Entry, LexicalIndex
from assistant.store.records import StoredDocument, entry_from_record, stored_document

log = logging.getLogger(__name__)
Call = Callable[[str, Any], Any]
"""Runs one Chroma call under the store's retries: ``call(what, function)``."""
READ_BATCH = 2000
Row = tuple[str, str, dict[str, Any], Any]


def rebuild_lexical(chunks: Any, lexical: LexicalIndex, call: Call) -> int:
    """Fill the lexical index from every chunk in Chroma, a page at a time; returns chunks indexed."""
    lexical.reset()
    lexical.replace([], [])
    done = 0
    total = int(call("count chunks", lambda: chunks.count()))
    while done < total:
        got = call(
            "read chunks",
            lambda done=done: chunks.get(
                include=["documents", "metadatas", "embeddings"], limit=READ_BATCH, offset=done
            ),
        )
        if not got["ids"]:
            break
        entries = [
            entry_from_record(i, d, m, v)
            for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
        ]
        lexical.replace([], entries)
        done += len(entries)
    lexical.mark_built()
    if done:
        log.warning("built the lexical index from %d stored chunks", done)
    return done


def read_records(docs: Any, call: Call, doc_ids: Sequence[str]) -> dict[str, StoredDocument]:
    """The article records among ``doc_ids``."""
    out: dict[str, StoredDocument] = {}
    for group in batches(list(doc_ids)):
        got = call("read articles", lambda group=group: docs.get(ids=list(group), include=["metadatas"]))
        out.update((i, stored_document(i, m)) for i, m in zip(got["ids"], got["metadatas"], strict=True))
    return out


def _rows_by_doc(chunks: Any, call: Call, doc_ids: list[str]) -> dict[str, list[Row]]:
    got = call(
        "read chunks",
        lambda: chunks.get(where={"doc_id": {"$in": doc_ids}}, include=["documents", "metadatas", "embeddings"]),
    )
    by_doc: dict[str, list[Row]] = {d: [] for d in doc_ids}
    for row in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True):
        by_doc.setdefault(str(row[2]["doc_id"]), []).append(row)
    return by_doc


def repair(chunks: Any, docs: Any, lexical: LexicalIndex, call: Call, doc_ids: list[str]) -> int:
    """Make the named articles whole on both sides or gone from both (call under the write lock)."""
    records = read_records(docs, call, doc_ids)
    by_doc = _rows_by_doc(chunks, call, doc_ids)
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
        if sorted(lexical.chunk_ids_of(doc_id)) != sorted(kept):
            relex[doc_id] = [entry_from_record(*r) for r in keep]
    for group in batches(drop_records):
        call("delete articles", lambda group=group: docs.delete(ids=list(group)))
    for group in batches(drop_chunks):
        call("delete chunks", lambda group=group: chunks.delete(ids=list(group)))
    if relex:
        lexical.replace(relex, [e for entries in relex.values() for e in entries])
    if relex or drop_chunks:
        log.warning("repaired %d article(s) left by an interrupted write", len(set(relex) | set(drop_records)))
    return len(set(relex) | set(drop_records))


def follow(chunks: Any, docs: Any, lexical: LexicalIndex, call: Call, doc_ids: list[str]) -> int:
    """Make the lexical index hold exactly the named articles' chunks that Chroma holds complete; returns how many
    articles changed in the index. Reads Chroma only: a half-written article is left out until its write ends."""
    records = read_records(docs, call, doc_ids)
    by_doc = _rows_by_doc(chunks, call, doc_ids)
    relex: dict[str, list[Entry]] = {}
    for doc_id in doc_ids:
        record = records.get(doc_id)
        rows = [r for r in by_doc.get(doc_id, []) if record and r[2].get("content_hash") == record.content_hash]
        if record is None or len(rows) != record.chunk_count:
            rows = []  # removed, or being written: not cited until its write completes
        if sorted(lexical.chunk_ids_of(doc_id)) != sorted(r[0] for r in rows):
            relex[doc_id] = [entry_from_record(*r) for r in rows]
    if relex:
        lexical.replace(relex, [e for entries in relex.values() for e in entries])
        log.info("followed %d article(s) written or removed by another process", len(relex))
    return len(relex)


def chunk_ids_in_chroma(chunks: Any, call: Call, doc_ids: Sequence[str]) -> list[str]:
    """Ids of the chunks Chroma holds for these articles (a lexical index behind another host's write lacks some)."""
    out: list[str] = []
    for group in batches(list(doc_ids), 200):
        got = call("read chunks", lambda group=group: chunks.get(where={"doc_id": {"$in": list(group)}}, include=[]))
        out += got["ids"]
    return out
