"""An exclusive, non-blocking write lock on the data dir that names the process holding it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from assistant.errors import StoreLockedError


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
