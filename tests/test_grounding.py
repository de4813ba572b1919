"""Numbers, dates and names: normalization, matching and claim verification (table-driven)."""

from __future__ import annotations

import pytest

from assistant.checks.grounding import (
    answers_kind,
    counts_what_was_asked,
    extract_names,
    gives_a_new_name,
    name_runs,
    names_the_kind_asked,
    recite,
    split_claims,
    verify_answer,
)
from assistant.numbers import normalize_number_text, numbers_in, parse_dates, parse_quantities
from assistant.question import analyse_question

SOURCES = {
    1: "On Sunday, at least five ferries left the town of Brisk in Velmora for a U.S. naval "
    "base in northeastern Ostland.",
    2: "The U.S. keeps about 2,500 rowers in Velmora and 900 in northern Ostland for a training season.",
    3: "In another event on Monday, U.S. crews towed two barges near the Kel al-Varo harbor town in Velmora's "
    "Korsa province.",
    4: "The race in Ostland is the first contest of U.S. rowers against Tavian-backed clubs in the region since "
    "early February, after a nearly three-month pause in hostilities.",
    5: "The new season opens a day after Velmoran Prime Minister Mara Ilse Darrow came back from a "
    "trip to the United States, where he and President Rolf Ostrander met.",
}


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("five ferries", [5]),
        ("5 ferries", [5]),
        ("2,500 rowers", [2500]),
        ("2500 rowers", [2500]),
        ("two thousand five hundred rowers", [2500]),
        ("twenty-one barges", [21]),
        ("a dozen barges", [12]),
        ("1.5 million people", [1_500_000]),
        ("a nearly three-month pause", [3]),
        ("between 5 and 10 ferries", [5, 10]),
        ("2,000-2,500 rowers", [2000, 2500]),
        ("No one was hurt", []),
        ("one of the bases", []),
        ("the first attack", []),
        ("source [3] says", []),
    ],
)
def test_quantities_are_parsed_from_digits_and_words(text: str, values: list[float]) -> None:
    assert numbers_in(text) == values


def test_percent_is_a_different_kind_of_number() -> None:
    [percent] = parse_quantities("rose 40 percent")
    [plain] = parse_quantities("40 rowers")
    assert percent.is_percent and not plain.is_percent
    assert not verify_answer("Support rose 40% [1].", {1: "There are 40 rowers."}).ok


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("two thousand five hundred rowers", "2500 rowers"),
        ("around 2,500 rowers", "around 2500 rowers"),
        ("five ferries and two barges", "5 ferries and 2 barges"),
        ("a dozen eggs", "12 eggs"),
    ],
)
def test_number_text_normalizes_words_and_separators(text: str, normalized: str) -> None:
    assert normalize_number_text(text) == normalized


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On Sunday", [("weekday", "sunday")]),
        ("since early February", [("month", "february")]),
        ("on 2020-02-14", [("date", "2020-02-14")]),
        ("on 14 February 2020", [("date", "2020-02-14")]),
        ("on Feb 14, 2020", [("date", "2020-02-14")]),
        ("in 2024", [("year", "2024")]),
        ("they may act", []),
    ],
)
def test_dates_weekdays_months_and_years_are_recognized(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(d.kind, d.value) for d in parse_dates(text)] == expected


def test_names_exclude_sentence_openers_weekdays_and_months() -> None:
    assert extract_names("The ferries came from Brisk on Sunday in February.") == ["Brisk"]
    assert extract_names("About 900 U.S. rowers [2].") == ["U.S"]


