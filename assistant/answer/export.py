"""An answer to take away: Markdown with the answer's [n] markers and numbered references to its sources."""

from __future__ import annotations

import re

from assistant.types import STATUS_LABELS, Answer, Citation

_SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>#|!])")
_CITE = re.compile(r"\\\[(\d+)\\\]")


def answer_markdown(answer: Answer) -> str:
    """The question, the answer, its status, and one reference per citation (title, outlet, date, URL, quote)."""
    lines = [f"**Question:** {escape_markdown(answer.question)}", "", _answer_text(answer.text), ""]
    label, meaning = STATUS_LABELS.get(answer.status, (answer.status, ""))
    confidence = "" if answer.confidence is None else f", {answer.confidence:.0%} likely right"
    lines.append(f"*{label}{confidence}: {meaning}.*" if meaning else f"*{label}{confidence}*")
    if answer.stale_note:
        lines += ["", f"*{escape_markdown(answer.stale_note)}*"]
    if answer.citations:
        lines += ["", "**References**", ""]
        for citation in sorted(answer.citations, key=lambda c: c.number):
            lines.extend(reference_lines(citation))
    return "\n".join(lines).rstrip() + "\n"


def reference_lines(citation: Citation) -> list[str]:
    """``[n] Title. Outlet, date. <url>`` and the quoted sentence beneath it."""
    parts = [f"**{escape_markdown(citation.title or citation.doc_id)}**"]
    where = ", ".join(escape_markdown(p) for p in (citation.source, citation.published) if p)
    if where:
        parts.append(where)
    url = citation.url.strip()
    if url and _SAFE_URL.match(url):
        parts.append(f"<{url}>")
    quote = " ".join(citation.quote.split())
    return [f"[{citation.number}] " + ". ".join(parts), f"   > “{escape_markdown(quote)}”", ""]


def escape_markdown(text: str) -> str:
    """Text shown as written by a Markdown renderer (no emphasis, link or HTML comes out of article text)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def _answer_text(text: str) -> str:
    """The answer escaped line by line (its lines kept), its [n] markers kept as they are."""
    lines = [_CITE.sub(r"[\1]", escape_markdown(line)) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
