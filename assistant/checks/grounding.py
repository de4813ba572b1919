"""Deterministic verification: every number, date and name in a claim must be in the source it cites (pure)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.markers import MARKER, MARKER_RUN
from assistant.numbers import (
    MONTHS,
    WEEKDAYS,
    Quantity,
    normalize_number_text,
    numbers_in,
    parse_dates,
    parse_quantities,
    same_number,
    strip_citations,
)
from assistant.question import PLACE_KINDS, QuestionAnalysis
from assistant.text import split_sentences, terms

__all__ = [
    "Claim",
    "ClaimCheck",
    "Verification",
    "extract_names",
    "gives_a_new_name",
    "name_runs",
    "normalize_number_text",
    "numbers_in",
    "split_claims",
    "verify_answer",
]

_WORD = re.compile(r"[A-Za-z][A-Za-z.'\u2019-]*[A-Za-z]|[A-Z]")
SENTENCE_START_WORDS = frozenset(
    """
the a an on in at about around nearly approximately roughly some according yes no it they there this these those he
she we his her their its as after before during while since because due following both all several most only just
over under more less also however but and or so if when where what which who how why then currently today yesterday
officials i
""".split()
)


@dataclass(frozen=True)
class Claim:
    """A piece of an answer and the sources it cites."""

    text: str
    citations: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class ClaimCheck:
    """Whether a claim is supported by what it cites."""

    claim: Claim
    ok: bool
    missing: tuple[str, ...]
    derived: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Verification:
    """The result of checking every claim of an answer."""

    checks: tuple[ClaimCheck, ...]
    unknown_citations: tuple[int, ...]

    @property
    def ok(self) -> bool:
        """True when every claim is supported and every [n] exists."""
        return all(c.ok for c in self.checks) and not self.unknown_citations

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Texts of the claims that failed."""
        return tuple(c.claim.text.strip() for c in self.checks if not c.ok)

    @property
    def supported_text(self) -> str:
        """The answer with unsupported claims removed and the rest tidied."""
        kept = [c.claim.text.strip() for c in self.checks if c.ok]
        text = " ".join(k for k in kept if k)
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        text = re.sub(r"^(and|but|or|while|whereas)\b\s*|^[,;:]\s*", "", text, flags=re.IGNORECASE).strip()
        text = re.sub(r"[,;:]\s*$", "", text)
        text = re.sub(r"(\])\s+(and|but|or)\s*([.!?]?)$", r"\1\3", text)
        if text and text[-1] not in ".!?":
            text += "."
        return text[:1].upper() + text[1:]


def split_claims(answer: str) -> list[Claim]:
    """Claims: each sentence cut after every group of [n] markers; trailing text joins the last claim (and its [n])."""
    claims: list[Claim] = []
    for sent_start, sent_end in split_sentences(answer) or [(0, len(answer))]:
        sentence = answer[sent_start:sent_end]
        groups = list(MARKER_RUN.finditer(sentence))
        if not groups:
            claims.append(Claim(sentence, (), sent_start, sent_end))
            continue
        piece_start = 0
        for index, group in enumerate(groups):
            end = len(sentence) if index == len(groups) - 1 else group.end()
            numbers = tuple(int(n) for n in MARKER.findall(group.group(0)))
            claims.append(Claim(sentence[piece_start:end], numbers, sent_start + piece_start, sent_start + end))
            piece_start = end
    return claims


def _name_tokens(text: str) -> set[str]:
    """Normalized word tokens of a source text (hyphenated words also as their parts)."""
    tokens: set[str] = set()
    for word in _WORD.findall(strip_citations(text)):
        norm = _normalize_word(word)
        tokens.add(norm.replace("-", ""))
        tokens.update(part for part in norm.split("-") if part)
    return tokens


def _normalize_word(word: str) -> str:
    word = word.replace("\u2019", "'")
    word = re.sub(r"'s$|'$", "", word)
    return word.replace(".", "").replace("'", "").lower()


def extract_names(text: str) -> list[str]:
    """Capitalized words that name something (not weekdays/months, not common sentence openers)."""
    return [match.group(0) for match in _name_matches(strip_citations(text))]


def name_runs(text: str) -> list[str]:
    """Names as runs of adjacent capitalized words, lowercased; a possessive ends a run and is dropped ("the U.S.
    Navy's Grey Heron" -> "us navy", "grey heron")."""
    clean = strip_citations(text)
    runs: list[list[str]] = []
    previous: re.Match[str] | None = None
    for match in _name_matches(clean):
        word = _normalize_word(match.group(0))
        gap = None
        if previous is not None and not re.search(r"['\u2019]s?$", previous.group(0)):  # a possessive ends a name
            gap = clean[previous.end() : match.start()].strip()
        if gap == "" or (gap == "." and previous is not None and "." in previous.group(0)):  # "U.S. Navy"
            runs[-1].append(word)
        else:
            runs.append([word])
        previous = match
    return [" ".join(run) for run in runs]


