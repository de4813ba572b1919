"""Talking to Chroma: the client (embedded or server, with its token), bounded retries, one-line errors, batches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlparse

from assistant.errors import AssistantError, StoreError, StoreUnavailableError
from assistant.settings import Settings
from assistant.types import Chunk

T = TypeVar("T")
ID_BATCH = 4000
"""Ids per get/delete call: SQLite refuses statements with more than 32,766 variables."""
_CONNECTION_ERRORS = ("ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ReadError")


def published_number(published: str) -> int:
    """YYYY-MM-DD as the integer YYYYMMDD (0 when unknown), for range filters."""
    digits = "".join(ch for ch in published[:10] if ch.isdigit())
    if len(digits) == 8:
        return int(digits)
    if len(digits) == 4:
        return int(digits) * 10000
    return 0


def chunk_metadata(chunk: Chunk, content_hash: str = "") -> dict[str, Any]:
    """Chroma metadata (flat, no None) for a chunk; ``content_hash`` names the article version it belongs to."""
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
        "content_hash": content_hash,
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


def import_chromadb() -> Any:
    """The ``chromadb`` module, imported without the signature checks of the ``overrides`` package.

    chromadb marks about 160 methods ``@override``; at import, each mark inspects the calling frame's bytecode and
    compares signatures with the base class: a quarter of a second of every cold start (a one-shot ``assistant
    ask``, the first question after opening) spent checking chromadb's own code. During this one import the mark
    only records itself; the package's function is put back afterwards, and nothing else uses it.
    """
    import sys

    if "chromadb" in sys.modules:
        return sys.modules["chromadb"]
    try:
        import overrides  # noqa: F401  (its submodule is shadowed by the function of the same name)

        marks: Any = sys.modules["overrides.overrides"]
        checking = marks._overrides
    except (ImportError, KeyError, AttributeError):  # another version: import as it is
        import chromadb

        return chromadb

    def record_only(method: Any, check_signature: bool, check_at_runtime: bool) -> Any:
        method.__override__ = True
        return method

    marks._overrides = record_only
    try:
        import chromadb
    finally:
        marks._overrides = checking
    return chromadb


def open_client(settings: Settings) -> Any:
    """A Chroma client: HttpClient when ``chroma_url`` is set (with the token, if any), else PersistentClient."""
    chromadb = import_chromadb()

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        token = settings.chroma_token.get_secret_value() if settings.chroma_token else ""
        headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else None

        def connect() -> Any:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=headers,
                settings=chroma_settings,
            )
            client.heartbeat()
            return client

        return with_retries(settings, connect, "connect")
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return with_retries(
        settings, lambda: chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings), "open"
    )


def is_connection_error(err: BaseException) -> bool:
    """True for errors that mean the server could not be reached (worth retrying)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ConnectionError | TimeoutError) or name in _CONNECTION_ERRORS:
            return True
        text = str(current)
        if "Could not connect to a Chroma server" in text or "Connection refused" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def one_line(err: BaseException, limit: int = 300) -> str:
    """An exception as ``Type: message`` on one line."""
    text = " ".join(str(err).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def with_retries(settings: Settings, call: Callable[[], T], what: str) -> T:
    """Run a Chroma call; retry connection failures a bounded number of times, and turn every failure into an
    AssistantError with a one-line message."""
    attempts = settings.store_retries + 1 if settings.chroma_url else 1
    for attempt in range(attempts):
        try:
            return call()
        except AssistantError:
            raise
        except Exception as err:
            if is_connection_error(err) or (settings.chroma_url and what == "connect"):
                if attempt + 1 < attempts:
                    time.sleep(settings.store_retry_wait_s * (2**attempt))
                    continue
                where = settings.chroma_url or str(settings.chroma_path)
                raise StoreUnavailableError(
                    f"Cannot reach the Chroma server at {where} ({type(err).__name__}, {attempts} tries); "
                    "start it or unset ASSISTANT_CHROMA_URL."
                ) from err
            if type(err).__name__ in {"NotFoundError", "InvalidCollectionException"} or "does not exist" in str(err):
                raise
            raise StoreError(f"The store failed to {what} ({one_line(err)}).") from err
    raise AssertionError("unreachable")  # pragma: no cover


def batches(items: Sequence[T], size: int = ID_BATCH) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_not_found(err: Exception) -> bool:
    """True when Chroma says a collection does not exist."""
    return type(err).__name__ in {"NotFoundError", "InvalidCollectionException"} or "does not exist" in str(err)
