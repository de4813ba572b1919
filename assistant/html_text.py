"""Main text and metadata of an HTML page; scripts, styles, navigation and comments dropped."""

from __future__ import annotations

import json
import re
from typing import Any

_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "object",
    "embed",
)
_BLOCKS = (
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "div",
    "section",
    "article",
    "blockquote",
    "tr",
    "pre",
    "figcaption",
    "dd",
    "dt",
    "td",
    "th",
    "main",
    "br",
    "hr",
    "ul",
    "ol",
    "table",
)
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date.issued",
    "dc.date",
    "parsely-pub-date",
    "sailthru.date",
)


def _meta(soup: Any, names: tuple[str, ...]) -> str:
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        if key in names and tag.get("content"):
            return str(tag["content"]).strip()
    return ""


def _json_ld_date(soup: Any) -> str:
    for tag in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(tag.string or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("datePublished"):
                return str(item["datePublished"])
    return ""


def extract_html(markup: str) -> dict[str, Any]:
    """{'text', 'title', 'published', 'source', 'url'} of a page (text uses blank lines between blocks)."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    h1 = soup.find("h1")
    title = (title_tag.get_text(" ", strip=True) if title_tag else "") or (h1.get_text(" ", strip=True) if h1 else "")
    published = _meta(soup, _DATE_META) or _json_ld_date(soup)
    source = _meta(soup, ("og:site_name",))
    canonical = soup.find("link", rel="canonical")
    url = (canonical.get("href") if canonical else "") or _meta(soup, ("og:url",))
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROP):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if not published:
        time_tag = root.find("time", datetime=True)
        published = str(time_tag["datetime"]) if time_tag else ""
    for tag in root.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    raw = root.get_text()
    paragraphs = [re.sub(r"[ \t\r\f\v\n]+", " ", block).strip() for block in re.split(r"\n\s*\n", raw)]
    text = "\n\n".join(p for p in paragraphs if p)
    return {"text": text, "title": title, "published": published, "source": source, "url": str(url or "")}
