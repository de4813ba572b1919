"""HTML and markdown for the chat UI: pure functions of engine results; all article text is escaped here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

from assistant.markers import MARKER
from assistant.types import STATUS_LABELS, Answer, Article, Citation, IngestReport, RetrievedPassage

STATUS_ICONS = {"verified": "✓", "unconfirmed": "?", "fallback": "❝", "abstained": "∅"}
WHOLE_ARTICLE_CHARS = 20_000
"""Articles up to this length are shown whole; longer ones as a window around the cited sentence."""
WINDOW_CHARS = 1_500
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def status_label(status: str) -> str:
    """A reader's name for an answer status."""
    return STATUS_LABELS.get(status, (status, ""))[0]


def status_badge(status: str) -> str:
    """A coloured badge naming the status, with what it means as a tooltip."""
    label, meaning = STATUS_LABELS.get(status, (status, ""))
    icon = STATUS_ICONS.get(status, "")
    return (
        f'<span class="status-badge status-{escape(status)}" data-status="{escape(status)}" '
        f'title="{escape(meaning)}">{icon} {escape(label)}</span>'
    )


def chat_markdown(answer: Answer) -> str:
    """The answer as a chat message: escaped text, clickable [n] markers, and a one-line status."""
    numbers = {c.number for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="cite-link" href="#cite-{n}" data-cite="{n}">[{n}]</a>'

    text = MARKER.sub(link, escape(answer.text, quote=False))
    label, meaning = STATUS_LABELS.get(answer.status, (answer.status, ""))
    return f"{text}\n\n*{STATUS_ICONS.get(answer.status, '')} {label}: {meaning}.*"


def error_markdown(message: str) -> str:
    """An error as a chat message (one line, escaped)."""
    return f"⚠️ {escape(' '.join(message.split()), quote=False)}"


def citation_bar(answer: Answer | None, error: str | None = None) -> str:
    """Status badge, timing and one chip per citation of the latest answer."""
    if error:
        return f'<div class="answer-meta"><span class="ui-error" role="alert">⚠️ {escape(error)}</span></div>'
    if answer is None:
        return '<div class="answer-meta"><span class="hint">Citations of the latest answer appear here.</span></div>'
    parts = [status_badge(answer.status)]
    if answer.confidence is not None:
        parts.append(
            f'<span class="confidence" title="calibrated probability that the answer is right">'
            f"{answer.confidence:.0%} likely right</span>"
        )
    total = answer.timings.get("total")
    if total is not None:
        parts.append(f'<span class="timing">{total:.1f} s</span>')
    if answer.dates_read:
        parts.append(
            f'<span class="dates-read" title="the days the question named, read against its as-of date">'
            f"read as of {escape(answer.as_of)}: articles of {escape(answer.dates_read)} first</span>"
        )
    if answer.stale_note:
        parts.append(f'<span class="stale-note" role="note">{escape(answer.stale_note)}</span>')
    chips = [
        f'<button type="button" class="chip" data-cite="{c.number}" title="{escape(c.quote)}">'
        f"<b>[{c.number}]</b> {escape(shorten(c.title or c.doc_id, 48))}</button>"
        for c in answer.citations
    ]
    if chips:
        parts.append('<span class="hint">Click a source to see the sentence in its article:</span>')
        parts.append('<span class="chips">' + "".join(chips) + "</span>")
    html = '<div class="answer-meta">' + " ".join(parts) + "</div>"
    if answer.unsupported:
        removed = "".join(f"<li>{escape(claim)}</li>" for claim in answer.unsupported)
        html += f'<details class="unsupported"><summary>Removed as unsupported</summary><ul>{removed}</ul></details>'
    return html


def sources_panel(
    citation: Citation | None,
    article: Article | None,
    passages: Sequence[RetrievedPassage] = (),
    *,
    note: str = "",
) -> str:
    """The cited sentence highlighted inside its article, then the other retrieved passages by rank."""
    parts: list[str] = []
    if citation is not None:
        parts.append(cited_article(citation, article))
    elif note:
        parts.append(f'<p class="hint">{escape(note)}</p>')
    if passages:
        parts.append(passage_list(passages, exclude=citation.chunk_id if citation else None))
    return '<div class="sources">' + "".join(parts) + "</div>"


def cited_article(citation: Citation, article: Article | None) -> str:
    """Title, source and date of the cited article, and its text with the cited sentence in <mark class="cited">."""
    title = (article.title if article else "") or citation.title or citation.doc_id
    source = (article.source if article else "") or citation.source
    published = (article.published if article else "") or citation.published
    url = (article.url if article else "") or citation.url
    meta = [f'<span class="cite-num">[{citation.number}]</span> <b class="article-title">{escape(title)}</b>']
    if source:
        meta.append(f'<span class="article-source">{escape(source)}</span>')
    meta.append(f'<span class="article-date">{escape(published) if published else "date unknown"}</span>')
    if url and _SAFE_URL.match(url):
        meta.append(f'<a class="article-url" href="{escape(url)}" target="_blank" rel="noopener noreferrer">open</a>')
    head = '<div class="article-head">' + " · ".join(meta) + "</div>"
    span = locate_span(citation, article)
    if article is None or span is None:
        body = f'<mark class="cited" id="cited-sentence">{escape(citation.quote)}</mark>'
        note = '<p class="hint">The article text is not in the store any more; this is the quoted sentence.</p>'
        return (
            f'<div class="article" data-doc-id="{escape(citation.doc_id)}">{head}{note}'
            f'<div class="article-text">{body}</div></div>'
        )
    start, end = span
    text = article.text
    lo, hi = article_window(len(text), start, end)
    body = (
        ("… " if lo > 0 else "")
        + escape(text[lo:start])
        + f'<mark class="cited" id="cited-sentence">{escape(text[start:end])}</mark>'
        + escape(text[end:hi])
        + (" …" if hi < len(text) else "")
    )
    return (
        f'<div class="article" data-doc-id="{escape(citation.doc_id)}">{head}'
        f'<div class="article-text">{body}</div></div>'
    )


def locate_span(citation: Citation, article: Article | None) -> tuple[int, int] | None:
    """Character span of the cited sentence in the article, re-found by its quote if the offsets are stale."""
    if article is None:
        return None
    text = article.text
    if 0 <= citation.start < citation.end <= len(text) and text[citation.start : citation.end] == citation.quote:
        return citation.start, citation.end
    if citation.quote:
        at = text.find(citation.quote)
        if at >= 0:
            return at, at + len(citation.quote)
    return None


def article_window(length: int, start: int, end: int) -> tuple[int, int]:
    """Bounds of the text shown: the whole article when short, else a window around the span."""
    if length <= WHOLE_ARTICLE_CHARS:
        return 0, length
    return max(0, start - WINDOW_CHARS), min(length, end + WINDOW_CHARS)


def _dated(passage: RetrievedPassage) -> str:
    """' · CNN, 2024-01-05' after a passage's headline, when its article has an outlet or a date."""
    about = ", ".join(x for x in (passage.source, passage.published) if x)
    return f' <span class="dated">\u00b7 {escape(about)}</span>' if about else ""


def passage_list(passages: Iterable[RetrievedPassage], *, exclude: str | None = None) -> str:
    """Retrieved passages, most relevant first, with their rank."""
    items = [
        f'<li class="passage"><span class="rank" title="rank among the passages retrieved for the question">'
        f"#{rank}</span> "
        f"<b>{escape(p.title or p.doc_id)}</b>{_dated(p)}"
        f'<div class="passage-text">{escape(shorten(p.text, 400))}</div></li>'
        for rank, p in enumerate(passages, start=1)
        if p.chunk_id != exclude
    ]
    if not items:
        return ""
    return '<div class="passages"><h4>Retrieved passages</h4><ol>' + "".join(items) + "</ol></div>"


def stats_html(stats: Mapping[str, Any]) -> str:
    """The store's statistics as a small table."""
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in stats.items())
    return f'<table class="stats">{rows}</table>'


