"""Who may write: an exclusive, non-blocking lock on the data dir naming its holder, and the guard that adds the
writer claim across hosts (``claim.py``) when the store is a Chroma server."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from assistant.errors import StoreLockedError
from assistant.store.claim import WriterClaim


class WriteLock:
    """Held while ingesting; a second writer fails at once with the holder's PID instead of waiting."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "write.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreLockedError."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreLockedError(
                f"store in use by PID {holder} ({self.path.parent}); wait for it to finish and try again."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (the lock file stays; the kernel lock is what counts)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class WriteGuard:
    """One writing thread per data dir and, with ``open_claim``, one writer across every host of a Chroma server.

    Re-entrant in the thread that holds it (an ingest's repair and its writes nest); another thread or process is
    refused at once, as ``WriteLock`` refuses.
    """

    def __init__(self, data_dir: Path, open_claim: Callable[[], WriterClaim] | None = None) -> None:
        self.data_dir = data_dir
        self.open_claim = open_claim
        self._thread_lock = threading.RLock()
        self._file_lock: WriteLock | None = None
        self._depth = 0
        self._claim: WriterClaim | None = None
        self._following = False

    @contextmanager
    def local(self, *, following: bool = False) -> Iterator[None]:
        """The data dir's lock (enough for this data dir's own files: the lexical index, ledger and cursor).

        ``following``: held by a search catching up with other hosts; a writer of this process waits for it (a
        catch-up is short) instead of being refused.
        """
        got = self._thread_lock.acquire(blocking=False)
        if not got and self._following and not following:
            got = self._thread_lock.acquire(timeout=60)
        if not got:
            raise StoreLockedError(
                f"store in use by PID {os.getpid()} ({self.data_dir}); wait for it to finish and try again."
            )
        try:
            if self._depth == 0:
                lock = WriteLock(self.data_dir)
                lock.acquire()
                self._file_lock = lock
                self._following = following
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._following = False
                if self._depth == 0 and self._file_lock is not None:
                    self._file_lock.release()
                    self._file_lock = None
        finally:
            self._thread_lock.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The data dir's lock and, on a server, the writer claim (for anything that writes to Chroma)."""
        with self.local():
            if self._claim is not None or self.open_claim is None:
                yield
                return
            claim = self.open_claim()
            claim.acquire()
            self._claim = claim
            try:
                yield
            finally:
                self._claim = None
                claim.release()

    def check(self) -> None:
        """Raise StoreLockedError when the writer claim held here was taken over by another writer."""
        if self._claim is not None:
            self._claim.check()
