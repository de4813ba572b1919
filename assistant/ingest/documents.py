"""Loaders per file format -> Article; a file that cannot be read raises DocumentError with the reason."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.errors import DocumentError
from assistant.types import Article

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A text file may carry a few stray control bytes (they are removed); a file where they are common is binary.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_BINARY_SHARE = 0.10
_BINARY_SAMPLE = 1 << 16


def normalize_text(text: str) -> str:
    """NFC, \\n line ends, no control characters or NBSPs, no trailing spaces, at most one blank line in a row."""
    text = _without_surrogates(text)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).replace("\u00a0", " ").replace("\ufeff", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _without_surrogates(text: str) -> str:
    """Lone surrogates (from a broken JSON escape or UTF-16 pair) replaced, so the text encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def control_characters(text: str) -> int:
    """How many control characters (NUL, escape, ...) ``normalize_text`` will remove from ``text``."""
    return len(_CONTROL.findall(text))


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
    return _doc_id(normalize_source(source))


def _doc_id(normalized_source: str) -> str:
    return "doc-" + hashlib.sha256(normalized_source.encode("utf-8")).hexdigest()[:16]


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


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from a file's bytes, with what the reader should know about how (empty when plain UTF-8)."""

    text: str
    notes: tuple[str, ...] = ()


def decode_text(data: bytes, path: Path) -> DecodedText:
    """UTF-8 (BOM aware), UTF-16 with BOM, else a reported fallback; control characters counted; binary refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _with_control_note(DecodedText(data.decode("utf-16")))
        except UnicodeDecodeError as err:
            raise DocumentError(f"{path}: undecodable UTF-16 text") from err
    sample = data[:_BINARY_SAMPLE]
    controls = sum(sample.count(bytes([b])) for b in _BINARY_BYTES)
    if controls > _BINARY_SHARE * len(sample):
        raise DocumentError(
            f"{path}: binary file, not text ({controls / max(len(sample), 1):.0%} control bytes such as NUL)"
        )
    try:
        return _with_control_note(DecodedText(data.decode("utf-8-sig")))
    except UnicodeDecodeError as err:
        first_bad = err.start
    replaced = data.decode("utf-8", errors="replace")
    invalid = replaced.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    multibyte = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != "\ufffd")
    if multibyte > invalid:
        note = f"not valid UTF-8 at byte {first_bad}: {invalid} undecodable byte(s) replaced by \ufffd"
        return _with_control_note(DecodedText(replaced.removeprefix("\ufeff"), (note,)))
    for encoding, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        note = f"not valid UTF-8 (first bad byte at {first_bad}); decoded as {name}"
        return _with_control_note(DecodedText(text, (note,)))
    raise DocumentError(f"{path}: undecodable text")  # pragma: no cover - latin-1 decodes anything


def _with_control_note(decoded: DecodedText) -> DecodedText:
    removed = control_characters(decoded.text)
    if not removed:
        return decoded
    note = f"removed {removed} control character(s) such as NUL from the text"
    return DecodedText(decoded.text, (*decoded.notes, note))


def read_text(path: Path, *, max_bytes: int) -> str:
    """Decode a text file: UTF-8 (BOM aware), UTF-16 with BOM, else cp1252 / latin-1; refuse binary."""
    return decode_text(_read_bytes(path, max_bytes), path).text


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise DocumentError(f"{path}: file too large ({stat.st_size:,} bytes > {max_bytes:,})")
        if path.is_dir():
            raise DocumentError(f"{path}: is a directory")
        if not path.is_file():  # a FIFO or device would block or never end
            raise DocumentError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file still growing is cut off here, not read without end
        if len(data) > max_bytes:
            raise DocumentError(f"{path}: file too large (more than {max_bytes:,} bytes)")
    except FileNotFoundError as err:
        raise DocumentError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise DocumentError(f"{path}: is a directory") from err
    except PermissionError as err:
        raise DocumentError(f"{path}: permission denied") from err
    if not data.strip():
        raise DocumentError(f"{path}: empty file")
    return data


def iso_date(value: Any) -> str:
    """YYYY-MM-DD from a date, datetime or string; '' when absent or unparsable."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value or "").strip()
    if not text:
        return ""
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


def _article(
    path: Path, text: str, *, doc_source: str | None = None, doc_id: str | None = None, **meta: Any
) -> Article:
    body = normalize_text(text)
    if not body:
        raise DocumentError(f"{path}: no text")
    return Article(
        doc_id=doc_id or make_doc_id(doc_source or str(path)),
        source_path=str(path),
        title=str(meta.get("title") or "").strip() or path.stem,
        text=body,
        source=str(meta.get("source") or "").strip(),
        url=str(meta.get("url") or "").strip(),
        published=iso_date(meta.get("published")),
        tags=_tags(meta.get("tags")),
        author=" ".join(str(meta.get("author") or "").split()),
        page_starts=tuple(meta.get("page_starts") or ()),
    )


Loaded = tuple[list[Article], list[str]]
"""Articles read from one file, and notes about it (fallback decoding, removed characters, bad lines)."""
MAX_LINE_WARNINGS = 20
"""Bad .jsonl lines listed one by one; the rest are counted."""


def load_markdown(path: Path, *, max_bytes: int) -> Loaded:
    """Markdown with optional YAML front matter (title, source, url, published, tags, author)."""
    import yaml

    decoded = decode_text(_read_bytes(path, max_bytes), path)
    raw = decoded.text.lstrip("\ufeff")
    meta: dict[str, Any] = {}
    body = raw
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", raw, re.DOTALL)
    if match:
        try:
            loaded = yaml.safe_load(_CONTROL.sub("", match.group(1))) or {}
        except yaml.YAMLError as err:
            raise DocumentError(f"{path}: broken YAML front matter ({str(err).splitlines()[0]})") from err
        if not isinstance(loaded, dict):
            raise DocumentError(f"{path}: front matter is not a mapping")
        meta = loaded
        body = raw[match.end() :]
    if not meta.get("title"):
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        meta["title"] = heading.group(1).strip() if heading else path.stem
    return [_article(path, body, **meta)], list(decoded.notes)