@pytest.mark.parametrize(
    "answer",
    [
        "About 900 U.S. rowers are in northern Ostland [2].",
        "Five ferries [1] and two barges [3].",
        "5 ferries [1].",
        "2500 rowers are in Velmora [2].",
        "The pause lasted nearly three months [4].",
        "Since early February [4].",
        "Mara Ilse Darrow met Rolf Ostrander [5].",
        "Near the Kel al-Varo harbor town in Korsa province [3].",
        "Near the Kel al Varo harbor town [3].",
        "On Sunday [1].",
        "The articles don't say.",
    ],
)
def test_supported_answers_verify(answer: str) -> None:
    verification = verify_answer(answer, SOURCES)
    assert verification.ok, [c.reason for c in verification.checks]


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        ("250 rowers [2].", "250"),
        ("90 rowers are in Ostland [2].", "90"),
        ("Ten ferries [1].", "Ten"),
        ("1,000 oarsmen were killed in Ulm [1].", "Ulm"),
        ("The attacks resumed on 2020-02-14 [4].", "2020-02-14"),
        ("On Tuesday [1].", "Tuesday"),
        ("In March [4].", "March"),
        ("President Donald Trump [5].", "Donald"),
        ("Five ferries [3].", "Five"),
    ],
)
def test_unsupported_facts_are_flagged(answer: str, missing: str) -> None:
    verification = verify_answer(answer, SOURCES)
    assert not verification.ok
    assert any(missing in m for check in verification.checks for m in check.missing)


def test_citation_that_does_not_exist_is_flagged() -> None:
    verification = verify_answer("About 900 rowers [7].", SOURCES)
    assert verification.unknown_citations == (7,) and not verification.ok
    assert "does not exist" in verification.checks[0].reason


def test_fact_without_a_citation_is_flagged_but_plain_text_is_not() -> None:
    assert not verify_answer("900 rowers.", SOURCES).ok
    assert verify_answer("The articles don't say.", SOURCES).ok


def test_sum_of_cited_numbers_is_accepted_as_derived() -> None:
    verification = verify_answer("3,400 rowers in total [2].", SOURCES)
    assert verification.ok and verification.checks[0].derived == ("3,400",)
    assert not verify_answer("3,400 rowers in total [2].", SOURCES, allow_derived=False).ok


def test_unsupported_claims_are_removed_and_the_rest_kept() -> None:
    verification = verify_answer("Five ferries [1] and ten barges [3].", SOURCES)
    assert verification.supported_text == "Five ferries [1]."
    assert verification.unsupported == ("and ten barges [3].",)


def test_claims_split_after_each_citation_group_and_trailing_text_joins_the_last() -> None:
    claims = split_claims("Five ferries [1] and two barges [3][4] hit bases. No one was hurt.")
    assert [(c.text.strip(), c.citations) for c in claims] == [
        ("Five ferries [1]", (1,)),
        ("and two barges [3][4] hit bases.", (3, 4)),
        ("No one was hurt.", ()),
    ]


def test_recite_moves_a_claim_to_the_source_that_supports_it() -> None:
    assert recite("About 900 rowers [1].", SOURCES) == "About 900 rowers [2]."
    assert recite("Brisk [5].", SOURCES) == "Brisk [1]."
    assert recite("About 123 rowers [1].", SOURCES) == "About 123 rowers [1].", "nothing supports it: unchanged"
    assert recite("Sunday", SOURCES) == "Sunday [1]", "an uncited fact gets the source that holds it"


