"""Loaders per file format -> Article; a file that cannot be read raises DocumentError with the reason."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.errors import DocumentError
from assistant.types import Article

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """NFC, \\n line ends, no control characters or NBSPs, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).replace("\u00a0", " ").replace("\ufeff", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def content_hash(text: str) -> str:
    """SHA-256 of the normalized text."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def normalize_source(source: str) -> str:
    """A path relative to the working directory (posix), or a URL without fragment and trailing slash."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.IGNORECASE):
        scheme, rest = source.split("://", 1)
        host, _, path = rest.partition("/")
        return f"{scheme.lower()}://{host.lower()}/{path.split('#')[0]}".rstrip("/")
    resolved = Path(source).expanduser().resolve()
    with contextlib.suppress(ValueError):
        resolved = resolved.relative_to(Path.cwd().resolve())
    return resolved.as_posix()


def make_doc_id(source: str) -> str:
    """Stable id from the normalized source."""
    return "doc-" + hashlib.sha256(normalize_source(source).encode("utf-8")).hexdigest()[:16]


def iter_corpus_files(paths: Iterable[Path]) -> list[Path]:
    """Supported files under ``paths`` (folders recursively, sorted; hidden files and folders skipped)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                relative = item.relative_to(path).parts
                if (
                    item.is_file()
                    and item.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(p.startswith(".") for p in relative)
                ):
                    found.append(item)
        elif path.exists():
            found.append(path)
        else:
            found.append(path)  # reported as an error by the loader
    return list(dict.fromkeys(found))


def read_text(path: Path, *, max_bytes: int) -> str:
    """Decode a text file: UTF-8 (BOM aware), UTF-16 with BOM, else cp1252 / latin-1; refuse binary."""
    data = _read_bytes(path, max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise DocumentError(f"{path}: undecodable UTF-16 text") from err
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{path}: binary file, not text (NUL bytes)")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(f"{path}: undecodable text")  # pragma: no cover - latin-1 decodes anything


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path}: file too large ({size} bytes > {max_bytes})")
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise DocumentError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise DocumentError(f"{path}: is a directory") from err
    except PermissionError as err:
        raise DocumentError(f"{path}: permission denied") from err
    if not data.strip():
        raise DocumentError(f"{path}: empty file")
    return data


def _iso_date(value: Any) -> str:
    """YYYY-MM-DD from a date, datetime or string; '' when absent or unparsable."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value or "").strip()
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        return match.group(0)
    for fmt in ("%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%d %b %Y", "%Y/%m/%d", "%a, %d %b %Y %H:%M:%S %Z"):
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return ""


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(t).strip() for t in value if str(t).strip())
    return tuple(t.strip() for t in str(value or "").split(",") if t.strip())


def _article(path: Path, text: str, *, doc_source: str | None = None, **meta: Any) -> Article:
    body = normalize_text(text)
    if not body:
        raise DocumentError(f"{path}: no text")
    return Article(
        doc_id=make_doc_id(doc_source or str(path)),
        source_path=str(path),
        title=str(meta.get("title") or "").strip() or path.stem,
        text=body,
        source=str(meta.get("source") or "").strip(),
        url=str(meta.get("url") or "").strip(),
        published=_iso_date(meta.get("published")),
        tags=_tags(meta.get("tags")),
        page_starts=tuple(meta.get("page_starts") or ()),
    )


def load_markdown(path: Path, *, max_bytes: int) -> Article:
    """Markdown with optional YAML front matter (title, source, url, published, tags)."""
    import yaml

    raw = read_text(path, max_bytes=max_bytes).lstrip("\ufeff")
    meta: dict[str, Any] = {}
    body = raw
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", raw, re.DOTALL)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as err:
            raise DocumentError(f"{path}: broken YAML front matter ({str(err).splitlines()[0]})") from err
        if not isinstance(loaded, dict):
            raise DocumentError(f"{path}: front matter is not a mapping")
        meta = loaded
        body = raw[match.end() :]
    if not meta.get("title"):
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        meta["title"] = heading.group(1).strip() if heading else path.stem
    return _article(path, body, **meta)


