"""What a question asks, read once per turn: the kind of answer, the thing counted, the kind of place, the options,
the computation, the names it needs (pure). ``analyse_question`` builds a ``QuestionAnalysis`` the steps share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.times import TimeWindow, resolve_times


@dataclass(frozen=True)
class QuestionAnalysis:
    """All the answering steps ask of a question, parsed once (see ``analyse_question``)."""

    text: str
    expects: str | None
    """The kind of answer asked for: 'year', 'date', 'quantity', 'time' (when), or None."""
    counted: str | None
    """The words a "how many" question counts ("St. Ives rowers" in "How many St. Ives rowers won?")."""
    measured: str | None
    """What a superlative question measures ("ferry crossing" in "How many minutes was the longest ferry crossing?")."""
    place_kinds: frozenset[str]
    """Kinds of place a "which/what <kind>" question asks for ("town" in "From which harbor town ..."), maybe none."""
    is_choice: bool
    """The question offers alternatives ("Which came first, the siege or the truce?")."""
    options: tuple[str, str] | None
    """The two alternatives a choice question offers, when they can be told apart."""
    direction: str | None
    """'more' or 'less' when a choice question asks which option has more or less of something."""
    superlative: str | None
    """'more' for "the longest/largest/most ...", 'less' for "the shortest/smallest/fewest ...", else None."""
    computation: str | None
    """'compare', 'span', 'diff', 'add', 'percent', 'extreme', 'count' or None (see ``_computation``)."""
    question_type: str
    """The first wh-word ('who', 'what', ...), 'yesno' for a question that starts with a verb, else 'other'."""
    key_terms: tuple[str, ...]
    """Names and figures an answering passage must mention ('Jordan', '2019')."""
    as_of: date | None = None
    """The day the question is asked on (None: no date given)."""
    window: TimeWindow | None = None
    """The days the question names ("this week", "in January"), resolved against ``as_of``."""
    asks_for_name: bool = False
    """The question asks what something is called ("What is the name of the base?", "What was the ship called?")."""


def analyse_question(question: str, as_of: date | None = None) -> QuestionAnalysis:
    """Read ``question`` once: everything the retrieval, answering and checking steps ask of it."""
    options = _choice_options(question)
    direction = _direction(question) if options is not None else None
    counted = _counted_phrase(question.replace(".", ""))  # "St Ives rowers", not "St"
    return QuestionAnalysis(
        text=question,
        expects=_expected_answer_kind(question),
        counted=counted,
        measured=_measured_thing(question),
        place_kinds=_asked_place_kinds(question),
        is_choice=bool(_CHOICE.search(question)),
        options=options,
        direction=direction,
        superlative=_direction(question, superlative=True),
        computation="compare" if direction is not None else _computation(question, counted),
        question_type=_question_type(question),
        key_terms=tuple(key_terms(question)),
        as_of=as_of,
        window=resolve_times(question, as_of) if as_of is not None else None,
        asks_for_name=bool(_ASKS_FOR_NAME.search(question)),
    )


_QUESTION_WORDS = frozenset(
    """
how what when where which who whom whose why is are was were do does did can could would should will
has have had according in on at the a an and
""".split()
)

# Names a question may use for something the articles call otherwise.
ALIASES: dict[str, tuple[str, ...]] = {
    "american": ("U.S.", "United States", "America"),
    "americans": ("U.S.", "United States", "America"),
    "us": ("U.S.", "United States"),
    "usa": ("U.S.", "United States"),
    "british": ("U.K.", "Britain", "United Kingdom"),
    "uk": ("U.K.", "Britain", "United Kingdom"),
}


def key_terms(question: str) -> list[str]:
    """Names and figures in a text that an answering passage must mention (e.g. 'Jordan', '2019')."""
    found = []
    for match in re.finditer(r"\b([A-Z][A-Za-z.\-']*[A-Za-z]|[A-Z]\.?|\d[\d,.]*)", question):
        word = match.group(1)
        if word.lower() in _QUESTION_WORDS or (match.start() == 0 and not word[:1].isdigit()):
            continue
        found.append(word)
    return found


_EXPECTS = (
    (re.compile(r"\b(what|which) year\b|\bin what year\b", re.I), "year"),
    (re.compile(r"\b(what|which) (day|date)\b|\bon what day\b", re.I), "date"),
    (
        re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|share|proportion)\b|\bhow (long|old|far)\b", re.I),
        "quantity",
    ),
    (re.compile(r"^\s*when\b", re.I), "time"),
)


def _expected_answer_kind(question: str) -> str | None:
    for pattern, kind in _EXPECTS:
        if pattern.search(question):
            return kind
    return None


# "What is the name of ...", "What's the name ...", "What was the ship called?", "What is the town named?"
_ASKS_FOR_NAME = re.compile(
    r"\bwhat(?:\s+(?:is|was|are|were)|'s|\u2019s)\s+the\s+names?\b|^\s*what\b.*\b(?:called|named)\s*\??\s*$",
    re.I,
)
_HOW_MANY = re.compile(
    r"\bhow many\s+(.+?)(?=\s+(?:were|was|are|is|did|do|does|have|has|had|will|would|could|can|got|in|of|at|on|"
    r"from|by|for|to|that|per)\b|\s*(?:[?,;]|\.(?=\s|$))|$)",
    re.I,
)
_WHICH = re.compile(r"\b(?:which|what)\s+([a-z]+(?:\s+[a-z]+){0,2})", re.I)  # the three words after it
_CHOICE = re.compile(r"\w\s*,?\s+or\s+\w", re.I)
# Kinds of place an answer names; "Korsa county" does not answer "which harbor town".
PLACE_KINDS = frozenset("base city town village province state country district region county airport".split())


def _counted_phrase(question: str) -> str | None:
    match = _HOW_MANY.search(question)
    return match.group(1) if match else None


def _asked_place_kinds(question: str) -> frozenset[str]:
    match = _WHICH.search(question)
    if match is None:
        return frozenset()
    return frozenset(w for w in match.group(1).lower().split() if w in PLACE_KINDS)


_OPTION_LIMIT = 8  # words; a longer "or" clause is a sentence, not a list of options


def _choice_options(question: str) -> tuple[str, str] | None:
    body = question.strip().rstrip("?").strip()
    cut = body.lower().rfind(" or ")
    if cut < 0:
        return None
    head, right = body[:cut], body[cut + 4 :]
    left = re.split(r"[:,;]", head)[-1].strip() if re.search(r"[:,;]", head) else ""
    if not left or not right:
        return None
    if len(left.split()) > _OPTION_LIMIT or len(right.split()) > _OPTION_LIMIT:
        return None
    return left, right


_WH_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)


def _question_type(question: str) -> str:
    match = _WH_WORD.search(question)
    if match:
        return match.group(1).lower().replace("whom", "who").replace("whose", "who")
    if re.match(r"^\s*(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b", question, re.I):
        return "yesno"
    return "other"


# -- comparison words: one list, read by the choice, superlative and operation rules ------------------------------
_COMPARISON = {
    "more": frozenset("more most larger largest bigger biggest greater greatest higher highest longer longest".split()),
    "less": frozenset("fewer fewest less least smaller smallest lower lowest shorter shortest".split()),
}
_SUPERLATIVE = "(?:" + "|".join(sorted(w for ws in _COMPARISON.values() for w in ws if w.endswith("est"))) + ")"


def _direction(question: str, *, superlative: bool = False) -> str | None:
    """'more' or 'less' by the comparison words of ``question`` (only "-est" words and "most" if ``superlative``)."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    if superlative:
        words = {w for w in words if w.endswith("est") or w == "most"}
    more, less = bool(words & _COMPARISON["more"]), bool(words & _COMPARISON["less"])
    if more == less:
        return None
    return "more" if more else "less"


