"""A write-ahead note of which articles a write is about to touch, so a killed write can be repaired.

Chroma and the lexical index share no transaction. Before a batch touches either, the store writes a note
naming its articles (fsynced, then renamed into place); when both sides and the article records are written,
the note is removed. A note found at start names exactly the articles that may differ between the two sides.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path


class Ledger:
    """Pending-write notes under one folder (``<data_dir>/ledger``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def begin(self, doc_ids: Iterable[str]) -> Path:
        """Note that these articles are about to be written; returns the note to pass to ``end``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        note = self.folder / f"pending-{uuid.uuid4().hex}.json"
        temp = note.with_suffix(".tmp")
        with temp.open("w", encoding="utf-8") as handle:
            json.dump(sorted(set(doc_ids)), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, note)
        _fsync_dir(self.folder)
        return note

    def end(self, note: Path) -> None:
        """The write the note announced is complete."""
        note.unlink(missing_ok=True)

    def pending(self) -> set[str]:
        """Doc ids named by notes still on disk (writes that did not finish)."""
        if not self.folder.exists():
            return set()
        doc_ids: set[str] = set()
        for note in self.folder.glob("pending-*.json"):
            try:
                doc_ids.update(json.loads(note.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a note cut short before its rename never reached the stores
        return doc_ids

    def clear(self) -> None:
        """Forget every note (after the articles they name were repaired)."""
        if self.folder.exists():
            for note in [*self.folder.glob("pending-*.json"), *self.folder.glob("pending-*.tmp")]:
                note.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
