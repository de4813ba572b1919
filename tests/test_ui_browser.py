"""The newcomer's path in a real browser: ask, watch the answer stream, click a citation, see the sentence."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from tests.test_ui_app import FakeAssistant, RunningApp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parent.parent

# `make test` sets ASSISTANT_REQUIRE_BROWSER=1: there a missing browser fails the run instead of skipping it.
BROWSER_REQUIRED = os.environ.get("ASSISTANT_REQUIRE_BROWSER") == "1"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not BROWSER_REQUIRED,
    reason="Debian Chromium is not installed at /usr/bin/chromium (`make browser` installs it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), "Debian Chromium is required for the browser tests: run `make browser`"
    import playwright.sync_api as playwright_api

    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


class Page:
    """A fresh browser context on the app, recording dialogs and page errors."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.page.locator("#question textarea").wait_for()

    def ask(self, question: str) -> None:
        box = self.page.locator("#question textarea")
        box.fill(question)
        box.press("Enter")

    def chat_text(self) -> str:
        return self.page.locator("#chat").inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def fake_url(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=None)
    app = RunningApp(FakeAssistant(settings, delay=0.15), settings)
    yield app.url
    app.close()


@pytest.fixture
def page(browser: Any, fake_url: str) -> Iterator[Page]:
    page = Page(browser, fake_url)
    yield page
    page.close()


def _ask_and_wait(page: Page, question: str) -> None:
    page.ask(question)
    page.page.locator("#citations .status-badge").wait_for()


@pytest.mark.timeout(180)
def test_newcomer_asks_sees_stream_clicks_citation_and_sees_sentence(page: Page, tmp_path: Path) -> None:
    page.ask("How many rockets were launched from Zummar?")
    # While the model writes, the message grows behind a cursor; then the checked answer replaces it.
    page.page.wait_for_function("document.querySelector('#chat').innerText.includes('▌')")
    page.page.locator("#citations .status-badge").wait_for()
    assert "▌" not in page.chat_text()
    assert "five rockets" in page.chat_text()
    assert page.page.locator("#citations .status-badge").inner_text().strip().endswith("Verified")
    assert page.page.locator("#sources mark.cited").count() == 0

    page.page.locator("#citations .chip").first.click()
    mark = page.page.locator("#sources mark.cited")
    mark.wait_for()
    sentence = mark.inner_text()
    assert "five rockets were launched from the town of Zummar" in sentence
    assert "U.S. Forces in Iraq and Syria" in page.page.locator("#sources .article-head").inner_text()
    assert "2024-04-22" in page.page.locator("#sources .article-head").inner_text()
    assert mark.is_visible()
    shot = tmp_path / "ui.png"
    page.page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")


@pytest.mark.timeout(180)
def test_citation_marker_in_the_chat_is_clickable_and_numbers_persist_across_turns(page: Page) -> None:
    _ask_and_wait(page, "How many rockets were launched from Zummar?")
    page.ask("And where were the drones shot down?")
    page.page.locator("#citations .chip[data-cite='2']").wait_for()

    page.page.locator("#chat a.cite-link").first.click()  # [1] of the first answer
    page.page.locator("#sources mark.cited").wait_for()
    assert "Zummar" in page.page.locator("#sources mark.cited").inner_text()

    page.page.locator("#citations .chip[data-cite='2']").click()
    page.page.wait_for_function("document.querySelector('#sources mark.cited').innerText.includes('Ain al-Asad')")


@pytest.mark.timeout(180)
def test_article_html_renders_as_inert_text(page: Page) -> None:
    _ask_and_wait(page, "What did the script in the footer say?")
    page.page.locator("#citations .chip").first.click()
    mark = page.page.locator("#sources mark.cited")
    mark.wait_for()
    assert "<script>window.__xss = 1; alert('xss')</script>" in mark.inner_text()
    assert '<img src=x onerror="window.__xss = 2">' in mark.inner_text()
    assert "<script>window.__xss = 3</script>Evil <b>title</b>" in page.page.locator("#sources").inner_text()
    assert page.page.locator("#sources script, #sources img, #sources b:text-is('title')").count() == 0
    assert page.page.locator("#sources a[href^='javascript']").count() == 0
    page.page.wait_for_timeout(500)
    assert page.page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []


