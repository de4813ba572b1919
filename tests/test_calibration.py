"""The calibrator: fitting, thresholds picked out of fold, measures of calibration, the shipped file format."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from assistant.checks.calibration import (
    Calibrator,
    Example,
    accuracy_floor,
    area_under_risk_coverage,
    auroc,
    expected_calibration_error,
    fit_calibrator,
    load_calibrator,
    precision_threshold,
    risk_coverage,
    verifiable,
    with_form_thresholds,
)


def synthetic(n: int = 400, seed: int = 1) -> list[Example]:
    """Answers whose rightness follows signal 'a' (noisily); 'b' is noise; some lack 'a'."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        a = rng.random()
        right = rng.random() < a
        signals = {"a": a, "b": rng.random()} if rng.random() > 0.1 else {"b": rng.random()}
        examples.append(Example(signals, right, answerable=right or rng.random() < 0.5))
    return examples


def test_fitted_weights_follow_the_informative_signal() -> None:
    calibrator = fit_calibrator(synthetic(), ["a", "b"])
    weights = dict(zip(calibrator.features, calibrator.weights, strict=True))
    assert weights["a"] > 1.0 and abs(weights["b"]) < 0.3
    assert calibrator.probability({"a": 0.95, "b": 0.5}) > 0.8 > 0.2 > calibrator.probability({"a": 0.05, "b": 0.5})


def test_missing_signal_is_imputed_with_its_mean() -> None:
    calibrator = fit_calibrator(synthetic(), ["a", "b"])
    mean_a = calibrator.means[0]
    assert calibrator.probability({"b": 0.5}) == pytest.approx(calibrator.probability({"a": mean_a, "b": 0.5}))


def test_thresholds_keep_held_out_precision_near_the_target() -> None:
    calibrator = fit_calibrator(synthetic(2000, seed=2), ["a", "b"], target_precision=0.9)
    held_out = synthetic(2000, seed=3)
    chosen = [e for e in held_out if calibrator.probability(e.signals) >= calibrator.verified_at]
    precision = sum(e.correct for e in chosen) / len(chosen)
    assert precision >= 0.85 and len(chosen) > 100
    assert 0.0 <= calibrator.abstain_below <= calibrator.verified_at