# -- computations ------------------------------------------------------------------------------------------------------
# What a question asks the engine to compute, tried in order: a span of time, a difference, a sum, a share, the
# longest or shortest, then a count of mentions. A question that matches none needs no arithmetic.
_TIME_UNITS = r"(?:years?|days?|months?|weeks?|decades?|centuries|hours?)"
_COMPUTATIONS = (
    (
        "span",
        re.compile(
            rf"\bhow many {_TIME_UNITS}\b|\bhow long (?:after|before|since|between)\b|"
            rf"\bhow long\b.*\b(?:after|before|between|until|since)\b|\bfor how many {_TIME_UNITS}\b",
            re.I,
        ),
    ),
    (
        "diff",
        re.compile(
            r"\bhow (?:many|much) (?:\w+ ){0,3}(?:more|fewer|less|longer|shorter|higher|lower|larger|smaller|bigger|"
            r"older|younger|further|farther|greater)\b|\bdifference\b|\bhow (?:many|much) (?:\w+ ){0,4}than\b",
            re.I,
        ),
    ),
    (
        "add",
        re.compile(
            r"\bhow (?:many|much)\b.*\b(?:combined|in total|total|altogether|in all|all together|together|sum)\b|"
            r"\b(?:combined|total|sum of)\b.*\bhow (?:many|much)\b|\bhow many\b.*\bboth\b.*\band\b|"
            r"\bwhat (?:is|was) the (?:combined|total|sum)\b",
            re.I,
        ),
    ),
    (
        "percent",
        re.compile(r"\b(?:what|which) (?:percent(?:age)?|share|proportion)\b|\bhow many percent\b", re.I),
    ),
    ("extreme", re.compile(rf"\bhow (?:many|much|long)\b.*\b{_SUPERLATIVE}\b", re.I)),
)
# Words a "how many" question measures in, rather than things that can be listed one by one.
_MEASURES = frozenset(
    """
yard yards point points percent percentage year years day days month months week weeks hour hours minute minutes
second seconds decade decades century centuries mile miles kilometer kilometers km meter meters metre metres feet
foot inch inches pound pounds ton tons dollar dollars euro euros degree degrees time times people persons
""".split()
)
_SUPERLATIVE_THING = re.compile(
    rf"\b{_SUPERLATIVE}\s+(.+?)(?=\s+(?:of|in|by|for|during|"
    r"that|which|who|to|from|on|at|was|were|is|did|do|does|have|has|had)\b|\s*[?,;]|\.(?=\s|$)|$)",
    re.I,
)


def _measured_thing(question: str) -> str | None:
    match = _SUPERLATIVE_THING.search(question)
    return match.group(1) if match else None


def _computation(question: str, counted: str | None) -> str | None:
    """'span', 'diff', 'add', 'percent', 'extreme', 'count' or None ('compare' is decided from the options).

    'count' is "how many <things>" where the things can be listed (ferries, ballots), not measured (yards, years);
    whether the articles state the count outright is for the answering step to judge.
    """
    for kind, pattern in _COMPUTATIONS:
        if pattern.search(question):
            return kind
    if counted is None or not re.search(r"\bhow many\b", question, re.I):
        return None
    words = re.findall(r"[a-z]+", counted.lower())
    if not words or words[-1] in _MEASURES or not words[-1].endswith("s"):
        return None
    return "count"