@pytest.mark.timeout(180)
def test_an_answer_carrying_outside_urls_renders_no_image_or_link_to_them(page: Page) -> None:
    requested: list[str] = []
    page.page.on("request", lambda request: requested.append(request.url))
    _ask_and_wait(page, "What does the injected article say?")
    page.page.wait_for_timeout(500)
    chat = page.page.locator("#chat")
    assert "Five rockets" in chat.inner_text()
    assert chat.locator("img[src*='evil.example'], a[href*='evil.example']").count() == 0
    assert page.page.locator("[src*='evil.example'], [href*='evil.example'], [srcset*='evil.example']").count() == 0
    assert not [url for url in requested if "evil.example" in url], "the browser never fetched the outside URL"


@pytest.mark.timeout(180)
def test_cited_sentence_deep_in_a_long_article_is_scrolled_into_view(page: Page) -> None:
    _ask_and_wait(page, "When was the ferry schedule approved?")
    page.page.locator("#citations .chip").first.click()
    mark = page.page.locator("#sources mark.cited")
    mark.wait_for()
    box = page.page.locator("#sources .article-text")
    page.page.wait_for_function("document.querySelector('#sources .article-text').scrollTop > 0")
    mark_box, text_box = mark.bounding_box(), box.bounding_box()
    assert mark_box is not None and text_box is not None
    assert text_box["y"] <= mark_box["y"] and mark_box["y"] + mark_box["height"] <= text_box["y"] + text_box["height"]


@pytest.mark.timeout(120)
def test_empty_question_shows_a_clear_message(page: Page) -> None:
    page.ask("   ")
    error = page.page.locator("#citations .ui-error")
    error.wait_for()
    assert "The question is empty" in error.inner_text()


@pytest.mark.timeout(180)
def test_corpus_tab_ingests_uploads_and_lists_per_file_errors(page: Page, tmp_path: Path) -> None:
    good = tmp_path / "harbor.md"
    good.write_text("# Harbor bridge reopens\n\nThe bridge reopened on Tuesday.\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("Festival draws crowds\n\nAbout 12,000 people came.\n")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"this is not a pdf")
    page.page.get_by_role("tab", name="Corpus").click()
    page.page.locator("#stats table.stats").wait_for()
    page.page.locator("input[type=file]").set_input_files([str(good), str(notes), str(bad)])
    page.page.wait_for_timeout(1000)
    page.page.locator("#ingest").click()
    result = page.page.locator("#ingest-result .ingest-summary")
    result.wait_for()
    assert "Added 2" in result.inner_text()
    errors = page.page.locator("#ingest-result .ingest-errors").inner_text()
    assert "broken.pdf" in errors and "not a readable PDF" in errors
    assert "harbor.md" not in errors
    assert re.search(r"documents\s+5", page.page.locator("#stats").inner_text())


# -- the same path against the real engine ------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from assistant import Assistant
    from tests.conftest import link_model_cache

    data = link_model_cache(tmp_path_factory.mktemp("real") / "data")
    settings = Settings(data_dir=data, chroma_url=None)  # the default backend: the local LLM
    assistant = Assistant(settings)
    report = assistant.ingest([REPO / "corpus"])
    assert report.errors == () or report.added > 0
    app = RunningApp(assistant, settings)
    yield app.url
    app.close()


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("question", "answers", "fact"),
    [
        ("How many rockets were launched from Zummar?", ("five", "5"), "five rockets"),
        ("How many U.S. troops are in eastern Syria?", ("900",), "900"),
        ("From which town were the rockets launched?", ("Zummar",), "Zummar"),
    ],
)
def test_real_engine_answer_citation_opens_the_sentence_in_the_article(
    browser: Any, real_url: str, tmp_path: Path, question: str, answers: tuple[str, ...], fact: str
) -> None:
    page = Page(browser, real_url)
    try:
        page.ask(question)
        page.page.locator("#citations .status-badge").wait_for(timeout=120_000)
        answer = page.chat_text()
        assert any(a.lower() in answer.lower() for a in answers), answer
        chip = page.page.locator("#citations .chip").first
        chip.click()
        mark = page.page.locator("#sources mark.cited")
        mark.wait_for()
        assert fact in mark.inner_text()
        shot = tmp_path / "ui-real.png"
        page.page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot: {shot}")
        assert page.dialogs == []
    finally:
        page.close()
