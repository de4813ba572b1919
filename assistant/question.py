"""What a question asks: the kind of answer, the thing counted, the kind of place, the names it needs (pure)."""

from __future__ import annotations

import re

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
    """Names and figures in a question that an answering passage must mention (e.g. 'Jordan', '2019')."""
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


def expected_answer_kind(question: str) -> str | None:
    """What a question asks for: 'year', 'date', 'quantity', 'time' (when), or None."""
    for pattern, kind in _EXPECTS:
        if pattern.search(question):
            return kind
    return None


_HOW_MANY = re.compile(
    r"\bhow many\s+(.+?)(?=\s+(?:were|was|are|is|did|do|does|have|has|had|will|would|could|can|got|in|of|at|on|"
    r"from|by|for|to|that|per)\b|\s*(?:[?,;]|\.(?=\s|$))|$)",
    re.I,
)
_WHICH = re.compile(r"\b(?:which|what)\s+([a-z]+(?:\s+[a-z]+){0,2})", re.I)  # the three words after it
_CHOICE = re.compile(r"\w\s*,?\s+or\s+\w", re.I)
# Kinds of place an answer names; "Anbar province" does not answer "which air base".
PLACE_KINDS = frozenset("base city town village province state country district region county airport".split())


def counted_phrase(question: str) -> str | None:
    """The words a "how many" question counts ("U.S. troops" in "How many U.S. troops are in Iraq?"), or None."""
    match = _HOW_MANY.search(question)
    return match.group(1) if match else None


def asked_place_kinds(question: str) -> frozenset[str]:
    """Kinds of place a "which/what <kind>" question asks for ("base" in "Near which air base ..."), maybe none."""
    match = _WHICH.search(question)
    if match is None:
        return frozenset()
    return frozenset(w for w in match.group(1).lower().split() if w in PLACE_KINDS)


def is_choice_question(question: str) -> bool:
    """True for a question offering alternatives ("Which came first, the siege or the truce?")."""
    return bool(_CHOICE.search(question))


_OPTION_LIMIT = 8  # words; a longer "or" clause is a sentence, not a list of options


def choice_options(question: str) -> tuple[str, str] | None:
    """The two alternatives a choice question offers ("under 18", "18 to 24" in "Which group is larger: under 18
    or 18 to 24?"), or None when it offers none that can be told apart."""
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
# Words that ask for a number the text may not state: a difference, a total, a span, a share.
_COMPUTE_CUES = re.compile(
    r"\bhow many (more|fewer|less|years|days|months|weeks|points|yards|times)\b|\b(difference|combined|in total|"
    r"total|altogether|sum|longer|shorter|older|younger|percent(age)? (of|were|was) not|after|before|between)\b",
    re.I,
)


def question_type(question: str) -> str:
    """The question's wh-word (the first one), 'yesno' for a question that starts with a verb, else 'other'."""
    match = _WH_WORD.search(question)
    if match:
        return match.group(1).lower().replace("whom", "who").replace("whose", "who")
    if re.match(r"^\s*(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b", question, re.I):
        return "yesno"
    return "other"


def asks_for_computation(question: str) -> bool:
    """True when the wording suggests an answer computed from the text (a difference, a total, a span)."""
    return bool(_COMPUTE_CUES.search(question))


# -- computations ------------------------------------------------------------------------------------------------------
# What a question asks the engine to compute, tried in order: a span of time, a difference, a sum, a share, the
# longest or shortest, then a count of mentions. A question that matches none needs no arithmetic.
_SUPERLATIVES = r"(?:longest|shortest|largest|smallest|biggest|highest|lowest|fewest)"
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
    (
        "extreme",
        re.compile(
            rf"\bhow (?:many|much|long)\b.*\b{_SUPERLATIVES}\b",
            re.I,
        ),
    ),
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
    rf"\b{_SUPERLATIVES}\s+(.+?)(?=\s+(?:of|in|by|for|during|"
    r"that|which|who|to|from|on|at|was|were|is|did|do|does|have|has|had)\b|\s*[?,;]|\.(?=\s|$)|$)",
    re.I,
)


def measured_thing(question: str) -> str | None:
    """What a "how many … the longest/shortest …" question measures ("touchdown pass" in "How many yards was the
    longest touchdown pass of the game?"), or None."""
    match = _SUPERLATIVE_THING.search(question)
    return match.group(1) if match else None


_MORE = re.compile(r"\b(more|most|larger|largest|bigger|biggest|greater|greatest|higher|highest)\b", re.I)
_LESS = re.compile(r"\b(fewer|fewest|less|least|smaller|smallest|lower|lowest)\b", re.I)


def compared_direction(question: str) -> str | None:
    """'more' or 'less' when a choice question asks which of its two options has more or less of something
    ("Which group was larger, the killed or the captured?"), else None."""
    if choice_options(question) is None:
        return None
    more, less = bool(_MORE.search(question)), bool(_LESS.search(question))
    if more == less:
        return None
    return "more" if more else "less"


def computation_asked(question: str) -> str | None:
    """The computation a question asks for: 'compare', 'span', 'diff', 'add', 'percent', 'extreme', 'count' or None.

    'compare' is a choice between two options by a number each has ("Which were there more of, rockets or drones?").
    'count' is "how many <things>" where the things can be listed (touchdowns, rockets), not measured (yards, years);
    whether the articles state the count outright is for the answering step to judge.
    """
    if compared_direction(question) is not None:
        return "compare"
    for kind, pattern in _COMPUTATIONS:
        if pattern.search(question):
            return kind
    phrase = counted_phrase(question.replace(".", ""))  # "U.S. troops", not "U.S"
    if phrase is None or not re.search(r"\bhow many\b", question, re.I):
        return None
    words = re.findall(r"[a-z]+", phrase.lower())
    if not words or words[-1] in _MEASURES or not words[-1].endswith("s"):
        return None
    return "count"
