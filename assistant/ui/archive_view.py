"""HTML for the archive on the Corpus tab: the article list and one opened article. Pure; all text escaped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from assistant.store.catalog import ArticleEntry
from assistant.types import Article

_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
LIST_LIMIT = 200
"""Rows shown in the list (the search narrows it)."""


def article_label(entry: ArticleEntry) -> str:
    """How an article is named in the picker: title, outlet, date."""
    where = ", ".join(p for p in (entry.source, entry.published) if p)
    return f"{entry.title or entry.doc_id} ({where})" if where else (entry.title or entry.doc_id)


def article_list_html(entries: Sequence[ArticleEntry], query: str = "") -> str:
    """A table of the stored articles (newest first), or a line saying none match."""
    if not entries:
        said = f" match “{escape(query.strip())}”" if query.strip() else " are stored yet"
        return f'<p class="hint" id="article-count">No articles{said}.</p>'
    rows = []
    for entry in entries[:LIST_LIMIT]:
        link = ""
        if entry.url and _SAFE_URL.match(entry.url):
            link = f'<a href="{escape(entry.url)}" target="_blank" rel="noopener noreferrer">page</a>'
        rows.append(
            f'<tr data-doc-id="{escape(entry.doc_id)}"><td>{escape(entry.published or "—")}</td>'
            f'<td class="article-row-title">{escape(entry.title or entry.doc_id)}</td>'
            f"<td>{escape(entry.source or '—')}</td><td>{escape(entry.author or '—')}</td>"
            f"<td>{entry.chunks}</td><td>{link}</td></tr>"
        )
    more = len(entries) - LIST_LIMIT
    note = f'<p class="hint">… and {more} more: search to narrow the list.</p>' if more > 0 else ""
    count = f'<p class="hint" id="article-count">{len(entries)} article(s)</p>'
    head = "<tr><th>Published</th><th>Title</th><th>Outlet</th><th>Author</th><th>Chunks</th><th></th></tr>"
    return f'{count}<table class="articles">{head}{"".join(rows)}</table>{note}'


def opened_article_html(article: Article) -> str:
    """One stored article: its title, byline, outlet, date, link and full text."""
    meta = [f'<b class="article-title">{escape(article.title or article.doc_id)}</b>']
    for value, cls in ((article.author, "article-author"), (article.source, "article-source")):
        if value:
            meta.append(f'<span class="{cls}">{escape(value)}</span>')
    meta.append(f'<span class="article-date">{escape(article.published or "date unknown")}</span>')
    if article.url and _SAFE_URL.match(article.url):
        meta.append(
            f'<a class="article-url" href="{escape(article.url)}" target="_blank" rel="noopener noreferrer">open</a>'
        )
    return (
        f'<div class="article opened-article" data-doc-id="{escape(article.doc_id)}">'
        f'<div class="article-head">{" · ".join(meta)}</div>'
        f'<p class="hint">id {escape(article.doc_id)} · {escape(article.source_path)}</p>'
        f'<div class="article-text">{escape(article.text)}</div></div>'
    )
