"""The managed archive end to end: pages and a feed from a local server, re-runs, listing, answering, removing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.errors import ArticleNotFoundError, QuestionError
from tests.local_site import STORIES, LocalSite, serve_site, story_page

PAGES = ["ferry-returns", "orchard-frost", "library-vote"]
FEED_FIRST = ["bridge-closure", "choir-prize", "market-hall", "rail-timetable", "museum-donation"]


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with serve_site() as running:
        for slug in PAGES:
            running.page(f"/saved/{slug}.html", story_page(slug))
        yield running


def _page_urls(site: LocalSite) -> list[str]:
    return [f"{site.base}/saved/{slug}.html" for slug in PAGES]


def test_pages_and_a_feed_are_ingested_listed_answered_from_and_removed(site: LocalSite, fake_assistant_factory):
    assistant = fake_assistant_factory(llm=None)
    feed = site.feed("/feed.xml", FEED_FIRST[:3])
    first = assistant.ingest(_page_urls(site), feeds=[feed])
    assert (first.added, first.errors) == (6, ())

    site.feed("/feed.xml", FEED_FIRST)  # the feed now has two more items
    again = assistant.ingest(feeds=[feed])
    assert (again.added, again.unchanged, again.updated) == (2, 3, 0)
    site.feed("/feed.xml", [*FEED_FIRST, "ferry-returns"])  # a new item whose page repeats a stored one
    third = assistant.ingest(feeds=[feed])
    assert (third.added, third.skipped, third.unchanged) == (0, 1, 5)
    assert "same text as an article already stored" in third.messages[0]

    listed = assistant.articles()
    assert len(listed) == 8
    assert [e.published for e in listed] == sorted((e.published for e in listed), reverse=True)
    ferry = next(e for e in listed if e.url == f"{site.base}/saved/ferry-returns.html")
    assert (ferry.title, ferry.source, ferry.author) == (
        "Lake ferry returns to Pellham after a winter refit",
        "Harrowdale Courier",
        "Mira Okonkwo-Lind",
    )
    assert ferry.published == "2026-02-02" and ferry.chunks >= 1
    assert [e.title for e in assistant.articles("orchards frost")] == [STORIES[1][4]]
    assert {e.source for e in assistant.articles(source="valley ledger")} == {"Valley Ledger"}
    assert len(assistant.articles(published_from="2026-02-10", published_to="2026-02-19")) == 3

    answer = assistant.ask("How many crossings a day does the council expect once the schools reopen?")
    assert "1,400" in answer.text and answer.citations[0].url.endswith("/saved/ferry-returns.html")

    assert ferry.doc_id in _lexical_doc_ids(assistant, "crossings schools reopen")
    removed = assistant.remove(ferry.doc_id)
    assert removed.title == ferry.title
    assert ferry.doc_id not in {e.doc_id for e in assistant.articles()}
    after = assistant.ask("How many crossings a day does the council expect once the schools reopen?")
    assert all(c.doc_id != ferry.doc_id for c in after.citations)
    assert ferry.doc_id not in _lexical_doc_ids(assistant, "crossings schools reopen")
    assert assistant.store.get_article(ferry.doc_id) is None
    with pytest.raises(ArticleNotFoundError, match="No stored article has the id 'doc-0000'"):
        assistant.remove("doc-0000")


def _lexical_doc_ids(assistant, query: str) -> set[str]:
    from assistant.store.chunk_store import make_filters

    hits = [chunk_id for chunk_id, _ in assistant.store.lexical_search(query, 10, make_filters(None))]
    return {chunk.doc_id for chunk in assistant.store.chunks_by_id(hits).values()}


def test_bad_urls_in_a_batch_are_one_line_each_and_the_rest_is_ingested(site: LocalSite, fake_assistant_factory):
    from tests.local_site import Reply

    site.routes["/photo.png"] = Reply(b"\x89PNG\r\n" + bytes(100), "image/png")
    site.routes["/not-a-feed"] = Reply(b"plain words", "text/plain")
    good = _page_urls(site)[0]
    bad = ["file:///etc/hosts", site.base + "/photo.png", site.base + "/nothing-here.html"]
    report = fake_assistant_factory(llm=None).ingest([*bad, good], feeds=[site.base + "/not-a-feed"])
    assert report.added == 1
    reasons = dict(report.errors)
    assert set(reasons) == {*bad, site.base + "/not-a-feed"}
    assert "only http:// and https://" in reasons["file:///etc/hosts"]
    assert "not an HTML page" in reasons[site.base + "/photo.png"]
    assert "HTTP 404" in reasons[site.base + "/nothing-here.html"]
    assert "not an RSS or Atom feed" in reasons[site.base + "/not-a-feed"]
    assert all("\n" not in r for r in reasons.values())


def test_a_fetched_page_is_never_pruned_as_a_missing_file(site: LocalSite, fake_assistant_factory, tiny_corpus):
    assistant = fake_assistant_factory(llm=None)
    assistant.ingest(_page_urls(site)[:1])
    report = assistant.ingest([tiny_corpus], prune=True)
    assert report.removed == 0 and len(assistant.articles()) == 4


def test_listing_rejects_a_malformed_date(fake_assistant_factory) -> None:
    with pytest.raises(QuestionError, match="published_from must be a date"):
        fake_assistant_factory(llm=None).articles(published_from="last week")


def test_the_cli_ingests_urls_and_feeds_lists_answers_and_removes(site: LocalSite, tmp_path: Path, monkeypatch):
    from assistant.cli import app
    from tests.conftest import FakeEmbedder

    monkeypatch.setattr("assistant.engine.make_embedder", lambda settings, *_: FakeEmbedder())
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    feed = site.feed("/feed.xml", FEED_FIRST[:3])
    first = runner.invoke(app, ["ingest", *_page_urls(site), "--feed", feed, *data])
    assert first.exit_code == 0, first.output
    assert "6 added" in first.output
    site.feed("/feed.xml", FEED_FIRST)
    again = runner.invoke(app, ["ingest", "--feed", feed, *data])
    assert "2 added" in again.output and "3 unchanged" in again.output

    listed = runner.invoke(app, ["list", "--json", *data])
    entries = json.loads(listed.stdout)
    assert len(entries) == 8
    assert {"doc_id", "title", "source", "author", "published", "url", "chunks"} <= set(entries[0])
    text_list = runner.invoke(app, ["list", "choir", *data])
    assert "Quillan school choir wins" in text_list.stdout and "Mira Okonkwo-Lind" in text_list.stdout

    asked = runner.invoke(
        app, ["ask", "How many member orchards did the frost hit?", "--markdown", "--backend", "extractive", *data]
    )
    assert asked.exit_code == 0, asked.output
    assert "62 of its 85" in asked.stdout and "**References**" in asked.stdout
    assert f"<{site.base}/saved/orchard-frost.html>" in asked.stdout and "Valley Ledger" in asked.stdout

    orchard = next(e for e in entries if "orchard" in e["url"])
    removed = runner.invoke(app, ["remove", orchard["doc_id"], *data])
    assert removed.exit_code == 0 and "removed" in removed.stdout
    assert len(json.loads(runner.invoke(app, ["list", "--json", *data]).stdout)) == 7
    missing = runner.invoke(app, ["remove", orchard["doc_id"], *data])
    assert missing.exit_code == 1 and "No stored article has the id" in missing.output
    assert "Traceback" not in missing.output

    bad = runner.invoke(app, ["ingest", "file:///etc/hosts", f"{site.base}/nope.html", *data])
    assert bad.exit_code == 1  # every URL of the batch failed: each says why, and the run is not a success
    assert "file:///etc/hosts: only http:// and https://" in bad.output.replace("\n", " ")
    assert f"{site.base}/nope.html: the server answered HTTP 404" in bad.output.replace("\n", " ")