def load_txt(path: Path, *, max_bytes: int) -> Loaded:
    """Plain text: the first non-empty line is the title; the text is the whole file, verbatim."""
    decoded = decode_text(_read_bytes(path, max_bytes), path)
    text = normalize_text(decoded.text)
    if not text:
        raise DocumentError(f"{path}: empty file")
    return [_article(path, text, title=text.split("\n", 1)[0].strip()[:300])], list(decoded.notes)


def load_pdf(path: Path, *, max_bytes: int) -> Loaded:
    """PDF text per page, read in a bounded child process; page_starts records where each page begins."""
    from assistant.ingest.pdf_text import PdfTextError, extract_pdf

    data = _read_bytes(path, max_bytes)
    try:
        extracted = extract_pdf(data)
    except PdfTextError as err:
        raise DocumentError(f"{path}: unreadable PDF ({err})") from err
    if extracted.encrypted:
        raise DocumentError(f"{path}: encrypted PDF")
    raw = "".join(extracted.pages)
    removed = control_characters(raw)
    pages = [normalize_text(page) for page in extracted.pages]
    text = ""
    starts: list[int] = []
    for page in pages:
        if text and page:
            text += "\n\n"
        starts.append(len(text))
        text += page
    if not text.strip():
        raise DocumentError(f"{path}: no extractable text (scanned PDF?)")
    title = normalize_text(extracted.title) or text.split("\n", 1)[0]
    article = Article(
        doc_id=make_doc_id(str(path)),
        source_path=str(path),
        title=title.strip()[:300] or path.stem,
        text=text,
        page_starts=tuple(starts),
    )
    return [article], ([f"removed {removed} control character(s) such as NUL from the text"] if removed else [])


def load_jsonl(path: Path, *, max_bytes: int) -> Loaded:
    """One article per line (title, text, source, url, published, tags, author, id); bad lines become warnings."""
    decoded = decode_text(_read_bytes(path, max_bytes), path)
    articles: list[Article] = []
    bad: list[str] = []
    removed = 0
    # The same ids as make_doc_id(f"{path}#{n}"), without resolving the path again for each of 100k lines.
    prefix = normalize_source(f"{path}#")
    # Only \n ends a record: str.splitlines() would also split inside a string holding U+2028 or a form feed.
    for number, line in enumerate(decoded.text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, strict=False)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            if not str(record.get("text") or "").strip():
                raise ValueError("no text")
            meta = {k: record.get(k) for k in ("title", "source", "url", "published", "tags", "author")}
            removed += control_characters(str(record["text"]))
            doc_id = _jsonl_doc_id(path, prefix, record, number)
            articles.append(_article(path, str(record["text"]), doc_id=doc_id, **meta))
        except (ValueError, TypeError, DocumentError) as err:
            bad.append(f"line {number}: {' '.join(str(err).split())[:200]}")
    if not articles:
        raise DocumentError(f"{path}: no usable line ({'; '.join(bad[:3]) or 'empty'})")
    warnings = [*decoded.notes, *bad[:MAX_LINE_WARNINGS]]
    if len(bad) > MAX_LINE_WARNINGS:
        warnings.append(f"... and {len(bad) - MAX_LINE_WARNINGS} more bad line(s)")
    if removed and not any("control character" in note for note in decoded.notes):
        warnings.append(f"removed {removed} control character(s) such as NUL from the text")
    return articles, warnings


def _jsonl_doc_id(path: Path, prefix: str, record: dict[str, Any], number: int) -> str:
    """The record's URL, else ``path#id``, else ``path#line``, as a stable doc id."""
    if record.get("url"):
        return make_doc_id(str(record["url"]))
    key = str(record["id"]) if record.get("id") else str(number)
    if "/" in key or key in (".", ".."):  # would change how the path resolves: take the slow, exact way
        return make_doc_id(f"{path}#{key}")
    return _doc_id(prefix + key)


def load_html(path: Path, *, max_bytes: int) -> Loaded:
    """Main text of an HTML page (trafilatura); title, author, date, outlet and URL from the page."""
    from assistant.ingest.page_text import extract_page

    decoded = decode_text(_read_bytes(path, max_bytes), path)
    try:
        page = extract_page(decoded.text)
    except DocumentError as err:
        raise DocumentError(f"{path}: {err}") from err
    meta = {"title": page.title, "author": page.author, "published": page.published, "source": page.source}
    return [_article(path, page.text, url=page.url, **meta)], list(decoded.notes)


LOADERS = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_txt,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".jsonl": load_jsonl,
}


def load_file_with_warnings(path: Path, *, max_bytes: int = 20_000_000) -> Loaded:
    """Articles from one file and notes about it; any failure to read it is a DocumentError with the reason."""
    path = Path(path)
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise DocumentError(f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        return loader(path, max_bytes=max_bytes)
    except DocumentError:
        raise
    except MemoryError as err:
        raise DocumentError(f"{path}: too large to read in memory") from err
    except RecursionError as err:
        raise DocumentError(f"{path}: its structure nests too deeply to read") from err
    except Exception as err:  # one unreadable file is a reason in the report, never the end of an ingest
        message = " ".join(str(err).split())[:200]
        raise DocumentError(f"{path}: could not be read ({type(err).__name__}: {message})") from err


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
