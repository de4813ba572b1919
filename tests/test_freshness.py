"""An answer read only in old articles says how old its newest source is (invented dated articles)."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from assistant.answer.export import answer_markdown
from assistant.answer.freshness import newest_cited, stale_note, with_freshness
from assistant.types import Answer, Citation
from tests.conftest import FakeLLM, make_citation


def _citation(published: str) -> Citation:
    return dataclasses.replace(make_citation("q"), published=published)


def test_the_newest_dated_citation_counts_and_undated_ones_are_skipped() -> None:
    assert newest_cited([_citation("2029-05-01"), _citation(""), _citation("2031-01-02T08:00:00")]) == date(2031, 1, 2)
    assert newest_cited([_citation("")]) is None


def test_an_answer_citing_only_old_articles_says_how_old_and_keeps_its_text() -> None:
    answer = Answer(question="q", text="The Heron crew [1].", citations=(_citation("2030-03-12"),))
    old = with_freshness(answer, date(2031, 3, 14), 30)
    assert old.text == answer.text
    assert old.signals["cited_age_days"] == 367.0
    assert old.stale_note == stale_note(date(2030, 3, 12), date(2031, 3, 14))
    assert "12 March 2030" in old.stale_note and "367 days before 14 March 2031" in old.stale_note
    assert old.stale_note in str(old)
    assert "12 March 2030" in answer_markdown(old) and "12 March 2030" not in answer_markdown(answer)


@pytest.mark.parametrize(
    ("published", "as_of", "limit"),
    [("2031-03-12", date(2031, 3, 14), 30), ("2030-03-12", date(2031, 3, 14), 0), ("", date(2031, 3, 14), 30)],
)
def test_a_fresh_source_no_date_or_the_note_turned_off_adds_no_note(published: str, as_of: date, limit: int) -> None:
    answer = with_freshness(Answer(question="q", text="x [1].", citations=(_citation(published),)), as_of, limit)
    assert answer.stale_note == ""
    assert with_freshness(Answer(question="q", text="x [1]."), None, 30).stale_note == ""


def _regatta(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    front = "---\ntitle: Lakeport regatta won by the Heron crew\nsource: Lakeport Ledger\npublished: 2030-03-12\n---\n"
    (folder / "regatta.md").write_text(front + "# Lakeport regatta\n\nThe Heron crew won the Lakeport regatta.\n")
    return folder


def test_the_note_reaches_an_answer_through_ask(fake_assistant_factory, tmp_path: Path) -> None:
    assistant = fake_assistant_factory(FakeLLM(lambda prompt: "The Heron crew [1]."))
    assistant.ingest([_regatta(tmp_path / "corpus")])
    old = assistant.ask("Which crew won the Lakeport regatta?", as_of="2031-03-14")
    assert "Heron" in old.text and "12 March 2030" in old.stale_note
    fresh = assistant.ask("Which crew won the Lakeport regatta?", as_of="2030-03-20")
    assert fresh.citations and fresh.stale_note == ""


def _record(correct: bool, stale: float | None, status: str = "unconfirmed"):
    from assistant.evaluation.harness import CaseRecord

    signals = {} if stale is None else {"cited_stale": stale}
    return CaseRecord(
        id="c",
        question="q",
        kind="span",
        tags=[],
        expected=["x"],
        got="x",
        status=status,
        correct=correct,
        em=0.0,
        f1=0.0,
        citations=[],
        citation_precision=None,
        citation_recall=None,
        hit_rank=None,
        timings={},
        signals=signals,
    )


def test_the_eval_report_counts_right_answers_from_old_and_fresh_sources_apart() -> None:
    from assistant.evaluation.harness import SuiteResult
    from assistant.evaluation.reporting import freshness_line

    cases = [_record(False, 1.0), _record(True, 1.0), _record(True, 0.0), _record(False, None, "abstained")]
    line = freshness_line(SuiteResult(suite="news", backend="fake", cases=cases))
    assert "3 dated answers shown" in line
    assert "older than trust.stale_after_days 2 (1 right)" in line and "fresher one 1 (1 right)" in line
    assert freshness_line(SuiteResult(suite="squad", backend="fake", cases=[_record(True, None)])) == ""


def test_the_ui_shows_the_note_beside_the_status_escaped() -> None:
    from assistant.ui.render import citation_bar

    answer = Answer(question="q", text="x [1].", citations=(_citation("2030-03-12"),), stale_note="old <b>source</b>")
    html = citation_bar(answer)
    assert 'class="stale-note"' in html and "old &lt;b&gt;source&lt;/b&gt;" in html
    assert "stale-note" not in citation_bar(Answer(question="q", text="x [1]."))