def load_txt(path: Path, *, max_bytes: int) -> Article:
    """Plain text: the first non-empty line is the title; the text is the whole file, verbatim."""
    raw = read_text(path, max_bytes=max_bytes)
    text = normalize_text(raw)
    if not text:
        raise DocumentError(f"{path}: empty file")
    return _article(path, text, title=text.split("\n", 1)[0].strip()[:300])


def load_pdf(path: Path, *, max_bytes: int) -> Article:
    """PDF text per page (pypdf); page_starts records where each page begins in the text."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = _read_bytes(path, max_bytes)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{path}: encrypted PDF")
        pages = [normalize_text(page.extract_text() or "") for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise DocumentError(f"{path}: unreadable PDF ({type(err).__name__}: {err})") from err
    text = ""
    starts: list[int] = []
    for page in pages:
        if text and page:
            text += "\n\n"
        starts.append(len(text))
        text += page
    if not text.strip():
        raise DocumentError(f"{path}: no extractable text (scanned PDF?)")
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or text.split("\n", 1)[0]
    return Article(
        doc_id=make_doc_id(str(path)),
        source_path=str(path),
        title=str(title).strip()[:300] or path.stem,
        text=text,
        page_starts=tuple(starts),
    )


def load_jsonl(path: Path, *, max_bytes: int) -> tuple[list[Article], list[str]]:
    """One article per line (title, text, source, url, published, tags, id); bad lines become warnings."""
    raw = read_text(path, max_bytes=max_bytes)
    articles: list[Article] = []
    warnings: list[str] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            if not str(record.get("text") or "").strip():
                raise ValueError("no text")
            source = record.get("url") or (f"{path}#{record['id']}" if record.get("id") else f"{path}#{number}")
            meta = {k: record.get(k) for k in ("title", "source", "url", "published", "tags")}
            articles.append(_article(path, str(record["text"]), doc_source=str(source), **meta))
        except (ValueError, DocumentError) as err:
            warnings.append(f"line {number}: {err}")
    if not articles:
        raise DocumentError(f"{path}: no usable line ({'; '.join(warnings[:3]) or 'empty'})")
    return articles, warnings


def load_html(path: Path, *, max_bytes: int) -> Article:
    """Main text of an HTML page; title, date, source and URL from its head."""
    from assistant.html_text import extract_html

    page = extract_html(read_text(path, max_bytes=max_bytes))
    if not page["text"].strip():
        raise DocumentError(f"{path}: no readable text in the HTML")
    return _article(path, page.pop("text"), **page)


def load_file_with_warnings(path: Path, *, max_bytes: int = 20_000_000) -> tuple[list[Article], list[str]]:
    """Articles from one file and per-line warnings (for .jsonl)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return [load_markdown(path, max_bytes=max_bytes)], []
    if suffix == ".txt":
        return [load_txt(path, max_bytes=max_bytes)], []
    if suffix in (".html", ".htm"):
        return [load_html(path, max_bytes=max_bytes)], []
    if suffix == ".pdf":
        return [load_pdf(path, max_bytes=max_bytes)], []
    if suffix == ".jsonl":
        return load_jsonl(path, max_bytes=max_bytes)
    raise DocumentError(f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")


def load_file(path: Path, *, max_bytes: int = 20_000_000) -> list[Article]:
    """Articles from one file."""
    return load_file_with_warnings(path, max_bytes=max_bytes)[0]


def load_paths(paths: Iterable[Path], *, max_bytes: int = 20_000_000) -> tuple[list[Article], list[tuple[str, str]]]:
    """Every article under ``paths`` and (path, reason) for what could not be read."""
    articles: list[Article] = []
    errors: list[tuple[str, str]] = []
    for path in iter_corpus_files(paths):
        try:
            loaded, warnings = load_file_with_warnings(path, max_bytes=max_bytes)
        except DocumentError as err:
            errors.append((str(path), str(err)))
            continue
        articles.extend(loaded)
        errors.extend((str(path), w) for w in warnings)
    return articles, errors