def _name_matches(clean: str) -> list[re.Match[str]]:
    starts = {s for s, _ in split_sentences(clean)}
    names: list[re.Match[str]] = []
    for match in _WORD.finditer(clean):
        word = match.group(0)
        if not word[0].isupper():
            continue
        lower = _normalize_word(word)
        if lower in WEEKDAYS or lower in MONTHS or (lower in SENTENCE_START_WORDS and match.start() in starts):
            continue
        if lower in SENTENCE_START_WORDS and lower in {"the", "a", "an", "i"}:
            continue
        names.append(match)
    return names


def gives_a_new_name(answer: str, question: QuestionAnalysis) -> bool:
    """False when a question asking for a name gets only names it already holds.

    "What is the name of the U.S. base in Syria?" is not answered by "a U.S. military base in northeastern Syria":
    every name in it is in the question. An answer naming nothing, or any other question, passes.
    """
    if not question.asks_for_name:
        return True
    runs = name_runs(answer)
    asked = _name_tokens(question.text)
    return not runs or any(not _name_tokens(run) <= asked for run in runs)


def _quantity_supported(q: Quantity, pool: list[Quantity]) -> bool:
    return any(same_number(q, p) for p in pool)


def _derived(q: Quantity, pool: list[Quantity]) -> bool:
    values = [p.value for p in pool if not p.is_percent]
    return any(
        abs(q.value - (a + b)) < 1e-9 * max(1.0, q.value) or abs(q.value - abs(a - b)) < 1e-9 * max(1.0, q.value)
        for i, a in enumerate(values)
        for b in values[i + 1 :]
    )


def _check_claim(claim: Claim, sources: Mapping[int, str], allow_derived: bool) -> ClaimCheck:
    unknown = [n for n in claim.citations if n not in sources]
    quantities = parse_quantities(claim.text)
    dates = parse_dates(claim.text)
    names = extract_names(claim.text)
    if unknown:
        return ClaimCheck(claim, False, (), (), f"cites [{unknown[0]}], which does not exist")
    if not claim.citations:
        factual = quantities or dates or names
        return ClaimCheck(claim, not factual, (), (), "no citation" if factual else "")
    cited = " ".join(sources[n] for n in claim.citations)
    pool = parse_quantities(cited)
    source_dates = parse_dates(cited)
    source_tokens = _name_tokens(cited)
    missing: list[str] = []
    derived: list[str] = []
    for q in quantities:
        if _quantity_supported(q, pool):
            continue
        if allow_derived and _derived(q, pool):
            derived.append(q.text)
        else:
            missing.append(q.text)
    for d in dates:
        if not _date_supported(d.kind, d.value, source_dates):
            missing.append(d.text)
    for name in names:
        norm = _normalize_word(name)
        parts = [p for p in norm.split("-") if p]
        if norm.replace("-", "") not in source_tokens and not all(p in source_tokens for p in parts):
            missing.append(name)
    reason = f"not in the cited source: {', '.join(missing)}" if missing else ""
    return ClaimCheck(claim, not missing, tuple(missing), tuple(derived), reason)


def _date_supported(kind: str, value: str, source_dates: list) -> bool:
    if kind == "month":
        return any(
            (d.kind == "month" and d.value == value) or (d.kind == "date" and _month_of(d.value) == value)
            for d in source_dates
        )
    if kind == "year":
        return any(
            (d.kind == "year" and d.value == value) or (d.kind == "date" and d.value[:4] == value) for d in source_dates
        )
    return any(d.kind == kind and d.value == value for d in source_dates)


def _month_of(iso: str) -> str:
    return MONTHS[int(iso[5:7]) - 1]


def verify_answer(answer: str, sources: Mapping[int, str], *, allow_derived: bool = True) -> Verification:
    """Check every claim of ``answer`` against the sources it cites."""
    claims = [c for c in split_claims(answer) if c.text.strip()]
    checks = tuple(_check_claim(c, sources, allow_derived) for c in claims)
    unknown = tuple(sorted({n for c in claims for n in c.citations if n not in sources}))
    return Verification(checks=checks, unknown_citations=unknown)


