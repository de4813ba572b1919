"""The lexical side of the store: BM25 over chunk terms with filters, persistent and updated at ingest.

The index also keeps, per chunk, what a query needs to show it (text, metadata, its vector and its sentence
vectors), so answering a question reads nothing from Chroma but the nearest-neighbour ids. Engines sit behind
``LexicalIndex``; ``make_lexical_index`` picks one by name (``settings.lexical.engine``), so moving the lexical
side to a server-side engine (Chroma's distributed sparse BM25, say) is a new class here plus a setting.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import StoreError
from assistant.store import injection
from assistant.text import terms
from assistant.types import Chunk

FORMAT_VERSION = 1
"""Bumped when the index layout changes; an index of another version is rebuilt from Chroma on open."""


@dataclass(frozen=True)
class Filters:
    """Source / doc id / published date range (YYYYMMDD integers, 0 = open)."""

    source: str = ""
    doc_id: str = ""
    published_from: int = 0
    published_to: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.source or self.doc_id or self.published_from or self.published_to)


@dataclass(frozen=True)
class Entry:
    """One chunk as the lexical index holds it."""

    chunk: Chunk
    content_hash: str
    published_n: int
    vector: bytes = b""
    """The chunk's embedding (float16), for exact search inside a small filtered set."""
    sentence_vectors: bytes = b""
    """One int8 vector per sentence (``vectors.pack_int8``), computed at ingest; empty when not known."""

    def chunk_with_vectors(self) -> Chunk:
        """The chunk carrying its sentence vectors."""
        return dataclasses.replace(self.chunk, sentence_vectors=self.sentence_vectors)


