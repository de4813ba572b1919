"""Eval metrics on hand-made cases, including ones that must score 0."""

from __future__ import annotations

import pytest

from assistant.evaluation import measures
from assistant.evaluation.suite_file import Case
from assistant.types import Answer, RetrievedPassage
from tests.conftest import make_citation


def answer(text: str, status: str = "verified", quotes: tuple[str, ...] = (), passages: tuple[str, ...] = ()) -> Answer:
    citations = tuple(make_citation(q, number=i) for i, q in enumerate(quotes, start=1))
    retrieved = tuple(RetrievedPassage("d", "t", f"c{i}", 0, len(p), p, 1.0) for i, p in enumerate(passages))
    return Answer(question="q", text=text, citations=citations, status=status, passages=retrieved)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("About 900 troops [1].", "about 900 troops"),
        ("The Two Drones!", "2 drones"),
        ("2,500", "2500"),
        ("two thousand five hundred", "2500"),
        ("an advise-and-assist mission", "advise and assist mission"),
        ("3.5 percent", "3.5%"),
    ],
)
def test_normalize_answer(text: str, normalized: str) -> None:
    assert measures.normalize_answer(text) == normalized


def test_exact_match_and_f1() -> None:
    assert measures.exact_match("Zummar [1].", ["Zummar"]) == 1.0
    assert measures.exact_match("the town of Zummar", ["Zummar"]) == 0.0
    assert measures.token_f1("the town of Zummar", ["Zummar"]) == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert measures.token_f1("Baghdad", ["Zummar"]) == 0.0
    assert measures.token_f1("", ["Zummar"]) == 0.0


@pytest.mark.parametrize(
    ("text", "golds", "tolerance", "expected"),
    [
        ("About 900 troops [2].", [900], 0, True),
        ("five rockets", [5], 0, True),
        ("2,500 troops", ["2500"], 0, True),
        ("90 troops", [900], 0, False),
        ("Around 2,400 troops", [2500], 100, True),
        ("Around 2,300 troops", [2500], 100, False),
        ("no number here", [5], 0, False),
        ("cited [5] only", [5], 0, False),
    ],
)
def test_numeric_match(text: str, golds: list, tolerance: float, expected: bool) -> None:
    assert measures.numeric_match(text, golds, tolerance) is expected


@pytest.mark.parametrize(
    ("case", "given", "correct"),
    [
        (Case(id="a", question="q", answers=[900], kind="number"), answer("About 900 [1]."), True),
        (Case(id="a", question="q", answers=[900], kind="number"), answer("About 90 [1]."), False),
        (
            Case(id="a", question="q", answers=[900], kind="number"),
            answer("The articles don't say.", "abstained"),
            False,
        ),
        (Case(id="b", question="q", answers=["Zummar"]), answer("From the town of Zummar [1]."), True),
        (Case(id="b", question="q", answers=["Zummar"]), answer("From Zummarville [1]."), False),
        (Case(id="c", question="q", kind="unanswerable"), answer("The articles don't say.", "abstained"), True),
        (Case(id="c", question="q", kind="unanswerable"), answer("1,000 soldiers [1].", "verified"), False),
        (Case(id="d", question="q", answers=["no"], kind="yesno"), answer("No U.S. personnel were injured [1]."), True),
        (Case(id="d", question="q", answers=["no"], kind="yesno"), answer("Yes, they were injured [1]."), False),
        (Case(id="e", question="q", answers=["Sunday"], kind="date"), answer("On Sunday [1]."), True),
        (Case(id="f", question="q", answers=["advise-and-assist"]), answer("An advise and assist mission [1]."), True),
    ],
)
def test_is_correct_by_kind(case: Case, given: Answer, correct: bool) -> None:
    assert measures.is_correct(case, given) is correct


def test_a_computed_answer_is_judged_by_its_result_not_the_numbers_of_its_working() -> None:
    case = Case(id="a", question="How many years did the war last?", answers=[15], kind="number")
    computed = Answer(
        question=case.question,
        text="1,668 years (from 1683 to the start of the 15-year-long war) [1]",
        status="unconfirmed",
        signals={"calculated": 1.0},
    )
    assert not measures.is_correct(case, computed)
    summed = Answer(question="q", text="3,400 (2,500 + 900) [1]", status="unconfirmed", signals={"calculated": 1.0})
    assert measures.is_correct(Case(id="b", question="q", answers=[3400], kind="number"), summed)
    assert not measures.is_correct(Case(id="b", question="q", answers=[900], kind="number"), summed)


def test_citation_precision_and_recall() -> None:
    case = Case(id="a", question="q", answers=[900], kind="number")
    good, bad = "The U.S. has 900 troops in Syria.", "Rockets hit a base."
    assert measures.citation_precision(case, answer("900 [1][2]", quotes=(good, bad))) == 0.5
    assert measures.citation_precision(case, answer("900 [1]", quotes=(bad,))) == 0.0
    assert measures.citation_precision(case, answer("900")) is None
    assert measures.citation_recall(case, answer("900 [1]", quotes=(bad,))) == 0.0
    assert measures.citation_recall(case, answer("900 [1][2]", quotes=(bad, good))) == 1.0
    with_source = Case(id="s", question="q", answers=["x"], source="Rockets hit")
    assert measures.citation_precision(with_source, answer("x [1]", quotes=(bad,))) == 1.0


def test_hit_rank_finds_the_first_passage_with_the_answer() -> None:
    case = Case(id="a", question="q", answers=["Zummar"])
    assert measures.hit_rank(case, answer("x", passages=("nothing", "rockets from Zummar", "Zummar again"))) == 2
    assert measures.hit_rank(case, answer("x", passages=("nothing", "still nothing"))) is None


def test_percentile_and_mean() -> None:
    assert measures.percentile([1, 2, 3, 4, 100], 0.5) == 3
    assert measures.percentile([1, 2, 3, 4, 100], 0.95) == 100
    assert measures.percentile([], 0.5) == 0.0
    assert measures.mean([None, 1.0, 0.0]) == 0.5
    assert measures.mean([None]) is None


def test_curly_quotes_and_dashes_do_not_hide_a_gold_answer() -> None:
    from assistant.evaluation.measures import contains_gold, normalize_answer

    assert contains_gold("\u201cJapanese imports became leaders\u201d [1]", ["Japanese"])
    assert normalize_answer("1973\u201374") == "1973 74"
