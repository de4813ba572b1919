"""Pure rendering of answers, citations and articles for the UI: escaping, highlighting, windows, filters."""

from __future__ import annotations

import dataclasses
import re
from typing import get_args

import pytest

from assistant.types import Answer, AnswerStatus, Article, Citation, IngestReport, RetrievedPassage
from assistant.ui import render

TEXT = "First sentence here. The bridge reopened on <b>Tuesday</b> & cost 3 million. Last one."
QUOTE = "The bridge reopened on <b>Tuesday</b> & cost 3 million."
START = TEXT.index(QUOTE)
ARTICLE = Article(
    doc_id="d1",
    source_path="corpus/d1.md",
    title="Bridge <i>reopens</i>",
    text=TEXT,
    source="Test & Wire",
    published="2024-03-02",
    url="https://example.com/a?b=1&c=2",
)


def citation(number: int = 1, start: int = START, end: int = START + len(QUOTE), quote: str = QUOTE) -> Citation:
    return Citation(number, "d1", ARTICLE.title, ARTICLE.source, ARTICLE.published, ARTICLE.url, "d1:0", start, end,
                    quote, 0.8)  # fmt: skip


def answer(status: AnswerStatus = "verified", text: str = "It reopened on Tuesday [1].", **kw: object) -> Answer:
    return Answer(question="q", text=text, citations=(citation(),), status=status, **kw)  # type: ignore[arg-type]


def passage(chunk_id: str, score: float, text: str = "passage text") -> RetrievedPassage:
    return RetrievedPassage("d1", ARTICLE.title, chunk_id, 0, len(text), text, score)


@pytest.mark.parametrize("status", get_args(AnswerStatus))
def test_every_answer_status_has_a_label_and_a_badge(status: str) -> None:
    assert status in render.STATUS_LABELS
    badge = render.status_badge(status)
    assert f'data-status="{status}"' in badge
    assert render.status_label(status) in badge


def test_status_labels_read_as_the_issue_names_them_and_claim_no_more_than_each_status_knows() -> None:
    assert [render.status_label(s) for s in ("verified", "unconfirmed", "fallback", "abstained")] == [
        "Verified",
        "Unconfirmed",
        "Quoted",
        "No answer",
    ]


def test_each_status_has_its_own_colour_class_and_icon() -> None:
    badges = {s: render.status_badge(s) for s in get_args(AnswerStatus)}
    assert len({render.STATUS_ICONS[s] for s in badges}) == len(badges)
    for status, badge in badges.items():
        assert f"status-{status}" in badge


def test_citation_bar_shows_the_calibrated_confidence() -> None:
    bar = render.citation_bar(dataclasses.replace(answer("verified"), confidence=0.934))
    assert "93% likely right" in bar
    assert "likely right" not in render.citation_bar(answer("verified"))


def test_chat_markdown_links_known_markers_and_escapes_html() -> None:
    md = render.chat_markdown(answer(text="<script>x()</script> reopened [1] and [7]."))
    assert "<script>" not in md
    assert "&lt;script&gt;" in md
    assert '<a class="cite-link" href="#cite-1" data-cite="1">[1]</a>' in md
    assert "[7]" in md and "#cite-7" not in md
    assert "Verified" in md


def test_citation_bar_has_badge_timing_and_one_chip_per_citation() -> None:
    bar = render.citation_bar(answer(timings={"total": 1.234}))
    assert 'data-status="verified"' in bar
    assert "1.2 s" in bar
    assert len(re.findall(r'class="chip" data-cite="1"', bar)) == 1
    assert "Bridge &lt;i&gt;reopens&lt;/i&gt;" in bar
    assert "<i>" not in bar and "<b>Tuesday" not in bar


def test_citation_bar_lists_removed_claims_of_a_partial_answer() -> None:
    bar = render.citation_bar(answer("unconfirmed", unsupported=("It cost <5> million.",)))
    assert "Unconfirmed" in bar
    assert "Removed as unsupported" in bar and "It cost &lt;5&gt; million." in bar


def test_citation_bar_shows_an_escaped_error_line() -> None:
    bar = render.citation_bar(None, error="No store at <dir>: run `assistant ingest corpus`.")
    assert 'class="ui-error"' in bar and "&lt;dir&gt;" in bar and "chip" not in bar


