"""One writer at a time across hosts: a claim record in Chroma naming the writer's host, PID, start and heartbeat.

The data dir's file lock (``locking.py``) stops two writers on one machine; hosts sharing a Chroma server each have
their own data dir, so the claim lives on the server, in ``<collection>-writer``. A writer refreshes its heartbeat
every few seconds; a claim whose heartbeat is older than the timeout (its host gone), or whose process is no longer
running on this very host, is taken over. Chroma has no compare-and-set: a claimant writes its claim, waits a
moment and reads it back, so of two that started at the same instant only the last one written goes on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from assistant.errors import StoreLockedError

log = logging.getLogger(__name__)
Call = Callable[[str, Any], Any]
CLAIM_ID = "writer"
SETTLE_S = 0.3
"""Wait between writing a claim and reading it back, so a claim written at the same instant is seen."""


class WriterClaim:
    """The claim of one writer on one server's store, held while ingesting or removing articles."""

    def __init__(self, collection: Any, call: Call, *, stale_after_s: float, location: str) -> None:
        self.collection = collection
        self.call = call
        self.stale_after_s = stale_after_s
        self.location = location
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started = time.time()
        self.lost: str | None = None
        """Why the claim is no longer ours (taken over after a silence), or None while it holds."""
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the claim, or raise StoreLockedError naming the writer that holds it."""
        held = self._read()
        if held is not None and held.get("token") != self.token and not self._stale(held):
            raise StoreLockedError(self._refusal(held))
        self._write()
        time.sleep(SETTLE_S)
        held = self._read()
        if held is None or held.get("token") != self.token:
            raise StoreLockedError(self._refusal(held or {}))
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="writer-claim-heartbeat", daemon=True)
        self._beat.start()

    def release(self) -> None:
        """Stop the heartbeat and remove the claim when it is still ours."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
        try:
            held = self._read()
            if held is not None and held.get("token") == self.token:
                self.call("release the writer claim", lambda: self.collection.delete(ids=[CLAIM_ID]))
        except Exception as err:  # the claim then goes stale and is taken over after the timeout
            log.warning("could not release the writer claim: %s", err)

    def check(self) -> None:
        """Raise StoreLockedError when another writer took the claim over (this one fell silent too long)."""
        if self.lost:
            raise StoreLockedError(self.lost)

    # -- the record ----------------------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any] | None:
        got = self.call("read the writer claim", lambda: self.collection.get(ids=[CLAIM_ID], include=["metadatas"]))
        return dict(got["metadatas"][0]) if got["ids"] else None

    def _write(self) -> None:
        meta = {
            "token": self.token,
            "host": self.host,
            "pid": self.pid,
            "started": self.started,
            "heartbeat": time.time(),
        }
        self.call(
            "write the writer claim",
            lambda: self.collection.upsert(ids=[CLAIM_ID], embeddings=[[0.0]], metadatas=[meta]),
        )

    def _stale(self, held: dict[str, Any]) -> bool:
        if held.get("host") == self.host:
            pid = int(held.get("pid", 0))
            # its process ended on this host: no need to wait out the timeout; and a claim of this very process
            # is one it could not release (the server went away meanwhile): its writes are serialized anyway
            if pid == self.pid or not _running(pid):
                return True
        return time.time() - float(held.get("heartbeat", 0)) > self.stale_after_s

    def _refusal(self, held: dict[str, Any]) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(held.get("started", 0))))
        return (
            f"store at {self.location} is being written by PID {held.get('pid', '?')} on host "
            f"{held.get('host', '?')} (since {since}); one writer at a time: wait for it to finish "
            f"(a writer silent for {self.stale_after_s:.0f} s is taken over)."
        )

    def _heartbeat(self) -> None:
        every = max(0.5, self.stale_after_s / 4)
        while not self._stop.wait(every):
            try:
                held = self._read()
                if held is None or held.get("token") != self.token:
                    self.lost = self._refusal(held or {}).replace("is being written", "was taken over")
                    log.error("%s", self.lost)
                    return
                self._write()
            except Exception as err:  # a server hiccup: try again on the next beat
                log.warning("writer claim heartbeat failed: %s", err)


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
