"""bench/statuses.py gives a calibration-off run the statuses a calibrator would have given it."""

from assistant.checks.calibration import Calibrator
from bench.statuses import status, tally


def _calibrator() -> Calibrator:
    """P(right) rises with one signal, "score"; withheld below 0.3, verified from 0.8."""
    return Calibrator(
        features=("score",),
        means=(0.0,),
        scales=(1.0,),
        weights=(4.0,),
        bias=0.0,
        verified_at=0.8,
        abstain_below=0.3,
    )


def test_each_answer_gets_the_status_its_confidence_and_form_allow() -> None:
    calibrator = _calibrator()
    high, low = {"score": 1.0, "form_answer": 1.0}, {"score": -1.0, "form_answer": 1.0}
    assert status({"status": "unconfirmed", "signals": high}, calibrator) == "verified"
    assert status({"status": "unconfirmed", "signals": {**high, "form_partial": 1.0}}, calibrator) == "unconfirmed"
    assert status({"status": "fallback", "signals": {**high, "form_quote": 1.0}}, calibrator) == "fallback"
    assert status({"status": "unconfirmed", "signals": low}, calibrator) == "abstained"
    assert status({"status": "abstained", "signals": high}, calibrator) == "abstained", "the model abstained"


def test_an_abstention_is_right_only_on_an_unanswerable_question() -> None:
    high, low = {"score": 1.0, "form_answer": 1.0}, {"score": -1.0, "form_answer": 1.0}
    cases = [
        {"status": "unconfirmed", "signals": high, "correct": True, "kind": "span"},
        {"status": "unconfirmed", "signals": low, "correct": True, "kind": "span"},
        {"status": "unconfirmed", "signals": low, "correct": False, "kind": "unanswerable"},
    ]
    counts = tally(cases, _calibrator())
    assert counts["given"] == {"verified": 1, "abstained": 2} and counts["right"]["abstained"] == 1
    assert abs(counts["accuracy"] - 2 / 3) < 1e-9