def answers_kind(answer: str, kind: str | None) -> bool:
    """True when the answer contains the kind of thing the question asks for."""
    if kind is None:
        return True
    dates = parse_dates(answer)
    if kind == "year":
        return any(d.kind in ("year", "date") for d in dates) or _names_an_early_year(answer)
    if kind == "date":
        return any(d.kind in ("weekday", "date", "month") for d in dates)
    if kind == "quantity":
        return bool(parse_quantities(answer)) or bool(re.search(r"\b(no|none|nobody|several|dozens?)\b", answer, re.I))
    return (
        bool(dates)
        or _names_an_early_year(answer)
        or bool(re.search(r"\b(after|before|since|during|ago|earlier|later|last|this|next)\b", answer, re.I))
    )


# Years parse_dates leaves out (it knows 1800-2100): 1000-1799 and "the 11th century".
_EARLY_YEAR = re.compile(r"\b1[0-7]\d\d\b|\b\d{1,2}(?:st|nd|rd|th) century\b", re.I)


def _names_an_early_year(answer: str) -> bool:
    return bool(_EARLY_YEAR.search(MARKER_RUN.sub(" ", answer)))


# The noun after a count, past a name or modifier or two ("900 Velmoran rowers", "two more ferries").
_COUNTED_NOUN = re.compile(r"[\s-]*(?:(?:[A-Z][\w.\-']*|more|additional|other|\w+-\w+)\s+){0,2}([a-z]{4,})\b")
# Counted words that any noun can answer ("how many people": "900 rowers").
_ANY_COUNT = "people person persons time times one ones thing things item items"


@functools.cache
def _any_count() -> frozenset[str]:
    """``_ANY_COUNT`` stemmed the way questions and answers are."""
    return frozenset(terms(_ANY_COUNT))


def counts_what_was_asked(answer: str, question: QuestionAnalysis) -> bool:
    """False when a "how many X" question gets a count of something else ("2 ferries" for "how many rowers").

    Only a count directly followed by a plural noun is judged ("About 900 [1]" passes); the noun must share a
    stem with the counted words of the question.
    """
    phrase = question.counted
    if phrase is None:
        return True
    asked = set(terms(phrase))
    if not asked or asked & _any_count():
        return True
    text = MARKER_RUN.sub(" ", answer)
    counted: list[str] = []
    for quantity in parse_quantities(text):
        after = _COUNTED_NOUN.match(text[quantity.end :])
        if after is None or not after.group(1).endswith("s"):
            return True  # a bare figure, or one with a unit the question did not spell out
        counted.extend(terms(after.group(1)))
    if not counted:
        return True
    return any(word in asked for word in counted) or bool(set(terms(text)) & asked)


def names_the_kind_asked(answer: str, question: QuestionAnalysis) -> bool:
    """False when "which <kind of place>" gets a different kind of place ("Korsa county" for "which harbor town").

    Only the place kinds in ``PLACE_KINDS`` are judged; any other question or answer passes.
    """
    asked = question.place_kinds
    if not asked:
        return True
    named = {w for w in re.findall(r"[a-z]+", MARKER_RUN.sub(" ", answer).lower()) if w in PLACE_KINDS}
    return not named or bool(named & asked)


def recite(answer: str, sources: Mapping[int, str]) -> str:
    """Point each unsupported claim at the one source that does support it (best word overlap), if any.

    Small models often cite the wrong number; the facts are checked again against the new source, so a claim
    is only moved to a sentence that contains every number, date and name it states.
    """
    out: list[str] = []
    for claim in split_claims(answer):
        check = _check_claim(claim, sources, allow_derived=True)
        text = claim.text
        factual = parse_quantities(text) or parse_dates(text) or extract_names(text)
        if not check.ok and factual:
            body = MARKER_RUN.sub("", text).rstrip(" .")
            words = set(_name_tokens(body))
            candidates = []
            for number, source in sources.items():
                trial = Claim(f"{body} [{number}]", (number,), 0, 0)
                if _check_claim(trial, sources, allow_derived=False).ok:
                    candidates.append((len(words & _name_tokens(source)), -number, number))
            if candidates:
                best = max(candidates)[2]
                trailing = "." if text.rstrip().endswith(".") else ""
                text = f"{body} [{best}]{trailing}"
        out.append(text.strip())
    return " ".join(out)


def picks_an_option(answer: str, question: QuestionAnalysis) -> bool:
    """False when a choice question ("Which is larger: A or B?") gets an answer naming neither option ("31.2%").

    Options are told apart by the words only one of them has; a question without such options always passes.
    """
    options = question.options
    if options is None:
        return True
    first, second = (set(terms(option)) for option in options)
    only_first, only_second = first - second, second - first
    if not only_first or not only_second:
        return True
    said = set(terms(MARKER_RUN.sub(" ", answer)))
    return bool(said & (only_first | only_second))