def form_examples(n: int, seed: int) -> list[Example]:
    """Ordinary answers right at 30 %, whatever 'a' says; computed ones right when 'a' is high."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        a, computed = rng.random(), rng.random() < 0.4
        right = (a > 0.3 or rng.random() < 0.1) if computed else rng.random() < 0.3
        examples.append(Example({"a": a, "calculated": 1.0 if computed else 0.0}, right))
    return examples


def test_a_form_gets_a_threshold_of_its_own_picked_on_its_answers_alone() -> None:
    training = form_examples(600, 1)
    fitted = fit_calibrator(training, ["a", "calculated"], target_precision=0.9, forms=["calculated"])
    assert fitted.info["forms"]["calculated"]["answers"] == sum(e.signals["calculated"] == 1.0 for e in training)
    assert fitted.verified_at_by_form["calculated"] < 1.0
    held_out = form_examples(3000, 2)
    computed = [e for e in held_out if e.signals["calculated"] == 1.0]
    chosen = [e for e in computed if fitted.probability(e.signals) >= fitted.verified_threshold(e.signals)]
    assert len(chosen) > len(computed) / 3 and sum(e.correct for e in chosen) / len(chosen) >= 0.85
    plain = [e for e in held_out if e.signals["calculated"] == 0.0]
    assert all(fitted.verified_threshold(e.signals) == fitted.verified_at for e in plain)
    kept = with_form_thresholds(replace(fitted, verified_at_by_form={}), held_out, ["calculated"])
    assert kept.weights == fitted.weights and 0.0 < kept.verified_at_by_form["calculated"] < 1.0
    assert kept.info["forms"]["calculated"]["precision_at_verified"] >= 0.9
    too_few = with_form_thresholds(fitted, held_out[:10], ["calculated"])
    assert too_few.verified_at_by_form["calculated"] == fitted.verified_at_by_form["calculated"], (
        "a form with too few answers in the new run keeps its threshold"
    )
    assert with_form_thresholds(replace(fitted, verified_at_by_form={}), held_out[:10], ["calculated"]) == replace(
        fitted, verified_at_by_form={}
    )


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"form_answer": 1.0, "calculated": 0.0}, True),
        ({"form_quote": 1.0, "calculated": 0.0}, False),
        ({"form_partial": 1.0, "calculated": 0.0}, False),
        ({"calculated": 1.0, "calc_supported_share": 1.0, "calc_articles": 1.0}, True),
        ({"calculated": 1.0, "calc_supported_share": 1.0}, True),  # written before calc_articles existed
        ({"calculated": 1.0, "calc_supported_share": 0.5}, False),
        ({"calculated": 1.0, "calc_supported_share": 1.0, "calc_recited_share": 0.5}, False),
        ({"calculated": 1.0, "calc_supported_share": 1.0, "calc_articles": 2.0}, False),
    ],
)
def test_only_answers_the_engine_can_verify_count_toward_a_forms_threshold(signals, expected) -> None:
    assert verifiable(signals) is expected
    examples = [Example({**signals, "a": i / 40}, True) for i in range(40)]
    fitted = with_form_thresholds(
        Calibrator(("a",), (0.5,), (0.3,), (1.0,), 0.0, verified_at=1.0, abstain_below=0.0), examples, ["calculated"]
    )
    counted = fitted.info.get("forms", {}).get("calculated", {}).get("answers", 0)
    assert counted == (40 if expected and signals.get("calculated") == 1.0 else 0)


def test_calibrator_round_trips_through_json(tmp_path) -> None:
    calibrator = fit_calibrator(synthetic(), ["a", "b"], info={"model": "m"})
    path = tmp_path / "m.json"
    path.write_text(calibrator.to_json())
    again = load_calibrator("ignored", path)
    assert again == calibrator
    by_form = fit_calibrator(form_examples(300, 3), ["a", "calculated"], forms=["calculated"])
    path.write_text(by_form.to_json())
    assert load_calibrator("ignored", path) == by_form


def test_fitting_refuses_too_few_or_one_sided_examples() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        fit_calibrator(synthetic(10), ["a"])
    with pytest.raises(ValueError, match="some right and some wrong"):
        fit_calibrator([Example({"a": 1.0}, True)] * 50, ["a"])


def test_precision_threshold_is_the_lowest_score_meeting_the_target() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    correct = [True, True, True, False, True, False]
    assert precision_threshold(scores, correct, 1.0, min_count=1) == 0.7
    assert precision_threshold(scores, correct, 0.8, min_count=1) == 0.5
    assert precision_threshold(scores, correct, 0.8, min_count=10) == 1.0, "too few answers: never verified"


def test_accuracy_floor_abstains_where_abstaining_is_more_often_right() -> None:
    scores = [0.1, 0.2, 0.3, 0.8, 0.9]
    correct = [False, False, True, True, True]
    answerable = [False, False, True, True, True]
    assert 0.2 < accuracy_floor(scores, correct, answerable) < 0.3


def test_auroc_ece_and_aurc_on_known_cases() -> None:
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert expected_calibration_error([0.95, 0.95], [True, True]) == pytest.approx(0.05)
    assert expected_calibration_error([0.9, 0.9], [False, False]) == pytest.approx(0.9)
    assert risk_coverage([0.9, 0.1], [True, False]) == [(0.5, 0.0), (1.0, 0.5)]
    assert area_under_risk_coverage([0.9, 0.1], [True, False]) == 0.25
    assert area_under_risk_coverage([0.1, 0.9], [True, False]) == 0.75


def test_the_shipped_calibrator_of_the_default_model_loads() -> None:
    from assistant.settings import Settings

    calibrator = load_calibrator(Settings().llm.model)
    assert isinstance(calibrator, Calibrator)
    assert "abstain_log" in calibrator.features
    out_of_fold = calibrator.info["out_of_fold"]
    # Either no confidence reached the target precision out of fold, and nothing is ever verified, or it did.
    nothing_verified = calibrator.verified_at >= 1.0 and out_of_fold["share_at_verified"] == 0
    assert nothing_verified or out_of_fold["precision_at_verified"] >= 0.9
    for form, threshold in calibrator.verified_at_by_form.items():  # each picked on answers of its form alone
        picked_on = calibrator.info["forms"][form]
        assert threshold >= 1.0 or (
            picked_on["precision_at_verified"] >= 0.9 and picked_on["answers"] * picked_on["share_at_verified"] >= 20
        )


def test_every_answer_says_whether_it_was_computed_so_the_flag_can_carry_weight() -> None:
    from assistant.checks.signals import DraftFacts, compute_signals
    from assistant.evaluation.calibrating import examples_from_results
    from assistant.question import analyse_question

    plain = compute_signals(analyse_question("Who won?"), DraftFacts(text="Smith [1]", form="answer"), [], [])
    assert plain["calculated"] == 0.0, "a flag present only when true is imputed as always true and weighs nothing"
    older = {"suite": "s", "cases": [{"status": "unconfirmed", "correct": True, "signals": {"lp_mean": -0.1}}]}
    assert examples_from_results(older)[0].signals["calculated"] == 0.0
    rng = random.Random(5)
    examples = []
    for _ in range(300):
        computed = rng.random() < 0.3
        signals = {"calculated": 1.0 if computed else 0.0, "b": rng.random()}
        examples.append(Example(signals, rng.random() < (0.8 if computed else 0.3), answerable=True))
    calibrator = fit_calibrator(examples, ["calculated", "b"])
    assert calibrator.weights[0] > 0.5
