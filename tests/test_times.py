"""Dates of a question: as_of parsing, the days named in a question, and time in retrieval (invented articles)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from assistant.answer.dating import dated_filters, time_weight
from assistant.errors import AssistantError, QuestionError
from assistant.settings import RetrievalSettings
from assistant.times import TimeWindow, describe_days, parse_as_of, parse_published, resolve_times
from tests.conftest import REPO, FakeLLM

FRIDAY = date(2031, 3, 14)


@pytest.mark.parametrize(
    ("question", "start", "end", "phrase"),
    [
        ("Which ferry sank this week?", date(2031, 3, 8), FRIDAY, "this week"),
        ("Who resigned yesterday?", date(2031, 3, 13), date(2031, 3, 13), "yesterday"),
        ("What did the council vote on Monday?", date(2031, 3, 10), date(2031, 3, 10), "on Monday"),
        ("Who won last week?", date(2031, 3, 1), date(2031, 3, 7), "last week"),
        ("What happened last month?", date(2031, 2, 1), date(2031, 2, 28), "last month"),
        ("Which mill closed in January?", date(2031, 1, 1), date(2031, 1, 31), "in January"),
        ("Which mill closed in June?", date(2030, 6, 1), date(2030, 6, 30), "in June"),
        ("Who won the 2029 Lantern Prize?", date(2029, 1, 1), date(2029, 12, 31), "2029"),
        ("What opened in May 2030?", date(2030, 5, 1), date(2030, 5, 31), "in May 2030"),
        ("Who was elected this year?", date(2031, 1, 1), FRIDAY, "this year"),
    ],
)
def test_times_in_a_question_resolve_against_as_of(question: str, start: date, end: date, phrase: str) -> None:
    window = resolve_times(question, FRIDAY)
    assert window is not None
    assert (window.start, window.end, window.phrase) == (start, end, phrase)


def test_a_question_naming_no_time_and_a_count_that_looks_like_a_year_have_no_window() -> None:
    assert resolve_times("How many ferries does the port run?", FRIDAY) is None
    assert resolve_times("How many of the 2000 volunteers came back?", FRIDAY) is None
    assert resolve_times("Who may speak at the hearing?", FRIDAY) is None


def test_only_days_named_relative_to_the_asking_day_are_exact() -> None:
    for question in ("Which bakery recently closed?", "Why had the strikes stopped in early February?"):
        window = resolve_times(question, FRIDAY)
        assert window is not None and not window.exact
    window = resolve_times("Which bakery closed yesterday?", FRIDAY)
    assert window is not None and window.exact


def test_as_of_accepts_dates_and_iso_text_and_refuses_anything_else() -> None:
    assert parse_as_of("2031-03-14") == FRIDAY
    assert parse_as_of(FRIDAY) == FRIDAY
    assert parse_as_of(None) == date.today()
    for bad in ("14/03/2031", "yesterday", "2031-02-30", ""):
        with pytest.raises(QuestionError, match="YYYY-MM-DD"):
            parse_as_of(bad)
    with pytest.raises(QuestionError):
        parse_as_of(42)  # type: ignore[arg-type]


def test_windows_are_described_as_a_reader_writes_them() -> None:
    assert describe_days(date(2023, 1, 1), date(2023, 1, 7)) == "1\u20137 January 2023"
    assert describe_days(date(2022, 12, 31), date(2023, 1, 6)) == "31 December 2022 \u2013 6 January 2023"
    assert describe_days(date(2023, 2, 1), date(2023, 2, 28)) == "February 2023"
    assert describe_days(date(2023, 1, 5), date(2023, 1, 5)) == "5 January 2023"
    assert parse_published("2023-01-05T10:00:00") == date(2023, 1, 5)
    assert parse_published("") is None


def test_as_of_caps_published_to_and_keeps_an_earlier_one() -> None:
    assert dated_filters(None, FRIDAY) == {"published_to": "2031-03-14"}
    assert dated_filters({"published_to": "2030-01-01"}, FRIDAY)["published_to"] == "2030-01-01"
    assert dated_filters({"source": "x"}, None) == {"source": "x"}


def test_a_story_of_the_named_days_weighs_more_than_an_older_one() -> None:
    settings = RetrievalSettings()
    window = TimeWindow(date(2031, 3, 8), FRIDAY, "this week")
    inside = time_weight("2031-03-12", window, FRIDAY, settings)
    last_year = time_weight("2030-03-12", window, FRIDAY, settings)
    assert inside == 1.0 and last_year < inside and last_year == pytest.approx(settings.time_weight_floor, abs=0.01)
    assert time_weight("", window, FRIDAY, settings) == settings.undated_weight
    # With no days named, age counts (a news question asks about the story as it stands) and undated articles
    # count as in a window; with the recency weight off, neither counts.
    assert time_weight("2031-03-12", None, FRIDAY, settings) > time_weight("2029-03-12", None, FRIDAY, settings)
    assert time_weight("", None, FRIDAY, settings) == settings.undated_weight
    off = RetrievalSettings(recency_half_life_days=0)
    assert time_weight("", None, FRIDAY, off) == time_weight("2029-03-12", None, FRIDAY, off) == 1.0
    assert time_weight("2030-03-12", None, None, settings) == 1.0


def _dated_corpus(folder: Path) -> Path:
    """Two invented stories alike a year apart, and one published after the day the question is asked on."""
    folder.mkdir(parents=True, exist_ok=True)
    stories = {
        "regatta-2030.md": (
            "2030-03-12",
            "Lakeport regatta won by the Heron crew",
            "The Heron crew won the Lakeport regatta.",
        ),
        "regatta-2031.md": (
            "2031-03-12",
            "Lakeport regatta won by the Osprey crew",
            "The Osprey crew won the Lakeport regatta.",
        ),
        "regatta-later.md": (
            "2031-03-20",
            "Lakeport regatta result overturned",
            "The Kestrel crew won the Lakeport regatta.",
        ),
    }
    for name, (published, title, text) in stories.items():
        front = f"---\ntitle: {title}\nsource: Lakeport Ledger\npublished: {published}\n---\n# {title}\n\n{text}\n"
        (folder / name).write_text(front, encoding="utf-8")
    return folder


def _quote_best(prompt: str) -> str:
    """A fake model that answers from the first numbered source it is shown."""
    import re

    for line in prompt.splitlines():
        found = re.search(r"(\w+) crew", line) if line.startswith("[1] ") else None
        if found:
            return f"The {found.group(1)} crew [1]."
    return "NOT IN SOURCES"


@pytest.fixture
def regatta(fake_assistant_factory, tmp_path: Path):
    llm = FakeLLM(_quote_best)
    assistant = fake_assistant_factory(llm)
    assistant.ingest([_dated_corpus(tmp_path / "regatta")])
    return assistant, llm


def test_this_week_picks_the_weeks_story_over_last_years_with_the_same_words(regatta) -> None:
    assistant, llm = regatta
    answer = assistant.ask("Which crew won the Lakeport regatta this week?", as_of=FRIDAY)
    assert "Osprey" in answer.text
    assert answer.dates_read == "8\u201314 March 2031" and answer.as_of == "2031-03-14"
    assert "(Lakeport Ledger, 12 Mar 2031):" in llm.last_user_prompt  # the article's outlet and date over its lines
    assert llm.last_user_prompt.count("Lakeport regatta won by the Osprey crew") == 1  # and its headline, once
    assert "(asked on 14 Mar 2031)" in llm.last_user_prompt


def test_the_asking_day_is_shown_only_to_questions_that_name_a_time(regatta) -> None:
    """A question with no time in it gets no date note: the note made the small model doubt older sources."""
    assistant, llm = regatta
    assistant.ask("Which crew won the Lakeport regatta?", as_of=FRIDAY)
    assert "asked on" not in llm.last_user_prompt
    assert "(Lakeport Ledger, 12 Mar 2031):" in llm.last_user_prompt


def test_an_article_published_after_as_of_is_never_evidence(regatta) -> None:
    assistant, llm = regatta
    for question in ("Which crew won the Lakeport regatta?", "Which crew won the Lakeport regatta this week?"):
        answer = assistant.ask(question, as_of="2031-03-14")
        assert "Kestrel" not in llm.last_user_prompt
        assert all(c.published <= "2031-03-14" for c in answer.citations)
        assert all(p.published <= "2031-03-14" for p in answer.passages)
    later = assistant.ask("Which crew won the Lakeport regatta this week?", as_of="2031-03-21")
    assert "Kestrel" in later.text


def test_days_with_no_article_say_so_instead_of_answering_from_another_week(regatta) -> None:
    assistant, _ = regatta
    answer = assistant.ask("Which crew won the Lakeport regatta yesterday?", as_of="2031-03-14")
    assert answer.status == "abstained"
    assert answer.text == "No article from 13 March 2031 is in the archive."


def test_as_of_before_every_article_is_one_clear_abstention(regatta) -> None:
    assistant, _ = regatta
    answer = assistant.ask("Which crew won the Lakeport regatta?", as_of="2020-01-01")
    assert answer.status == "abstained" and "on or before 2020-01-01" in answer.text


def test_a_bad_as_of_is_one_clear_error_through_ask_stream_chat_and_conversation(regatta) -> None:
    assistant, _ = regatta
    calls = (
        lambda: assistant.ask("Who won?", as_of="next Tuesday"),
        lambda: assistant.stream("Who won?", as_of="2031-13-01"),
        lambda: assistant.chat([{"role": "user", "content": "Who won?"}], as_of="soon"),
        lambda: assistant.conversation().ask("Who won?", as_of="14.03.2031"),
    )
    for call in calls:
        with pytest.raises(AssistantError, match="YYYY-MM-DD"):
            call()


def test_as_of_reaches_the_answer_through_chat_and_a_conversation(regatta) -> None:
    assistant, _ = regatta
    chat = assistant.chat([{"role": "user", "content": "Which crew won the Lakeport regatta this week?"}], as_of=FRIDAY)
    assert "Osprey" in chat.text
    turn = assistant.conversation().ask("Which crew won the Lakeport regatta this week?", as_of="2030-03-14")
    assert "Heron" in turn.text and turn.as_of == "2030-03-14"


def test_an_eval_case_carries_its_as_of_to_the_question(regatta, tmp_path: Path) -> None:
    from assistant.evaluation.harness import run_suite
    from assistant.evaluation.suite_file import load_suite

    assistant, _ = regatta
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(
        json.dumps(
            {
                "name": "regatta",
                "corpus": str(tmp_path / "regatta"),
                "cases": [
                    {
                        "id": "a",
                        "question": "Which crew won the Lakeport regatta this week?",
                        "answers": ["Osprey"],
                        "as_of": "2031-03-14",
                    },
                    {
                        "id": "b",
                        "question": "Which crew won the Lakeport regatta this week?",
                        "answers": ["Heron"],
                        "as_of": "2030-03-14",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run_suite(load_suite(suite_path), assistant)
    assert [c.correct for c in result.cases] == [True, True]
    assert result.metrics["evidence_recall"] == 1.0


def test_a_suite_case_with_a_bad_as_of_is_a_one_line_suite_error(tmp_path: Path) -> None:
    from assistant.evaluation.suite_file import SuiteError, load_suite

    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ncases:\n  - id: a\n    question: q\n    as_of: someday\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="as_of"):
        load_suite(path)


def test_cli_ask_refuses_a_bad_as_of_in_one_line(tmp_path: Path) -> None:
    cli = str(Path(sys.executable).parent / "assistant")
    out = subprocess.run(
        [cli, "ask", "Who won?", "--as-of", "tomorrow", "--data-dir", str(tmp_path / "d"), "--backend", "extractive"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "YYYY-MM-DD" in lines[0]


def test_a_follow_up_reads_its_times_against_the_same_as_of(regatta) -> None:
    assistant, _ = regatta
    conversation = assistant.conversation()
    conversation.ask("What happened at the Lakeport regatta?", as_of=FRIDAY)
    follow_up = conversation.ask("Which crew won it this week?", as_of=FRIDAY)
    assert "Osprey" in follow_up.text
    assert follow_up.as_of == "2031-03-14" and follow_up.dates_read == "8\u201314 March 2031"
