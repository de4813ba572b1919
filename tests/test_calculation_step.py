"""Routing questions to a calculation, the prompt and grammar, and the calculation branch of the answer pipeline."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from assistant.answer.calculation_prompt import (
    build_calculation_messages,
    calculation_grammar,
    operations_for,
    read_calculation,
)
from assistant.answer.calculation_step import count_is_stated, route
from assistant.question import analyse_question
from tests.conftest import SEED_CORPUS, FakeLLM

SUM = "How many U.S. troops are there in Iraq and Syria combined?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (SUM, "add"),
        ("How many troops does the U.S. have in Iraq and Syria in total?", "add"),
        ("How many more U.S. troops are in Iraq than in eastern Syria?", "diff"),
        ("What is the difference between the rockets and the drones?", "diff"),
        ("How many days after the rocket attack were the drones shot down?", "span"),
        ("How many years did the Korsa strike last?", "span"),
        ("For how many years was Pellet on the roster?", "span"),
        ("What percentage of the crew were new hires?", "percent"),
        ("How many meters was the longest jump of the meet?", "extreme"),
        ("How many field goals did Brannock kick?", "count"),
        ("How many U.S. troops are in Iraq?", "count"),
        ("How many yards did he run?", None),
        ("How many people attended the festival?", None),
        ("How long was the pause in hostilities?", None),
        ("Which group was larger, the rowers rescued or left ashore?", "compare"),
        ("Which were there more of, rockets or drones?", "compare"),
        ("Were there more rockets or drones?", None),  # where the first option starts is unknown
        ("Which happened first, the siege or the truce?", None),
        ("Which side had more tanks and fewer guns, the north or the south?", None),
        ("Who did the Iraqi prime minister meet?", None),
        ("In what year did the attacks happen?", None),
    ],
)
def test_computation_asked_reads_the_kind_of_arithmetic_from_the_question(question: str, kind: str | None) -> None:
    assert analyse_question(question).computation == kind


def test_a_count_the_article_states_keeps_todays_path() -> None:
    stated = ["The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria."]
    assert count_is_stated(analyse_question("How many U.S. troops are in Iraq?"), stated)
    assert count_is_stated(
        analyse_question("How many drones did U.S. forces shoot down?"), ["U.S. forces shot down two drones."]
    )
    assert route(analyse_question("How many U.S. troops are in Iraq?")) is not None  # without evidence it would count
    listed = ["Brannock kicked a 23-yard field goal.", "Brannock added a 45-yard field goal."]
    assert not count_is_stated(analyse_question("How many field goals did Brannock kick?"), listed)


def test_a_share_the_article_states_is_read_not_computed() -> None:
    from assistant.answer.calculation_step import share_is_stated

    question = analyse_question("What percentage of the Skerry ferry crews went on strike?")
    assert route(question) is not None  # without evidence it would divide
    stated = ["About 64% of the Skerry ferry crews walked out on Monday, the union said."]
    assert share_is_stated(stated) and route(question, _evidence(stated)) is None
    counted = ["Of the 250 Skerry ferry crew members, 160 walked out on Monday."]
    assert not share_is_stated(counted) and route(question, _evidence(counted)) is not None


def _evidence(sentences: list[str]) -> list:
    from assistant.types import Chunk, Evidence

    chunk = Chunk(id="c", doc_id="d", text=" ".join(sentences), start=0, end=1, chunk_index=0, paragraph_index=0)
    return [
        Evidence(number=i, quote=q, chunk=chunk, start=0, end=len(q), score=1.0) for i, q in enumerate(sentences, 1)
    ]


def test_operations_follow_the_question() -> None:
    assert operations_for("span", analyse_question("How many years did the war last?")) == ("YEARS_BETWEEN", "DIFF")
    assert operations_for("span", analyse_question("How many days after the attack?")) == ("DAYS_BETWEEN", "DIFF")
    assert operations_for("extreme", analyse_question("How many meters was the longest jump?")) == ("MAX",)
    assert operations_for("extreme", analyse_question("How many meters was the shortest jump?")) == ("MIN",)
    assert operations_for("count", analyse_question("How many field goals did Brannock kick?")) == ("COUNT", "ADD")


def test_grammar_allows_only_the_routed_operations_and_existing_sentences() -> None:
    grammar = calculation_grammar(("ADD", "COUNT"), [3, 1, 2])
    assert 'op ::= "ADD" | "COUNT"' in grammar
    assert 'citation ::= "1" | "2" | "3"' in grammar
    assert 'root ::= call | "NONE"' in grammar
    assert "DIFF" not in grammar


def test_prompt_shows_worked_examples_of_the_allowed_operations_only(fake_evidence) -> None:
    messages = build_calculation_messages(analyse_question(SUM), fake_evidence, ("ADD",))
    system = messages[0]["content"]
    assert "\nADD(1,200 passengers on Friday [1], 950 on Saturday [1])\n" in system and system.endswith("\nNONE")
    assert "DIFF(1,200" not in system and "COUNT(the first ferry" not in system
    assert len(messages) == 2 and messages[-1]["content"].endswith(f"Question: {SUM}")
    assert "[1] The U.S. currently has" in messages[-1]["content"]


def test_read_calculation_takes_the_first_line_without_fences_or_label() -> None:
    assert read_calculation("```\nCalculation: ADD(1 [1], 2 [1])\n```\nbecause...") == "ADD(1 [1], 2 [1])"
    assert read_calculation("   ") == ""


@pytest.fixture
def fake_evidence():
    from assistant.types import Chunk, Evidence

    chunk = Chunk(id="c", doc_id="d", text="", start=0, end=0, chunk_index=0, paragraph_index=0)
    quote = "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria."
    return [Evidence(number=1, quote=quote, chunk=chunk, start=0, end=len(quote), score=1.0)]


# -- the pipeline ---------------------------------------------------------------------------------------------------
def sentence_number(prompt: str, words: str) -> int:
    """The [n] of the source line holding ``words`` in a prompt."""
    match = re.search(rf"^\[(\d+)\][^\n]*{re.escape(words)}", prompt, re.M)
    assert match, prompt
    return int(match.group(1))


def calculation_then(expression: str, answer: str = "NOT IN SOURCES"):
    """A scripted model: first the calculation (``{n}``: the troops sentence's number), then ``answer``."""
    return calculation_then_reply(
        lambda prompt: expression.replace("{n}", str(sentence_number(prompt, "2,500 troops"))), answer
    )


def calculation_then_reply(first: Callable[[str], str], answer: str = "NOT IN SOURCES") -> Callable[[str], str]:
    """A scripted model: ``first(prompt)`` for the calculation, then ``answer``."""
    calls: list[str] = []

    def reply(prompt: str) -> str:
        calls.append(prompt)
        return first(prompt) if len(calls) == 1 else answer

    return reply


@pytest.fixture
def seed_assistant(fake_assistant_factory):
    def build(llm: FakeLLM, **overrides: object):
        assistant = fake_assistant_factory(llm, **overrides)
        assistant.ingest([SEED_CORPUS])
        return assistant

    return build


def test_sum_is_computed_by_the_engine_with_its_working_and_citation(seed_assistant) -> None:
    llm = FakeLLM(calculation_then("ADD(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])"))
    answer = seed_assistant(llm).ask(SUM)
    assert answer.text.startswith("3,400 (2,500 troops in Iraq + 900 in eastern Syria) [1]"), answer.text
    assert answer.status == "verified" and len(answer.citations) == 1
    assert "2,500 troops in Iraq and 900 in eastern Syria" in answer.citations[0].quote
    assert answer.signals["calculated"] == 1 and answer.signals["calc_found_share"] == 1
    assert llm.grammars[0] is not None and 'op ::= "ADD" | "COUNT"' in llm.grammars[0]
    assert len(llm.prompts) == 1 and "calculation" in llm.checks[0][0]["content"]


def test_computed_answer_the_check_doubts_is_unconfirmed_and_one_it_rejects_is_withheld(seed_assistant) -> None:
    expression = "ADD(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])"
    doubted = seed_assistant(FakeLLM(calculation_then(expression), yes=0.4)).ask(SUM)
    assert doubted.text.startswith("3,400") and doubted.status == "unconfirmed"
    rejected = seed_assistant(FakeLLM(calculation_then(expression), yes=0.1)).ask(SUM)
    assert rejected.status == "abstained" and any(u.startswith("3,400") for u in rejected.unsupported)


def test_a_computed_answer_is_judged_by_the_threshold_of_its_own_form(seed_assistant, tmp_path) -> None:
    """A calibrator that never verifies an ordinary answer (verified_at 1.0) but verifies calculations from 0.9:
    the same model confidence verifies the sum and leaves a copied number unconfirmed."""
    from assistant.checks.calibration import Calibrator

    calibrator = Calibrator(
        ("check_yes", "calc_check_yes"),
        (0.5, 0.5),
        (1.0, 1.0),
        (10.0, 10.0),
        0.0,
        verified_at=1.0,
        abstain_below=0.2,
        verified_at_by_form={"calculated": 0.9},
    )
    path = tmp_path / "by-form.json"
    path.write_text(calibrator.to_json(), encoding="utf-8")
    trust = {"calibration_file": path, "check": True, "abstain_below": None}
    expression = "ADD(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])"
    computed = seed_assistant(FakeLLM(calculation_then(expression), yes=0.95), trust=trust).ask(SUM)
    assert computed.text.startswith("3,400") and computed.status == "verified"
    assert computed.confidence is not None and computed.confidence >= 0.9

    def copied(prompt: str) -> str:
        return f"900 [{sentence_number(prompt, '2,500 troops')}]"

    plain = seed_assistant(FakeLLM(copied, yes=0.95), trust=trust).ask("How many U.S. troops are in eastern Syria?")
    assert plain.text.startswith("900") and plain.signals["calculated"] == 0
    assert plain.confidence is not None and plain.confidence >= 0.9 and plain.status == "unconfirmed"
    doubted = seed_assistant(FakeLLM(calculation_then(expression), yes=0.6), trust=trust).ask(SUM)
    assert doubted.text.startswith("3,400") and doubted.status == "unconfirmed"


def test_a_calculation_whose_operand_the_engine_moved_is_answered_but_never_verified(seed_assistant) -> None:
    """The model cites the drones' sentence for the rockets; the engine moves the operand to the rockets' sentence,
    computes, and shows the answer, unconfirmed however sure the check is."""

    def reply(prompt: str) -> str:
        drones = sentence_number(prompt, "shot down two drones near the Ain al-Asad")
        return f"DIFF(five rockets launched from Zummar [{drones}], two drones [{drones}])"

    question = "How many more rockets were launched than drones shot down?"
    answer = seed_assistant(FakeLLM(reply, yes=0.99)).ask(question)
    assert answer.text.startswith("3 (five rockets launched from Zummar ["), answer.text
    assert answer.signals["calc_recited_share"] == 0.5 and answer.status == "unconfirmed"
    assert any("Zummar" in c.quote for c in answer.citations)


def test_a_calculation_over_figures_of_two_articles_is_refused(fake_assistant_factory, tmp_path) -> None:
    """Two games, each with its field goal: "the longest" over both mixes stories, so the calculation is dropped
    and the ordinary path answers; with ``calculation.one_article`` off it is computed."""
    corpus = tmp_path / "games"
    corpus.mkdir()
    (corpus / "hawks.md").write_text("# Hawks win\n\nThe Hawks kicked a 40-yard field goal in the first quarter.\n")
    (corpus / "owls.md").write_text("# Owls win\n\nThe Owls kicked a 52-yard field goal in the second quarter.\n")

    def reply(prompt: str) -> str:  # the calculation first, then (the ordinary path) no answer
        hawks, owls = sentence_number(prompt, "40-yard"), sentence_number(prompt, "52-yard")
        return f"MAX(40-yard field goal [{hawks}], 52-yard field goal [{owls}])"

    question = "How long in yards was the longest field goal?"
    assert analyse_question(question).computation == "extreme"
    refused = fake_assistant_factory(FakeLLM(calculation_then_reply(reply), yes=0.99))
    refused.ingest([corpus])
    answer = refused.ask(question)
    assert not answer.text.startswith("52") and answer.signals.get("calculated", 0) == 0, answer.text
    allowed = fake_assistant_factory(
        FakeLLM(calculation_then_reply(reply), yes=0.99), calculation={"one_article": False}
    )
    allowed.ingest([corpus])
    mixed = allowed.ask(question)
    assert mixed.text.startswith("52 (the largest of"), mixed.text
    assert mixed.signals["calc_articles"] == 2 and mixed.status == "unconfirmed", "never verified across articles"


def test_operand_not_in_its_sentence_falls_back_to_todays_path(seed_assistant) -> None:
    llm = FakeLLM(calculation_then("ADD(2,600 troops in Iraq [{n}], 900 in eastern Syria [{n}])"))
    answer = seed_assistant(llm, retrieval={"fallback_min_relevance": 0.0}).ask(SUM)
    assert not answer.text.startswith("2,600") and "3,500" not in answer.text
    assert len(llm.prompts) == 2 and llm.grammars[1] is None  # the second prompt is today's answer prompt
    assert any("2,600 is not in sentence" in u for u in answer.unsupported), answer.unsupported


@pytest.mark.parametrize(
    "reply",
    [
        "The answer is 3,400.",  # a server without a grammar writing prose
        "ADD(2,500 troops [9], 900 [1])",  # a sentence that does not exist
        "PERCENT(2,500 [1], 0 [1])",
        "NONE",
        "",
    ],
)
def test_calculation_that_does_not_hold_up_never_raises(seed_assistant, reply: str) -> None:
    llm = FakeLLM([reply, "NOT IN SOURCES", "NOT IN SOURCES"])
    answer = seed_assistant(llm).ask(SUM)
    assert answer.status in {"abstained", "fallback", "unconfirmed"}
    assert not answer.text.startswith("3,400")


def test_question_without_arithmetic_keeps_todays_single_prompt(seed_assistant) -> None:
    llm = FakeLLM(["Zummar [1]."])
    seed_assistant(llm).ask("From which town were the rockets launched?")
    assert len(llm.prompts) == 1 and llm.grammars == [None]
    assert "calculation" not in llm.prompts[0][0]["content"]


def test_calculation_can_be_turned_off(seed_assistant) -> None:
    llm = FakeLLM(["NOT IN SOURCES", "NOT IN SOURCES"])
    seed_assistant(llm, calculation={"enabled": False}).ask(SUM)
    assert llm.grammars and all(g is None for g in llm.grammars)


def test_answer_json_lists_the_operand_signals(seed_assistant) -> None:
    llm = FakeLLM(calculation_then("ADD(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])"))
    data = seed_assistant(llm).ask(SUM).to_dict()
    assert data["signals"]["calc_add"] == 1 and data["signals"]["calc_operands"] == 2


def test_a_how_many_years_answer_given_as_the_two_ends_is_computed_as_the_span(
    fake_assistant_factory, tmp_path
) -> None:
    article = tmp_path / "comet.md"
    article.write_text(
        "# Comet fades\n\nThe comet's brightness fell by about 0.1 magnitudes a year from 1845 to 1856, "
        "astronomers said. It was first seen by a farmer.\n",
        encoding="utf-8",
    )

    def asked(answer: str):
        llm = FakeLLM(["NONE", answer, answer])  # no calculation; then the answer prompt (and its strict retry)
        assistant = fake_assistant_factory(llm)
        assistant.ingest([article])
        return assistant.ask("How many years did the comet's brightness fall?")

    spanned = asked("1845 to 1856 [1].")
    assert spanned.text.startswith("11 years (from 1845 to 1856) [1]"), spanned.text
    assert spanned.signals["calculated"] == 1 and "1845 to 1856" in spanned.citations[0].quote
    assert asked("1845 [1].").text.startswith("1845"), "one year is not a span: the answer is kept as written"
    assert not asked("1845 to 1860 [1].").text.startswith("15 years"), "an end not in the sentence is not computed"


def test_a_count_stated_under_another_word_for_the_same_thing_keeps_todays_path() -> None:
    from assistant.answer.calculation_step import count_is_stated

    axes = {"soldiers": (1.0, 0.0), "troops": (0.9, 0.436), "drones": (0.0, 1.0)}  # unit vectors; cosines 0.9 and 0

    def embed(words: list[str]) -> list[tuple[float, float]]:
        return [axes.get(w, (0.0, 0.0)) for w in words]

    sentences = ["The U.S. has around 2,500 troops in Iraq, and two drones were shot down."]
    question = "How many American soldiers does the U.S. have in Iraq?"
    assert not count_is_stated(analyse_question(question), sentences), "no embedder: only the same word counts"
    assert count_is_stated(analyse_question(question), sentences, embed), "troops are soldiers: the count is stated"
    assert not count_is_stated(analyse_question("How many soldiers were there?"), ["Two drones were seen."], embed)


CHOICE = "Where did the U.S. have more troops, in Iraq or in eastern Syria?"


def test_a_choice_by_numbers_is_answered_with_the_option_the_engine_finds_larger(seed_assistant) -> None:
    llm = FakeLLM(calculation_then("MAX(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])"))
    answer = seed_assistant(llm).ask(CHOICE)
    assert answer.text.startswith("in Iraq (2,500 troops in Iraq against 900 in eastern Syria) [1]"), answer.text
    assert answer.signals["calculated"] == 1 and len(llm.prompts) == 1
    assert "Which day had more passengers, Friday or Saturday?" in llm.prompts[0][0]["content"]  # its example


def test_a_choice_for_the_smaller_option_and_operands_written_in_the_other_order(seed_assistant) -> None:
    llm = FakeLLM(calculation_then("MIN(900 in eastern Syria [{n}], 2,500 troops in Iraq [{n}])"))
    answer = seed_assistant(llm).ask("Where did the U.S. have fewer troops, in Iraq or in eastern Syria?")
    assert answer.text.startswith("in eastern Syria (900 in eastern Syria against 2,500 troops in Iraq) [1]")


@pytest.mark.parametrize(
    "expression",
    [
        "MAX(2,500 troops [{n}], 900 [{n}])",  # the operands name no option
        "MAX(2,500 troops in Iraq [{n}], 2,500 troops in Iraq [{n}])",  # no difference to choose by
        "MIN(2,500 troops in Iraq [{n}], 900 in eastern Syria [{n}])",  # the smaller is not what was asked
    ],
)
def test_a_choice_the_operands_cannot_decide_takes_todays_path(seed_assistant, expression: str) -> None:
    llm = FakeLLM(calculation_then(expression, answer="NOT IN SOURCES"))
    answer = seed_assistant(llm).ask(CHOICE)
    assert answer.signals.get("calculated") != 1 and " against " not in answer.text
    assert len(llm.prompts) == 2  # the calculation was refused and today's prompt was asked


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("How many meters was the longest hammer throw of the meet?", "hammer throw"),
        ("How many meters was Ilsa Varga's longest javelin throw?", "javelin throw"),
        ("How many people did the largest army have?", "army"),
        ("How many troops are in Iraq?", None),
    ],
)
def test_measured_thing_is_what_follows_the_superlative(question: str, thing: str | None) -> None:
    assert analyse_question(question).measured == thing