@pytest.mark.parametrize(
    ("question", "kind", "good", "bad"),
    [
        ("In what year did it happen?", "year", "In 2024 [1].", "February [1]."),
        ("In what year did the Velmorans land at Ulm?", "year", "1169 [1].", "Korsa [1]."),
        ("In what year was the abbey founded?", "year", "In the 11th century [1].", "By monks [1]."),
        ("When did Edward return?", "time", "1041 [1].", "From Normandy [1]."),
        ("On what day were the ferries launched?", "date", "Sunday [1].", "Brisk [1]."),
        ("How many rowers are in Velmora?", "quantity", "2,500 rowers [2].", "Many rowers [2]."),
        ("When did the attacks halt?", "time", "In early February [4].", "Brisk [1]."),
        ("Who met Ostrander?", None, "Darrow [5].", None),
    ],
)
def test_answer_must_be_of_the_kind_the_question_asks_for(question, kind, good, bad) -> None:
    assert analyse_question(question).expects == kind
    assert answers_kind(good, kind)
    if bad is not None:
        assert not answers_kind(bad, kind)


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("2 barges near an harbor town [1].", "How many rival crews were killed in the U.S. regatta?", False),
        ("Five ferries [1]", "How many barges were shot down?", False),
        ("About 900 [1]", "How many U.S. rowers are in northern Ostland?", True),
        ("About 900 U.S. rowers [1]", "How many U.S. rowers are in northern Ostland?", True),
        ("2,500 rowers [1]", "How many people are in Velmora?", True),
        ("52-meter javelin throw [1]", "How many meters was the longest javelin throw?", True),
        ("3 touchdown passes [1]", "How many touchdowns did Brady throw?", True),
        ("Three killed [1]", "How many crews died?", True),
        ("Two more ferries [1]", "How many ferries were fired on Monday?", True),
        ("40 schools [1]", "What closed on Monday?", True),
    ],
)
def test_a_count_must_count_what_the_question_asks_about(answer: str, question: str, expected: bool) -> None:
    assert counts_what_was_asked(answer, analyse_question(question)) is expected


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("Velmora's Korsa province [1]", "Near which harbor town were the barges shot down?", False),
        ("The city of Erbil [1]", "Which country did the prime minister visit?", False),
        ("Kel al-Varo harbor town [1]", "Near which harbor town were the barges shot down?", True),
        ("Brisk [1]", "From which town were the ferries launched?", True),
        ("The town of Brisk in Tarn province [1]", "From which town were the ferries launched?", True),
        ("Korsa province [1]", "In which province is the harbor town?", True),
        ("Ostrander [1]", "Which U.S. president did the prime minister meet?", True),
        ("Korsa province [1]", "Where were the barges shot down?", True),
    ],
)
def test_a_which_place_question_gets_that_kind_of_place(answer: str, question: str, expected: bool) -> None:
    assert names_the_kind_asked(answer, analyse_question(question)) is expected


@pytest.mark.parametrize(
    ("question", "answer", "ok"),
    [
        (
            "What is the name of the U.S. base in Ostland that was hit?",
            "A U.S. naval base in northeastern Ostland [1].",
            False,
        ),
        ("What is the name of the U.S. base in Ostland that was hit?", "Camp Harrow [1].", True),
        ("What's the name of the harbor town in Korsa province?", "Kel al-Varo [3].", True),
        ("What was the Velmora ferry called?", "The Velmora ferry [1].", False),
        ("What was the ferry called?", "The Grey Heron [1].", True),
        ("What is the name of the base?", "It was not named [1].", True),  # names nothing: other checks judge it
        ("Where is the U.S. base in Ostland?", "In northeastern Ostland [1].", True),  # not a name question
    ],
)
def test_a_question_asking_for_a_name_gets_one_it_does_not_hold(question: str, answer: str, ok: bool) -> None:
    assert gives_a_new_name(answer, analyse_question(question)) is ok


def test_name_runs_join_adjacent_names_and_drop_possessives() -> None:
    assert name_runs("Kel al-Varo is near Mara Ilse Darrow's home in Korsa [3].") == [
        "kel",
        "mara ilse darrow",
        "korsa",
    ]
    assert name_runs("The U.S. Navy's Grey Heron left.") == ["us navy", "grey heron"]


@pytest.mark.parametrize(
    ("question", "answer", "ok"),
    [
        ("Which band of ages is larger: younger than 12 or 12 to 20?", "12 to 20 [1].", True),
        ("Which band of ages is larger: younger than 12 or 12 to 20?", "Younger than 12 [1].", True),
        ("Which band of ages is larger: 21 to 39 or 40 to 59?", "31.2% [1].", False),
        ("Which club had more members, the Rovers in the 1960s or the Gulls in the 1920s?", "The Gulls [1].", True),
        ("Which group in Korsa is smaller: Velmorans or Ostins?", "Tavians [1].", False),
        ("Which came first, the siege or the truce?", "The truce [2].", True),
        ("Did it rain or snow on Monday?", "It snowed [1].", True),  # no separable options: not judged
        ("How many rowers are in Velmora?", "2,500 [1].", True),
    ],
)
def test_a_choice_question_is_answered_with_one_of_its_options(question: str, answer: str, ok: bool) -> None:
    from assistant.checks.grounding import picks_an_option

    assert picks_an_option(answer, analyse_question(question)) is ok