def test_cited_article_marks_exactly_the_cited_span_and_escapes_the_rest() -> None:
    html = render.cited_article(citation(), ARTICLE)
    marked = re.search(r'<mark class="cited" id="cited-sentence">(.*?)</mark>', html)
    assert marked is not None
    assert marked.group(1) == "The bridge reopened on &lt;b&gt;Tuesday&lt;/b&gt; &amp; cost 3 million."
    assert "First sentence here. " in html and " Last one." in html
    assert "Bridge &lt;i&gt;reopens&lt;/i&gt;" in html
    assert "Test &amp; Wire" in html and "2024-03-02" in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html


def test_cited_article_refinds_a_stale_span_by_its_quote() -> None:
    html = render.cited_article(citation(start=0, end=5), ARTICLE)
    assert "&lt;b&gt;Tuesday&lt;/b&gt; &amp; cost 3 million.</mark>" in html


def test_cited_article_without_the_article_shows_the_quote() -> None:
    html = render.cited_article(citation(), None)
    assert '<mark class="cited"' in html and "not in the store" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", 'https://x.org/"onmouseover="a()'])
def test_cited_article_drops_unsafe_links(url: str) -> None:
    unsafe = Article(**{**ARTICLE.__dict__, "url": url})
    html = render.cited_article(citation(), unsafe)
    assert "href=" not in html


def test_long_article_is_shown_as_a_window_around_the_sentence() -> None:
    filler = "Filler sentence number {}. "
    before = "".join(filler.format(i) for i in range(2000))
    text = before + QUOTE + " " + before
    long_article = Article(**{**ARTICLE.__dict__, "text": text})
    html = render.cited_article(citation(start=len(before), end=len(before) + len(QUOTE)), long_article)
    assert len(html) < len(text) // 4
    assert html.count("…") == 2
    assert '<mark class="cited" id="cited-sentence">The bridge' in html


def test_article_window_is_whole_for_short_articles() -> None:
    assert render.article_window(100, 10, 20) == (0, 100)
    lo, hi = render.article_window(100_000, 50_000, 50_100)
    assert lo == 50_000 - render.WINDOW_CHARS and hi == 50_100 + render.WINDOW_CHARS


def test_sources_panel_lists_other_passages_by_rank_not_raw_scores() -> None:
    html = render.sources_panel(
        citation(), ARTICLE, [passage("d1:0", 0.05), passage("d2:0", 0.0321, "<img src=x onerror=y()>")]
    )
    assert "Retrieved passages" in html
    assert "#2" in html and "#1" not in html  # the cited chunk is the article above, not repeated
    assert "0.032" not in html, "raw fusion scores mean nothing to a reader"
    assert "&lt;img src=x onerror=y()&gt;" in html and "<img" not in html


def test_sources_panel_without_citation_shows_the_note_and_passages() -> None:
    html = render.sources_panel(None, None, [passage("d1:0", 0.5)], note="Click a <citation>.")
    assert "Click a &lt;citation&gt;." in html and "#1" in html and "<mark" not in html


def test_date_filters_accept_iso_dates_and_skip_blanks() -> None:
    assert render.date_filters("", None) == {}
    assert render.date_filters(" 2024-01-01 ", "2024-12-31") == {
        "published_from": "2024-01-01",
        "published_to": "2024-12-31",
    }


@pytest.mark.parametrize(("start", "end"), [("yesterday", ""), ("2024-13-01", ""), ("20240101", ""), ("", "2024-1-1")])
def test_date_filters_reject_malformed_dates(start: str, end: str) -> None:
    with pytest.raises(ValueError, match="must be a date like"):
        render.date_filters(start, end)


def test_date_filters_reject_an_inverted_range() -> None:
    with pytest.raises(ValueError, match="after"):
        render.date_filters("2024-05-01", "2024-01-01")


def test_ingest_html_keeps_the_good_files_and_names_each_failure() -> None:
    report = IngestReport(
        added=2, chunks_written=5, errors=(("/tmp/x/bad.pdf", "not a <PDF>"), ("C:\\u\\e.html", "empty"))
    )
    html = render.ingest_html(report)
    assert "Added 2" in html and "5 chunks" in html
    assert "<b>bad.pdf</b>: not a &lt;PDF&gt;" in html and "<b>e.html</b>: empty" in html


def test_stats_html_escapes_values() -> None:
    html = render.stats_html({"documents": 3, "store": "embedded: /tmp/<x>"})
    assert "<th>documents</th><td>3</td>" in html and "/tmp/&lt;x&gt;" in html


def test_error_markdown_is_one_escaped_line() -> None:
    assert render.error_markdown("Model\nserver <down>") == "⚠️ Model server &lt;down&gt;"
