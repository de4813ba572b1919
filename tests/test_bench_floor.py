"""bench/floor.py: a floor re-derived from floor-off runs, weighing each domain equally."""

from __future__ import annotations

from bench.floor import domain, outcome, table


def case(confidence: float | None, correct: bool, kind: str = "span", status: str = "unconfirmed") -> dict:
    return {"confidence": confidence, "correct": correct, "kind": kind, "status": status, "tags": []}


def test_an_answer_below_the_floor_becomes_an_abstention() -> None:
    assert outcome(case(0.3, True), 0.25) == (True, True)
    assert outcome(case(0.2, True), 0.25) == (False, False)
    assert outcome(case(0.2, False, kind="unanswerable"), 0.25) == (True, False)
    assert outcome(case(None, False, status="abstained"), 0.0) == (False, False)


def test_the_floor_balances_a_news_archive_against_trick_questions() -> None:
    news = {"suite": "news-week", "cases": [{**case(0.15, True), "tags": ["realtimeqa"]}] * 3}
    tricks = {"suite": "squad-cal", "cases": [case(0.15, False, kind="unanswerable")] + [case(0.5, True)] * 2}
    assert domain(news) == "news" and domain(tricks) == "squad"
    rows, best = table([news, tricks], floors=(0.0, 0.1, 0.2))
    assert len(rows) == 5
    assert best["news"] == 0.1  # news keeps its three right answers up to 0.1: ties go to the higher floor
    assert best["squad"] == 0.2  # on trick questions the floor rises to drop the answered unanswerable
    assert best["mean"] == 0.1  # (1.0 + 2/3) / 2 beats (0 + 1) / 2


def test_each_cell_says_how_many_answers_stay_shown_and_how_many_of_them_are_right() -> None:
    news = {"suite": "news-week", "cases": [{**case(0.3, True), "tags": ["realtimeqa"]}, case(0.15, False)] * 2}
    rows, _ = table([news], floors=(0.0, 0.2))
    assert "(4 shown, 50% right)" in rows[2]
    assert "(2 shown, 100% right)" in rows[3]
