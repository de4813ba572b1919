"""Fetching a news page by URL (httpx): only http(s), timeouts, a size cap and bounded redirects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import DocumentError
from assistant.settings import FetchSettings
from assistant.types import Article

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WINDOWS_DRIVE = re.compile(r"^[a-z]:[\\/]", re.IGNORECASE)


def is_url(text: str) -> bool:
    """True when ``text`` names a URL (any scheme, so that file:// and ftp:// are refused, not read as paths)."""
    text = str(text).strip()
    return bool(_SCHEME.match(text)) and not _WINDOWS_DRIVE.match(text) and "://" in text[:20]


def check_url(url: str) -> str:
    """The URL stripped, or DocumentError naming it when it is not an http(s) URL with a host."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise DocumentError(f"{url}: only http:// and https:// URLs are fetched ({shown} refused)")
    if not parts.hostname:
        raise DocumentError(f"{url}: no host in the URL")
    return url


@dataclass(frozen=True)
class Fetched:
    """A reply read within the limits: where it ended up, what it says it is, and its bytes."""

    url: str
    content_type: str
    charset: str | None
    body: bytes


def fetch(url: str, settings: FetchSettings) -> Fetched:
    """GET ``url``; DocumentError naming the URL and the reason for any failure (one line)."""
    import httpx

    url = check_url(url)
    timeout = httpx.Timeout(settings.timeout_s)
    headers = {"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9"}
    client = httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=settings.max_redirects, headers=headers)
    try:
        with client, client.stream("GET", url) as reply:
            return _read(reply, url, settings.max_bytes)
    except DocumentError:
        raise
    except httpx.TooManyRedirects:
        raise DocumentError(f"{url}: more than {settings.max_redirects} redirects") from None
    except httpx.TimeoutException:
        raise DocumentError(f"{url}: timed out (no reply within {settings.timeout_s:g} s)") from None
    except httpx.UnsupportedProtocol:
        raise DocumentError(f"{url}: redirected to a URL that is not http(s)") from None
    except httpx.ConnectError as err:
        raise DocumentError(f"{url}: unreachable ({_reason(err)})") from None
    except httpx.HTTPError as err:
        raise DocumentError(f"{url}: could not be fetched ({type(err).__name__}: {_reason(err)})") from None


def _read(reply: Any, url: str, max_bytes: int) -> Fetched:
    """The reply's bytes, refused when its status is an error or it grows past ``max_bytes``."""
    if reply.status_code >= 400:
        raise DocumentError(f"{url}: the server answered HTTP {reply.status_code} {reply.reason_phrase}")
    declared = reply.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DocumentError(_too_large(url, max_bytes, int(declared)))
    body = bytearray()
    for piece in reply.iter_bytes():
        body.extend(piece)
        if len(body) > max_bytes:
            raise DocumentError(_too_large(url, max_bytes))
    content_type = reply.headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(str(reply.url), content_type, reply.charset_encoding, bytes(body))


def fetch_article(url: str, settings: FetchSettings) -> Article:
    """The article on the page at ``url``: its main text and what the page says of its title, author and date."""
    from assistant.ingest.documents import decode_text, make_doc_id, normalize_text
    from assistant.ingest.page_text import extract_page

    fetched = fetch(url, settings)
    url = url.strip()
    if fetched.content_type and fetched.content_type not in _HTML_TYPES:
        raise DocumentError(f"{url}: not an HTML page (the server sent {fetched.content_type})")
    text = _decode(fetched, decode_text)
    try:
        page = extract_page(text, url=fetched.url)
    except DocumentError as err:
        raise DocumentError(f"{url}: {err}") from None
    body = normalize_text(page.text)
    if not body:
        raise DocumentError(f"{url}: no readable text on the page")
    from assistant.ingest.documents import iso_date

    return Article(
        doc_id=make_doc_id(url),
        source_path=url,
        title=page.title or urlsplit(fetched.url).path.rsplit("/", 1)[-1] or fetched.url,
        text=body,
        source=page.source or (urlsplit(fetched.url).hostname or ""),
        url=fetched.url,
        published=iso_date(page.published),
        author=page.author,
    )


def _decode(fetched: Fetched, decode_text: object) -> str:
    if fetched.charset:
        try:
            return fetched.body.decode(fetched.charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return decode_text(fetched.body, Path(fetched.url)).text  # type: ignore[operator,no-any-return]
    except DocumentError as err:
        raise DocumentError(f"{fetched.url}: {str(err).split(': ', 1)[-1]}") from None


def _too_large(url: str, limit: int, size: int | None = None) -> str:
    said = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    return f"{url}: the reply is too large ({said}; the limit is fetch.max_bytes = {limit:,})"


def _reason(err: Exception) -> str:
    return " ".join(str(err).split())[:160] or type(err).__name__
