"""The [n] citation markers of an answer: the one pattern for them, and the helpers that read or drop them."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+)\]")
"""One marker; group 1 is its source number."""

MARKER_RUN = re.compile(r"(?:\s*\[\d+\])+")
"""Markers one after another ("[1][2]", "[1] [3]"), with the space before each."""


def cited_numbers(text: str) -> list[int]:
    """The source numbers ``text`` cites, in order, without repeats."""
    return list(dict.fromkeys(int(n) for n in MARKER.findall(text)))


def without_markers(text: str, replacement: str = " ") -> str:
    """``text`` with every marker replaced by ``replacement``."""
    return MARKER.sub(replacement, text)
