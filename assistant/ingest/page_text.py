"""Main text and metadata (title, author, date, outlet, URL) of a saved or fetched news page, by trafilatura."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from assistant.errors import DocumentError


@dataclass(frozen=True)
class PageText:
    """What a page says, without its menus, notices and links to other stories."""

    text: str
    title: str = ""
    author: str = ""
    published: str = ""
    source: str = ""
    url: str = ""


def extract_page(html: str, url: str | None = None) -> PageText:
    """The page's main text and metadata; DocumentError when it holds no readable text.

    trafilatura reads the text; where it finds none (a very short page) our own extractor's text is kept, and
    metadata trafilatura did not find is taken from the page's head by our extractor.
    """
    import trafilatura

    from assistant.ingest.html_text import extract_html

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        config=_config(),
    )
    own = _own_extraction(html, extract_html)
    text = str(getattr(document, "text", "") or "") if document is not None else ""
    if not text.strip():
        text = str(own.get("text") or "")
    if not text.strip():
        raise DocumentError("no readable text in the HTML")

    def field(name: str, own_key: str) -> str:
        value = getattr(document, name, None) if document is not None else None
        return " ".join(str(value or own.get(own_key) or "").split())

    return PageText(
        text=text,
        title=field("title", "title"),
        author=field("author", "author"),
        published=field("date", "published"),
        source=field("sitename", "source"),
        url=str(url or own.get("url") or field("url", "url")),
    )


MIN_EXTRACTED_CHARS = 25
"""trafilatura's default (250) sends a short story to its fallback, which keeps menus and breaks lines at <b>."""


@functools.lru_cache(maxsize=1)
def _config() -> Any:
    from copy import deepcopy

    from trafilatura.settings import DEFAULT_CONFIG

    config = deepcopy(DEFAULT_CONFIG)
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_CHARS))
    return config


def _own_extraction(html: str, extract_html: object) -> dict:
    try:
        return dict(extract_html(html))  # type: ignore[operator]
    except DocumentError:
        return {}
