"""Words and sentences: stop words, stems, content terms and sentence spans (pure; the ground floor)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

STOPWORDS = frozenset(
    """
a an the and or but if of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don should now is are was were be been being have has had having do does did doing i
me my we our you your he him his she her it its they them their what which who whom this that these
those am would could many much
""".split()
)


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Porter stem of a lowercase word ("paused" and "pause" -> "paus"); NLTK's stemmer, without importing NLTK."""
    from assistant.porter_stemmer import PorterStemmer

    return _stemmer(PorterStemmer).stem(word)


@functools.lru_cache(maxsize=1)
def _stemmer(factory: type) -> Any:
    return factory()


def terms(text: str) -> list[str]:
    """Lowercased, stemmed content words, for lexical matching."""
    words = re.findall(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*", text.lower().replace("\u2019", "'"))
    out = []
    for word in words:
        word = word.replace(".", "").removesuffix("'s")
        if word in STOPWORDS or not word:
            continue
        out.append(stem(word) if word.isalpha() else word)
    return out


def overlap_f1(first: Sequence[str], second: Sequence[str]) -> float:
    """F1 of the tokens two lists share, counted with multiplicity (SQuAD's token F1); 1.0 when both are empty."""
    if not first or not second:
        return float(first == second)
    same = sum((Counter(first) & Counter(second)).values())
    if not same:
        return 0.0
    precision, recall = same / len(first), same / len(second)
    return 2 * precision * recall / (precision + recall)


_ABBREVIATIONS = frozenset(
    """
mr mrs ms dr prof sr jr st gen sen rep gov lt col maj capt sgt adm cmdr pres vs etc inc corp co ltd
jan feb mar apr jun jul aug sep sept oct nov dec no nos fig approx dept est univ mt ft
""".split()
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` over ``text``, stripped of surrounding whitespace.

    Lines are boundaries too (headlines, bullets); abbreviations such as "U.S." and "Gen." are not.
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        _split_line(text, line.start(), line.end(), spans)
    return spans


def _split_line(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    sentence_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if _is_abbreviation(text, sentence_start, match.start(), match.end()):
            continue
        _append_stripped(text, sentence_start, match.end(), out)
        sentence_start = match.end()
    _append_stripped(text, sentence_start, end, out)


def _is_abbreviation(text: str, sentence_start: int, dot: int, after: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z.]+)$", text[sentence_start:dot])
    if not word:
        return False
    token = word.group(1)
    following = text[after : after + 3].lstrip()
    if "." in token or (len(token) == 1 and token.isupper()):
        # U.S. / a.m. / initials: a boundary only if a capitalised word follows a lowercase-ending run
        return not (following[:1].isupper() and token.lower() not in {"u.s", "u.k", "u.n"})
    return token.lower() in _ABBREVIATIONS


def _append_stripped(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start] in " \t\u2022*-\u2013\u2014>#":
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        out.append((start, end))
