"""Reading an RSS or Atom feed (feedparser): the links of its items, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from assistant.errors import DocumentError
from assistant.ingest.fetch import fetch
from assistant.settings import FetchSettings

_FEED_TYPES = ("xml", "rss", "atom", "rdf")


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: the page it links to and what the feed says about it."""

    url: str
    title: str = ""
    published: str = ""


def read_feed(url: str, settings: FetchSettings) -> list[FeedItem]:
    """The items of the feed at ``url`` that link to a page (at most ``max_feed_items``, newest first)."""
    fetched = fetch(url, settings)
    return parse_feed(fetched.body, url.strip(), fetched.content_type, settings.max_feed_items)


def parse_feed(body: bytes, url: str, content_type: str = "", max_items: int = 200) -> list[FeedItem]:
    """Items of an RSS or Atom document; DocumentError naming ``url`` when it is not one."""
    import feedparser

    if content_type.startswith("text/html"):
        raise DocumentError(f"{url}: not an RSS or Atom feed (the server sent an HTML page)")
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {' '.join(str(problem).split())[:120]}" if problem else ""
        raise DocumentError(f"{url}: not an RSS or Atom feed (not XML a feed reader understands{detail})")
    items: list[FeedItem] = []
    for entry in parsed.entries:
        link = str(entry.get("link") or "").strip()
        if not link:
            continue
        link = urljoin(url, link)
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = f"{stamp.tm_year:04d}-{stamp.tm_mon:02d}-{stamp.tm_mday:02d}" if stamp else ""
        items.append(FeedItem(url=link, title=" ".join(str(entry.get("title") or "").split()), published=published))
    items.sort(key=lambda item: item.published, reverse=True)
    unique = list({item.url: item for item in reversed(items)}.values())[::-1]
    return unique[:max_items]
