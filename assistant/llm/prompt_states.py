"""Evaluated states of the fixed start of a prompt (system prompt, worked examples), kept in memory and on disk.

Every answer prompt begins with the same few hundred tokens; a small model on two cores evaluates about 100 of
them a second. Once evaluated, the key/value cache of that start is saved, so that later prompts, in this
process or a later one, evaluate only their own part. A state is bit-for-bit what evaluating the start gives,
because the start is always evaluated as a batch of its own, whether its state is then reused or not.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_MAGIC = b"assistant-prompt-state-1\n"
MIN_TOKENS = 32
"""Starts shorter than this are evaluated each time: saving them would gain nothing."""


class PromptStates:
    """Saved key/value caches of prompt starts for one model file and context size, by their token ids.

    ``directory`` None keeps states in memory only. The newest ``keep`` states stay in memory.
    """

    def __init__(self, directory: Path | None, model_key: str, *, keep: int = 8) -> None:
        self.directory = directory
        self.model_key = model_key
        self._keep = keep
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, llama: Any, start: Sequence[int]) -> str:
        """Leave ``llama`` holding the evaluated ``start`` of a prompt; how: "held", "memory", "disk" or "evaluated".

        Callers then generate from the whole prompt, and llama-cpp-python evaluates only what follows ``start``.
        """
        start = list(start)
        held = int(llama.n_tokens)
        if held >= len(start) and list(llama.input_ids[: len(start)]) == start:
            return "held"
        key, header = self._key(start), _header(start)
        found = self._recall(key)
        if found is not None:
            where, data = found
            if data.startswith(header) and _restore(llama, start, data[len(header) :]):
                self._remember(key, data, to_disk=False)
                return where
            self._forget(key)
        llama.reset()
        llama.eval(start)
        self._remember(key, header + _snapshot(llama), to_disk=True)
        return "evaluated"

    def _key(self, start: Sequence[int]) -> str:
        digest = hashlib.sha256(self.model_key.encode())
        digest.update(",".join(map(str, start)).encode())
        return digest.hexdigest()[:32]

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.state"

    def _recall(self, key: str) -> tuple[str, bytes] | None:
        """Where the state was found ("memory" or "disk") and its bytes, header included."""
        with self._lock:
            if key in self._memory:
                return "memory", self._memory[key]
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            return "disk", path.read_bytes()
        except OSError:
            return None

    def _remember(self, key: str, data: bytes, *, to_disk: bool) -> None:
        with self._lock:
            self._memory[key] = data
            self._memory.move_to_end(key)
            while len(self._memory) > self._keep:
                self._memory.popitem(last=False)
        path = self._path(key)
        if path is None or not to_disk:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")
            partial.write_bytes(data)
            os.replace(partial, path)
        except OSError as err:  # a read-only data dir only costs speed
            log.info("prompt state not saved to %s: %s", path, err)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._memory.pop(key, None)
        path = self._path(key)
        if path is not None:
            path.unlink(missing_ok=True)


def _header(start: Sequence[int]) -> bytes:
    """The magic line and the token ids the state holds, so that a file is only used for the very same start."""
    return _MAGIC + (",".join(map(str, start)) + "\n").encode()


def _snapshot(llama: Any) -> bytes:
    """The key/value cache of sequence 0 (the only one used), without logits."""
    import llama_cpp

    context = llama._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(context, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(context, buffer, size, 0)
    return bytes(buffer[:written])


def _restore(llama: Any, start: Sequence[int], state: bytes) -> bool:
    """Load a saved cache as sequence 0 and tell llama-cpp-python which tokens it holds (False if it was refused)."""
    import llama_cpp

    if not state:
        return False
    llama.reset()
    llama._ctx.kv_cache_seq_rm(-1, 0, -1)
    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, buffer, len(state), 0) != len(state):
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        return False
    llama.input_ids[: len(start)] = start
    llama.n_tokens = len(start)
    llama._requires_eval = True
    return True