class LexicalIndex(Protocol):
    """What the store needs from a lexical engine."""

    name: str

    def exists(self) -> bool:
        """True when the index was built (in the current format)."""
        ...

    def replace(self, doc_ids: Iterable[str], entries: Sequence[Entry]) -> None:
        """Drop every entry of ``doc_ids``, add ``entries``, and make the change durable and visible."""
        ...

    def mark_built(self) -> None:
        """Record that the index holds every stored chunk (after a full build)."""
        ...

    def search(self, query: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores of the best ``n`` chunks sharing a term with ``query``."""
        ...

    def count(self, filters: Filters) -> int:
        """How many chunks pass ``filters``."""
        ...

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        """The ids among ``chunk_ids`` that pass ``filters``."""
        ...

    def within(self, filters: Filters, limit: int) -> list[Entry]:
        """Every entry passing ``filters`` (at most ``limit``), for exact search in a small set."""
        ...

    def fetch(self, chunk_ids: Sequence[str]) -> dict[str, Entry]:
        """Entries by chunk id (missing ids are left out)."""
        ...

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        """Ids of the entries of one article."""
        ...

    def reset(self) -> None:
        """Remove every entry."""
        ...


def lexical_text(chunk: Chunk) -> str:
    """The terms BM25 sees for a chunk: its title and text, stemmed (the same as questions get)."""
    return " ".join(terms(f"{chunk.title}\n{chunk.text}"))


def chunk_payload(entry: Entry) -> str:
    """A chunk's fields as stored JSON."""
    c = entry.chunk
    return json.dumps(
        [
            *(c.id, c.doc_id, c.text, c.start, c.end, c.chunk_index, c.paragraph_index, c.title, c.source, c.url),
            *(c.published, [list(s) for s in c.sentence_spans], c.page, entry.content_hash, entry.published_n),
            # judged once here rather than on every question that retrieves the chunk
            [injection.RULES_VERSION, injection.holds_instruction(c.text, c.sentence_spans)],
        ],
        ensure_ascii=False,
    )


def entry_from_payload(payload: str, vector: bytes, sentence_vectors: bytes) -> Entry:
    """The inverse of ``chunk_payload``."""
    p = json.loads(payload)
    # entries written before the verdict was stored, or under other rules, carry none
    judged = p[15] if len(p) > 15 else None
    speaks = bool(judged[1]) if judged and judged[0] == injection.RULES_VERSION else None
    chunk = Chunk(
        id=p[0],
        doc_id=p[1],
        text=p[2],
        start=p[3],
        end=p[4],
        chunk_index=p[5],
        paragraph_index=p[6],
        title=p[7],
        source=p[8],
        url=p[9],
        published=p[10],
        sentence_spans=tuple((int(a), int(b)) for a, b in p[11]),
        page=p[12],
        speaks_to_model=speaks,
    )
    return Entry(chunk, p[13], int(p[14]), vector, sentence_vectors)


class TantivyIndex:
    """BM25 by tantivy in ``<data_dir>/lexical``: one writer at a time (the ingest lock), readers reload on commit."""

    name = "tantivy"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: Any = None
        self._schema: Any = None
        self._lock = threading.Lock()

    # -- opening -------------------------------------------------------------------------------------------------
    def _version_file(self) -> Path:
        return self.path / "assistant-format.json"

    def exists(self) -> bool:
        """True when an index of this format is on disk."""
        try:
            return json.loads(self._version_file().read_text())["version"] == FORMAT_VERSION
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def _build_schema(self) -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("doc_id", tokenizer_name="raw")
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_integer_field("published_n", indexed=True, fast=True)
        builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
        builder.add_bytes_field("payload", stored=True)
        builder.add_bytes_field("vector", stored=True)
        builder.add_bytes_field("sentence_vectors", stored=True)
        return builder.build()

    def mark_built(self) -> None:
        """Write the format marker that ``exists`` checks."""
        self._open(create=True)
        self._version_file().write_text(json.dumps({"version": FORMAT_VERSION, "engine": self.name}))

    def _open(self, create: bool = False) -> Any:
        with self._lock:
            if self._index is None:
                import tantivy

                if (self.path / "meta.json").exists():
                    self._index = tantivy.Index.open(str(self.path))
                elif create:
                    self.path.mkdir(parents=True, exist_ok=True)
                    self._index = tantivy.Index(self._build_schema(), path=str(self.path), reuse=False)
                else:
                    return None
                self._schema = self._index.schema
            return self._index

    def _searcher(self) -> Any:
        index = self._open()
        if index is None:
            return None
        index.reload()  # cheap when nothing changed; picks up another process's commit at once
        return index.searcher()

    # -- writing -------------------------------------------------------------------------------------------------
    def replace(self, doc_ids: Iterable[str], entries: Sequence[Entry]) -> None:
        """Drop every entry of ``doc_ids``, add ``entries``, commit once."""
        import tantivy

        index = self._open(create=True)
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        try:
            for doc_id in set(doc_ids):
                writer.delete_documents_by_term("doc_id", doc_id)
            for entry in entries:
                c = entry.chunk
                writer.add_document(
                    tantivy.Document(
                        chunk_id=c.id,
                        doc_id=c.doc_id,
                        source=c.source,
                        published_n=entry.published_n,
                        terms=lexical_text(c),
                        payload=chunk_payload(entry).encode(),
                        vector=entry.vector,
                        sentence_vectors=entry.sentence_vectors,
                    )
                )
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        index.reload()

    def reset(self) -> None:
        """Remove the index directory."""
        with self._lock:
            self._index = None
        shutil.rmtree(self.path, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------------------------
    def _filter_query(self, filters: Filters) -> Any:
        import tantivy

        parts = []
        if filters.source:
            parts.append(tantivy.Query.term_query(self._schema, "source", filters.source))
        if filters.doc_id:
            parts.append(tantivy.Query.term_query(self._schema, "doc_id", filters.doc_id))
        if filters.published_from or filters.published_to:
            parts.append(
                tantivy.Query.range_query(
                    self._schema,
                    "published_n",
                    tantivy.FieldType.Integer,
                    filters.published_from or 0,
                    filters.published_to or 99_999_999,
                )
            )
        if not parts:
            return tantivy.Query.all_query()
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])

    def search(self, query: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """Top ``n`` chunks by BM25 over the query's terms (any term may match), inside ``filters``."""
        import tantivy

        searcher = self._searcher()
        query_terms = list(dict.fromkeys(terms(query)))
        if searcher is None or not query_terms:
            return []
        text = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "terms", t)) for t in query_terms]
        )
        if not filters.empty:
            # The filter only narrows; it adds nothing to the BM25 score.
            restrict = tantivy.Query.const_score_query(self._filter_query(filters), 0.0)
            text = tantivy.Query.boolean_query([(tantivy.Occur.Must, text), (tantivy.Occur.Must, restrict)])
        hits = searcher.search(text, n, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]

    def count(self, filters: Filters) -> int:
        """How many chunks pass ``filters``."""
        searcher = self._searcher()
        if searcher is None:
            return 0
        if filters.empty:
            return int(searcher.num_docs)
        return int(searcher.search(self._filter_query(filters), 1, count=True).count)

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        """The ids among ``chunk_ids`` that pass ``filters`` (one query; only the ids are read back)."""
        import tantivy

        searcher = self._searcher()
        if searcher is None or not chunk_ids:
            return set()
        wanted = tantivy.Query.term_set_query(self._schema, "chunk_id", list(chunk_ids))
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, wanted), (tantivy.Occur.Must, self._filter_query(filters))]
        )
        hits = searcher.search(query, len(chunk_ids), count=False).hits
        return {searcher.doc(address)["chunk_id"][0] for _, address in hits}

    def within(self, filters: Filters, limit: int) -> list[Entry]:
        """Every entry passing ``filters`` (at most ``limit``)."""
        searcher = self._searcher()
        if searcher is None or limit <= 0:
            return []
        hits = searcher.search(self._filter_query(filters), limit, count=False).hits
        return [self._entry(searcher.doc(address)) for _, address in hits]

    def fetch(self, chunk_ids: Sequence[str]) -> dict[str, Entry]:
        """Entries by chunk id."""
        import tantivy

        searcher = self._searcher()
        if searcher is None or not chunk_ids:
            return {}
        query = tantivy.Query.term_set_query(self._schema, "chunk_id", list(chunk_ids))
        hits = searcher.search(query, len(chunk_ids), count=False).hits
        found = (self._entry(searcher.doc(address)) for _, address in hits)
        return {entry.chunk.id: entry for entry in found}

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        """Ids of one article's entries."""
        import tantivy

        searcher = self._searcher()
        if searcher is None:
            return []
        query = tantivy.Query.term_query(self._schema, "doc_id", doc_id)
        limit = max(1, int(searcher.search(query, 1, count=True).count))
        return [searcher.doc(a)["chunk_id"][0] for _, a in searcher.search(query, limit, count=False).hits]

    @staticmethod
    def _entry(document: Any) -> Entry:
        return entry_from_payload(
            bytes(document["payload"][0]).decode(),
            bytes(document.get_first("vector") or b""),
            bytes(document.get_first("sentence_vectors") or b""),
        )


ENGINES: dict[str, Callable[[Path], LexicalIndex]] = {"tantivy": TantivyIndex}


def make_lexical_index(engine: str, data_dir: Path) -> LexicalIndex:
    """The lexical engine named ``engine``, keeping its files under ``data_dir``."""
    try:
        factory = ENGINES[engine]
    except KeyError:
        raise StoreError(f"Unknown lexical engine {engine!r}; choose one of: {', '.join(sorted(ENGINES))}.") from None
    return factory(data_dir / "lexical")
