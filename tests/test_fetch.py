"""Fetching pages and feeds by URL: main text and metadata from the page, and one clear line for each bad input."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from assistant.errors import DocumentError
from assistant.ingest.feed import parse_feed, read_feed
from assistant.ingest.fetch import check_url, fetch_article, is_url
from assistant.settings import FetchSettings
from tests.local_site import LocalSite, Reply, serve_site, story_page


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with serve_site() as running:
        yield running


def test_a_fetched_page_keeps_the_story_and_drops_menus_notices_and_related_stories(site: LocalSite) -> None:
    url = site.page("/news/orchard.html", story_page("orchard-frost"))
    article = fetch_article(url, FetchSettings())
    assert "62 of its 85 member orchards" in article.text
    assert "cookie" not in article.text.lower() and "Related stories" not in article.text
    assert "Subscribe" not in article.text and "All rights reserved" not in article.text
    assert article.title == "Late frost costs Quillan orchards most of their blossom"
    assert article.author == "Jonas Ferreira-Holt"
    assert article.published == "2026-02-05"
    assert article.source == "Valley Ledger"
    assert article.url == url and article.source_path == url


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.html", "javascript:alert(1)"])
def test_schemes_other_than_http_are_refused_with_the_url_named(url: str) -> None:
    with pytest.raises(DocumentError, match="only http:// and https://") as err:
        fetch_article(url, FetchSettings())
    assert url in str(err.value) and "\n" not in str(err.value)


def test_urls_are_told_apart_from_paths() -> None:
    assert is_url("https://example.org/a") and is_url("file:///tmp/a.html")
    assert not is_url("corpus/a.html") and not is_url("C:\\news\\a.html") and not is_url("notes: a.txt")
    with pytest.raises(DocumentError, match="no host"):
        check_url("http:///nohost")


def test_an_unreachable_server_is_one_line_naming_the_url() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}/gone.html"
    with pytest.raises(DocumentError, match="unreachable") as err:
        fetch_article(url, FetchSettings(timeout_s=2))
    assert str(err.value).startswith(url)


def test_a_slow_server_times_out(site: LocalSite) -> None:
    site.routes["/slow.html"] = Reply(story_page("ferry-returns").encode(), delay_s=2.0)
    with pytest.raises(DocumentError, match="timed out"):
        fetch_article(site.base + "/slow.html", FetchSettings(timeout_s=0.3))


def test_a_reply_that_is_not_html_is_refused(site: LocalSite) -> None:
    site.routes["/photo.png"] = Reply(b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    with pytest.raises(DocumentError, match=r"not an HTML page \(the server sent image/png\)"):
        fetch_article(site.base + "/photo.png", FetchSettings())


def test_a_page_over_the_size_cap_is_refused(site: LocalSite) -> None:
    url = site.page("/long.html", story_page("ferry-returns"))
    with pytest.raises(DocumentError, match=r"too large.*fetch\.max_bytes"):
        fetch_article(url, FetchSettings(max_bytes=500))


def test_a_page_that_streams_past_the_cap_without_a_length_is_cut_off(site: LocalSite) -> None:
    from assistant.ingest.fetch import fetch

    site.routes["/endless.html"] = Reply(b"<p>" + b"word " * 5000 + b"</p>", send_length=False)
    with pytest.raises(DocumentError, match="too large"):
        fetch(site.base + "/endless.html", FetchSettings(max_bytes=2000))


def test_redirects_are_followed_but_bounded(site: LocalSite) -> None:
    url = site.page("/news/library.html", story_page("library-vote"))
    site.routes["/short"] = Reply(b"", status=301, headers={"Location": url})
    assert "seven to two" in fetch_article(site.base + "/short", FetchSettings()).text
    site.routes["/loop"] = Reply(b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(DocumentError, match="more than 3 redirects"):
        fetch_article(site.base + "/loop", FetchSettings(max_redirects=3))


def test_a_redirect_to_a_file_url_is_refused(site: LocalSite) -> None:
    site.routes["/sneaky"] = Reply(b"", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(DocumentError, match="not http"):
        fetch_article(site.base + "/sneaky", FetchSettings())


def test_an_error_status_is_named(site: LocalSite) -> None:
    with pytest.raises(DocumentError, match="HTTP 404"):
        fetch_article(site.base + "/missing.html", FetchSettings())


def test_a_feed_lists_its_items_newest_first(site: LocalSite) -> None:
    url = site.feed("/feed.xml", ["ferry-returns", "orchard-frost", "library-vote"])
    items = read_feed(url, FetchSettings())
    names = [i.url.rsplit("/", 1)[-1] for i in items]
    assert names == ["library-vote.html", "orchard-frost.html", "ferry-returns.html"]
    assert items[0].published == "2026-02-09" and items[0].title.startswith("Aldwick council")


def test_an_atom_feed_is_read_too() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Valley</title>
    <entry><title>Ferry</title><link href="/news/ferry.html"/><updated>2026-02-02T08:00:00Z</updated></entry></feed>"""
    items = parse_feed(atom, "http://127.0.0.1:9/atom.xml")
    assert [(i.url, i.published) for i in items] == [("http://127.0.0.1:9/news/ferry.html", "2026-02-02")]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"just some words, not a feed", "text/plain"), (b"<html><body><p>a page</p></body></html>", "text/html")],
)
def test_a_feed_that_is_not_a_feed_is_one_line(body: bytes, content_type: str) -> None:
    with pytest.raises(DocumentError, match="not an RSS or Atom feed") as err:
        parse_feed(body, "http://127.0.0.1:9/feed", content_type)
    assert str(err.value).startswith("http://127.0.0.1:9/feed: ") and "\n" not in str(err.value)
