"""The archive in a real browser: add a page by URL, find it in the list, open it, remove it; copy an answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.local_site import LocalSite, serve_site, story_page
from tests.test_ui_app import RunningApp
from tests.test_ui_browser import CHROMIUM_ARGS, browser, pytestmark  # noqa: F401 - the shared browser fixture

TITLE = "Lake ferry returns to Pellham after a winter refit"


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with serve_site() as running:
        running.page("/news/ferry.html", story_page("ferry-returns"))
        running.page("/news/orchard.html", story_page("orchard-frost"))
        yield running


@pytest.fixture
def app_url(fake_assistant_factory) -> Iterator[str]:
    assistant = fake_assistant_factory(llm=None)
    app = RunningApp(assistant, assistant.settings)
    yield app.url
    app.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(app_url)
    tab.locator("#question textarea").wait_for()
    yield tab
    context.close()


def _wait_for_ingest(page: Any) -> None:
    """Until the ingest says what it did (or failed): the first one also imports trafilatura."""
    page.locator("#ingest-result .ingest-summary, #ingest-result .ui-error").first.wait_for(timeout=90_000)


@pytest.mark.timeout(240)
def test_a_url_is_added_found_in_the_list_opened_and_removed(page: Any, site: LocalSite, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#url-box textarea").fill(f"{site.base}/news/ferry.html {site.base}/news/orchard.html")
    page.locator("#add-url").click()
    _wait_for_ingest(page)
    assert "Added 2" in page.locator("#ingest-result").inner_text()
    page.wait_for_function(f"document.querySelector('#article-list').innerText.includes({TITLE!r})")

    page.locator("#article-search textarea").fill("ferry")
    page.wait_for_function("document.querySelector('#article-list').innerText.includes('1 article(s)')")
    assert "Late frost" not in page.locator("#article-list").inner_text()
    row = page.locator("#article-list tr", has_text=TITLE)
    assert "Mira Okonkwo-Lind" in row.inner_text() and "Harrowdale Courier" in row.inner_text()

    page.locator("#open-article").click()
    opened = page.locator("#opened-article .opened-article")
    opened.wait_for()
    assert "1,400 crossings a day" in opened.inner_text() and "cookie" not in opened.inner_text().lower()

    page.locator("#remove-article").click()
    page.locator("#confirm-remove").wait_for(state="visible")
    assert "cannot be undone" in page.locator("#archive-message").inner_text()
    page.locator("#cancel-remove").click()
    page.wait_for_function("document.querySelector('#archive-message').innerText.includes('Nothing was removed')")
    assert TITLE in page.locator("#article-list").inner_text()

    page.locator("#remove-article").click()
    page.locator("#confirm-remove").click()
    page.wait_for_function("document.querySelector('#archive-message').innerText.includes('Removed')")
    page.wait_for_function("document.querySelector('#article-list').innerText.includes('No articles match')")
    page.locator("#article-search textarea").fill("")
    page.wait_for_function("document.querySelector('#article-list').innerText.includes('1 article(s)')")
    assert TITLE not in page.locator("#article-list").inner_text()
    page.screenshot(path=str(tmp_path / "archive.png"), full_page=True)


@pytest.mark.timeout(240)
def test_copy_as_markdown_puts_the_answer_and_its_references_on_the_clipboard(page: Any, site: LocalSite) -> None:
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#url-box textarea").fill(f"{site.base}/news/ferry.html")
    page.locator("#add-url").click()
    _wait_for_ingest(page)
    assert "Added 1" in page.locator("#ingest-result").inner_text()
    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    box.fill("How many crossings a day does the council expect once the schools reopen?")
    box.press("Enter")
    page.locator("#citations .status-badge").wait_for()
    page.wait_for_function("(document.querySelector('#answer-markdown textarea') || {}).value")
    page.locator("#copy-markdown").click()
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('**References**'))")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "1,400" in copied and f"<{site.base}/news/ferry.html>" in copied and "Harrowdale Courier" in copied
