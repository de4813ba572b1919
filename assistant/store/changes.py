"""The change log kept in Chroma beside the article records, and each data dir's place in it.

Every completed write or removal appends one record to ``<collection>-changes``: the numbers run 1, 2, 3, ...
(one writer at a time, ``claim.py``), and the record names the articles touched. A process whose lexical index
lives in another data dir (another host sharing the server) reads the log's length, a cheap call, and when it
grew, copies into its own index only the articles named since its cursor (``repair.follow``).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Call = Callable[[str, Any], Any]
"""Runs one Chroma call under the store's retries: ``call(what, function)``."""


class ChangeLog:
    """The ``<collection>-changes`` collection: one record per completed write batch or removal."""

    def __init__(self, collection: Any, call: Call) -> None:
        self.collection = collection
        self.call = call

    @property
    def log_id(self) -> str:
        """The collection's id: a new one after the store on the server was rebuilt."""
        return str(self.collection.id)

    def latest(self) -> int:
        """The number of the last change (0 when none): one count call."""
        return int(self.call("count changes", lambda: self.collection.count()))

    def append(self, doc_ids: Sequence[str]) -> int:
        """Record that these articles changed; returns the change's number."""
        number = self.latest() + 1
        self.call(
            "record a change",
            lambda: self.collection.upsert(
                ids=[f"{number:012d}"],
                embeddings=[[0.0]],
                documents=[json.dumps(sorted(set(doc_ids)))],
                metadatas=[{"seq": number, "at": time.time(), "host": socket.gethostname(), "pid": os.getpid()}],
            ),
        )
        return number

    def since(self, number: int) -> tuple[int, set[str]]:
        """The last change's number and every article named by changes after ``number``."""
        got = self.call(
            "read changes",
            lambda: self.collection.get(where={"seq": {"$gt": number}}, include=["documents", "metadatas"]),
        )
        doc_ids: set[str] = set()
        last = number
        for text, meta in zip(got["documents"], got["metadatas"], strict=True):
            doc_ids.update(json.loads(text))
            last = max(last, int(meta["seq"]))
        return last, doc_ids


@dataclass(frozen=True)
class Cursor:
    """How far a data dir's lexical index has followed a change log."""

    log_id: str = ""
    seq: int = 0


class CursorFile:
    """The cursor, kept in ``<data_dir>/lexical-cursor.json`` (written by the process holding the data dir's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Cursor:
        """The saved cursor (empty when none)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Cursor(str(data["log_id"]), int(data["seq"]))
        except (OSError, ValueError, KeyError, TypeError):
            return Cursor()

    def write(self, cursor: Cursor) -> None:
        """Save the cursor (atomically: a kill leaves the old one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps({"log_id": cursor.log_id, "seq": cursor.seq}), encoding="utf-8")
        os.replace(temp, self.path)

    def clear(self) -> None:
        """Forget the cursor (the lexical index was dropped)."""
        self.path.unlink(missing_ok=True)
