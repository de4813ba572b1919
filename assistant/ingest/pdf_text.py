"""PDF text per page, extracted by pypdf in a child process with memory, time and output limits.

A hostile PDF (pages that decompress to gigabytes, a parser loop, a crash) then fails alone: the child is
killed or runs out of its own memory, and the parent gets a one-line reason. Run as a script, this module is
the child: it reads the PDF on stdin and writes JSON on stdout; it imports nothing from ``assistant``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PDF_SECONDS = 60.0
"""Longest a PDF may take to read before it is refused."""
PDF_MEMORY_BYTES = 1536 << 20
"""Address space the child may use (pypdf included); a PDF that needs more is refused."""
PDF_MAX_TEXT_CHARS = 20_000_000
"""Most text taken from one PDF; a file with more is not an article."""
PDF_MAX_PAGES = 5_000
STREAM_LIMIT = 32_000_000
"""Bytes any one stream may decompress to (pypdf's own default is 75 MB)."""


class PdfTextError(Exception):
    """The PDF could not be read; the message is the reason, one line."""


@dataclass(frozen=True)
class PdfText:
    """Text of each page, in order, and the title from the document info (may be empty)."""

    pages: tuple[str, ...]
    title: str = ""
    encrypted: bool = False


def extract_pdf(
    data: bytes,
    *,
    seconds: float = PDF_SECONDS,
    memory_bytes: int = PDF_MEMORY_BYTES,
    max_chars: int = PDF_MAX_TEXT_CHARS,
) -> PdfText:
    """Text of every page of ``data``, read in a child process bounded in time, memory and output."""
    command = [sys.executable, "-I", str(Path(__file__).resolve()), str(memory_bytes), str(seconds), str(max_chars)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=seconds + 5, check=False)
    except subprocess.TimeoutExpired as err:
        raise PdfTextError(f"reading it took longer than {seconds:.0f} s") from err
    except OSError as err:
        raise PdfTextError(f"could not start the PDF reader ({err})") from err
    try:
        result = json.loads(done.stdout.decode("utf-8", "replace") or "{}")
    except ValueError:
        result = {}
    if not isinstance(result, dict) or ("pages" not in result and "error" not in result):
        if done.returncode < 0:
            raise PdfTextError(f"the PDF reader was stopped by signal {-done.returncode} (a malformed or hostile file)")
        detail = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
        raise PdfTextError(f"the PDF reader failed (exit {done.returncode}: {detail or 'no output'})")
    if "error" in result:
        raise PdfTextError(str(result["error"]))
    return PdfText(
        pages=tuple(str(p) for p in result["pages"]),
        title=str(result.get("title") or ""),
        encrypted=bool(result.get("encrypted")),
    )


# -- the child ----------------------------------------------------------------------------------------------


def _limit_resources(memory_bytes: int, seconds: float) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: the parent's timeout still applies
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _read(data: bytes, seconds: float, max_chars: int) -> dict[str, Any]:
    import io

    from pypdf import PdfReader, apply_configuration

    deadline = time.monotonic() + seconds
    limits = {
        name: STREAM_LIMIT
        for name in (
            "maximum_declared_stream_length",
            "array_based_stream_maximum_output_length",
            "jbig2_maximum_output_length",
            "lzw_maximum_output_length",
            "run_length_maximum_output_length",
            "zlib_maximum_output_length",
            "brotli_maximum_output_length",
            "image_maximum_buffer_size",
        )
    }
    with apply_configuration(
        None, **limits, stream_parsing_work_maximum_count=500_000, page_tree_maximum_entries=20_000
    ):
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return {"pages": [], "encrypted": True}
        if len(reader.pages) > PDF_MAX_PAGES:
            return {"error": f"{len(reader.pages)} pages (the limit is {PDF_MAX_PAGES})"}
        pages: list[str] = []
        total = 0

        def check(*_: Any) -> None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading it took longer than {seconds:.0f} s")

        for page in reader.pages:
            check()
            text = page.extract_text(visitor_operand_before=check) or ""
            total += len(text)
            if total > max_chars:
                return {"error": f"more than {max_chars:,} characters of text (not an article)"}
            pages.append(text)
        title = ""
        try:
            title = str(reader.metadata.title or "") if reader.metadata else ""
        except Exception:  # a broken info dictionary costs the title, not the text
            title = ""
    return {"pages": pages, "title": title}


def _child(argv: list[str]) -> int:
    memory_bytes, seconds, max_chars = int(argv[0]), float(argv[1]), int(argv[2])
    data = sys.stdin.buffer.read()
    _limit_resources(memory_bytes, seconds)
    try:
        result = _read(data, seconds, max_chars)
    except MemoryError:
        result = {"error": f"it needs more than {memory_bytes >> 20} MB of memory to read (pages decompress too far)"}
    except TimeoutError as err:
        result = {"error": str(err)}
    except RecursionError:
        result = {"error": "its objects nest too deeply"}
    except Exception as err:  # any pypdf failure is a reason for this file, never a crash of the ingest
        message = " ".join(str(err).split())[:200]
        result = {"error": f"{type(err).__name__}: {message}"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