def ingest_html(report: IngestReport) -> str:
    """What an ingest did, with one line per file that failed."""
    summary = (
        f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}; {report.chunks_written} chunks written in {report.seconds:.1f} s."
    )
    html = f'<p class="ingest-summary">{escape(summary)}</p>'
    if report.messages:
        html += '<ul class="ingest-messages">' + "".join(f"<li>{escape(m)}</li>" for m in report.messages) + "</ul>"
    if report.errors:
        rows = "".join(
            f"<li><b>{escape(_shown_source(path))}</b>: {escape(reason.removeprefix(f'{path}: '))}</li>"
            for path, reason in report.errors
        )
        html += f'<div class="ingest-errors" role="alert"><p>Not ingested:</p><ul>{rows}</ul></div>'
    return html


def message_html(message: str, *, error: bool = False) -> str:
    """One escaped line, styled as an error when asked."""
    cls = "ui-error" if error else "hint"
    role = ' role="alert"' if error else ""
    return f'<p class="{cls}"{role}>{"⚠️ " if error else ""}{escape(message)}</p>'


def date_filters(published_from: str | None, published_to: str | None) -> dict[str, str]:
    """Engine filters from the two date boxes; ValueError with a readable message for a bad date."""
    filters: dict[str, str] = {}
    for key, value in (("published_from", published_from), ("published_to", published_to)):
        value = (value or "").strip()
        if not value:
            continue
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key.replace('_', ' ')} must be a date like 2024-03-02, not {value!r}.") from None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"{key.replace('_', ' ')} must be a date like 2024-03-02, not {value!r}.")
        filters[key] = value
    if filters.get("published_from", "") > filters.get("published_to", "9999"):
        raise ValueError("published from is after published to.")
    return filters


def shorten(text: str, limit: int) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shown_source(path: str) -> str:
    """A URL whole (its last part alone would not say which page), a file by its name."""
    return path if "://" in path[:20] else _basename(path)


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1] or path
