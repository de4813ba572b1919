"""Self-consistency: agreement of sampled answers, the consistency stage of the calibrator, and its use."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from assistant.checks.calibration import Calibrator, Example, consistency_features, with_consistency_stage
from assistant.checks.consistency import agreement_share, answers_agree, sample_seeds
from assistant.text import overlap_f1
from tests.conftest import FakeLLM

QUESTION = "How many schools did the storm close?"
ANSWER = "The storm closed 40 schools [1]."


# -- agreement -------------------------------------------------------------------------------------------------------
def test_the_same_span_in_other_words_or_citations_agrees() -> None:
    question = "Who led the Normans into Italy?"
    assert answers_agree("Robert Guiscard [2]", "Robert Guiscard led them [3].", question)
    assert answers_agree("the Norman knights [1]", "Norman knights [1]", question)


def test_another_name_another_number_or_an_abstention_disagrees() -> None:
    assert not answers_agree("Robert Guiscard [2]", "Roger of Sicily [2]", "Who led the Normans into Italy?")
    assert not answers_agree("40 schools [1]", "14 schools [1]", QUESTION), "the same words, another number"
    assert not answers_agree("40 schools [1]", "NOT IN SOURCES", QUESTION)


def test_words_of_the_question_do_not_make_two_answers_agree() -> None:
    question = "Which city hosted the storm summit?"
    assert not answers_agree("The storm summit city was Oslo [1]", "The storm summit city was Bergen [1]", question)


def test_agreement_share_counts_agreeing_samples() -> None:
    samples = ["40 schools [1]", "It closed 40 schools [1].", "14 schools [1]", "NOT IN SOURCES"]
    assert agreement_share("40 schools [1]", samples, QUESTION) == 0.5
    assert agreement_share("40 schools [1]", [], QUESTION) == 0.0
    assert overlap_f1(["a", "b"], ["b", "c"]) == 0.5 and overlap_f1([], []) == 1.0 and overlap_f1(["a"], []) == 0.0


# -- the consistency stage -------------------------------------------------------------------------------------------
def stage_calibrator(verified_at: float = 0.999) -> Calibrator:
    """First stage: P = sigmoid(10 (check_yes - 0.5)); second: sigmoid(base_logit + 6 agreement - 4), verified
    from 0.9, so an answer whose samples all agree is verified from a first confidence of about 0.55."""
    features = tuple(consistency_features(0.5, 1.0))  # ("base_logit", "sample_agreement")
    stage = Calibrator(features, (0.0, 0.0), (1.0, 1.0), (1.0, 6.0), -4.0, verified_at=0.9, abstain_below=0.0)
    return Calibrator(
        ("check_yes",),
        (0.5,),
        (1.0,),
        (10.0,),
        0.0,
        verified_at=verified_at,
        abstain_below=0.2,
        consistency_stage=stage,
    )


def test_the_stage_raises_agreeing_answers_and_lowers_scattered_ones() -> None:
    calibrator = stage_calibrator()
    assert calibrator.with_consistency(0.8, 1.0) > 0.9 > 0.8 > calibrator.with_consistency(0.8, 0.0)
    gate = calibrator.consistency_gate()
    assert gate is not None and 0.54 < gate < 0.56
    assert calibrator.with_consistency(gate, 1.0) >= 0.9 > calibrator.with_consistency(gate - 0.01, 1.0)


def test_a_stage_that_can_never_verify_has_no_gate_and_no_stage_changes_nothing() -> None:
    hopeless = Calibrator(("base_logit", "sample_agreement"), (0.0, 0.0), (1.0, 1.0), (0.0, 0.0), 0.0, 0.9, 0.0)
    first = stage_calibrator()
    assert Calibrator(**{**first.__dict__, "consistency_stage": hopeless}).consistency_gate() is None
    plain = Calibrator(("check_yes",), (0.5,), (1.0,), (10.0,), 0.0, 0.9, 0.2)
    assert plain.consistency_gate() is None and plain.with_consistency(0.7, 0.0) == 0.7


def test_the_stage_survives_json() -> None:
    calibrator = stage_calibrator()
    again = Calibrator.from_json(calibrator.to_json())
    assert again == calibrator and again.consistency_stage == calibrator.consistency_stage


def test_fitting_the_stage_learns_that_agreement_means_right() -> None:
    rng = random.Random(3)
    examples = []
    for _ in range(300):
        right = rng.random() < 0.5
        agreement = rng.choice([1.0, 1.0, 1.0, 2 / 3]) if right else rng.choice([0.0, 1 / 3, 2 / 3, 1.0])
        signals = {"check_yes": 0.6 + rng.random() * 0.2, "sample_agreement": agreement, "form_answer": 1.0}
        examples.append(Example(signals=signals, correct=right))
    examples.append(Example(signals={"check_yes": 0.9}, correct=False))  # never sampled: not a stage example
    first = Calibrator(("check_yes",), (0.5,), (1.0,), (10.0,), 0.0, 1.0, 0.2)
    fitted = with_consistency_stage(first, examples)
    stage = fitted.consistency_stage
    assert stage is not None and stage.info["out_of_fold"]["answers"] == 300
    assert dict(zip(stage.features, stage.weights, strict=True))["sample_agreement"] > 0
    assert fitted.with_consistency(0.7, 1.0) > fitted.with_consistency(0.7, 0.0)
    assert fitted.weights == first.weights, "the first stage's weights are kept"


# -- in the pipeline -------------------------------------------------------------------------------------------------
@pytest.fixture
def ask(fake_assistant_factory, tiny_corpus: Path, tmp_path: Path):
    calibration = tmp_path / "stage.json"
    calibration.write_text(stage_calibrator().to_json(), encoding="utf-8")

    def run(llm: FakeLLM, **trust: object):
        settings = {"calibration_file": calibration, "check": True, "abstain_below": None, **trust}
        assistant = fake_assistant_factory(llm, trust=settings)
        assistant.ingest([tiny_corpus])
        return assistant.ask(QUESTION)

    return run


def test_an_answer_whose_samples_agree_is_verified(ask) -> None:
    llm = FakeLLM([ANSWER], yes=0.8, samples=lambda seed: "It closed 40 schools [1].")
    answer = ask(llm)
    assert answer.status == "verified" and answer.confidence is not None and answer.confidence >= 0.9
    assert answer.signals["sample_agreement"] == 1.0 and 0.9 < answer.signals["first_confidence"] < 0.99
    assert [seed for _, seed in llm.sampled] == sample_seeds(QUESTION, 3) and {t for t, _ in llm.sampled} == {0.8}


def test_each_question_has_seeds_of_its_own_and_keeps_them() -> None:
    seeds = sample_seeds(QUESTION, 3)
    assert len(set(seeds)) == 3 and seeds == sample_seeds(f" {QUESTION} ", 3)
    assert set(seeds).isdisjoint(sample_seeds("Who led the Normans into Italy?", 3))
    assert all(0 < seed < 2**31 + 1 for seed in seeds)


def test_the_same_answer_with_scattered_samples_is_not_verified(ask) -> None:
    scattered = iter(["It closed 14 schools [1].", "NOT IN SOURCES", "40 schools [1]"])
    answer = ask(FakeLLM([ANSWER], yes=0.8, samples=lambda seed: next(scattered)))
    assert answer.status == "unconfirmed" and answer.signals["sample_agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert answer.confidence is not None and answer.confidence < answer.signals["first_confidence"]


def test_below_the_gate_no_sample_is_drawn(ask) -> None:
    llm = FakeLLM([ANSWER], yes=0.5, samples=lambda seed: ANSWER)
    answer = ask(llm)
    assert answer.status == "unconfirmed" and llm.sampled == [] and "sample_agreement" not in answer.signals


def test_no_samples_setting_turns_the_check_off(ask) -> None:
    llm = FakeLLM([ANSWER], yes=0.8, samples=lambda seed: ANSWER)
    answer = ask(llm, consistency_samples=0)
    assert answer.status == "unconfirmed" and llm.sampled == []


def test_calibration_runs_sample_every_written_answer(ask) -> None:
    llm = FakeLLM([ANSWER], yes=0.5, samples=lambda seed: ANSWER)
    answer = ask(llm, calibrated=False, sample_all=True, consistency_samples=2)
    assert answer.status == "unconfirmed" and answer.signals["sample_agreement"] == 1.0 and len(llm.sampled) == 2
