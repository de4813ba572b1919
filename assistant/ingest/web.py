"""Articles the user named by URL or by feed, fetched before an ingest takes the store's write lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.errors import DocumentError
from assistant.ingest.feed import read_feed
from assistant.ingest.fetch import fetch_article
from assistant.settings import FetchSettings
from assistant.types import Article


@dataclass(frozen=True)
class WebBatch:
    """The articles fetched, and (URL, reason) for each page or feed that could not be read."""

    articles: tuple[Article, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()


def load_web(
    urls: Sequence[str],
    feeds: Sequence[str],
    settings: FetchSettings,
    progress: Callable[[int, int, str], None] | None = None,
) -> WebBatch:
    """Fetch each page and each feed's items; one failure is one error line, never the end of the batch."""
    errors: list[tuple[str, str]] = []
    pages: list[tuple[str, str]] = [(url.strip(), "") for url in urls]
    for feed in feeds:
        try:
            pages.extend((item.url, item.published) for item in read_feed(feed, settings))
        except DocumentError as err:
            errors.append((feed.strip(), str(err)))
    articles: list[Article] = []
    seen: set[str] = set()
    for done, (url, published) in enumerate(pages):
        if url in seen:
            continue
        seen.add(url)
        if progress:
            progress(done, len(pages), url)
        try:
            article = fetch_article(url, settings)
        except DocumentError as err:
            errors.append((url, str(err)))
            continue
        if published and not article.published:  # the feed's date where the page gives none
            article = dataclasses.replace(article, published=published)
        articles.append(article)
    return WebBatch(tuple(articles), tuple(errors))
