"""Statuses a calibrator would give, applied afterwards to runs made with calibration off.

    ASSISTANT_TRUST__CALIBRATED=false assistant eval SUITE.yaml --output OUT   # once per suite
    python bench/statuses.py OUT1/results.json ... --calibrator OLD.json --calibrator NEW.json

With calibration off every answer the model wrote comes back with its signals and whether it is right, so any
calibrator can be applied afterwards to the same answers: a paired comparison of two calibrators from one run.
For each calibrator and each suite the table gives, per status, how many answers got it and how many of those are
right, and the accuracy (an abstention counts as right only on an unanswerable question). The status is decided as
`answer/judging.py` decides it: below the floor (the shipped `trust.abstain_below` unless `--floor` says otherwise)
withheld, a quote a fallback, verified at or above the threshold
of its form when the answer is checkable (`verifiable`). Consistency sampling is not replayed: it needs the model,
and a calibrator whose consistency stage cannot reach its verified threshold never samples.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STATUSES = ("verified", "unconfirmed", "fallback", "abstained")


def status(case: dict[str, Any], calibrator: Any, floor: float | None = None) -> str:
    """The status ``calibrator`` gives one case of a calibration-off run, with the confidence floor ``floor`` (None:
    the calibrator's own fitted floor)."""
    from assistant.answer.judging import settle

    signals = case.get("signals") or {}
    if case.get("status") == "abstained" or case.get("error"):
        return "abstained"
    confidence = calibrator.probability(signals)
    form = "quote" if signals.get("form_quote") == 1.0 else "answer"  # partial and calculation: see verifiable()
    chosen_floor = calibrator.abstain_below if floor is None else floor
    return settle(form, confidence, chosen_floor, calibrator.verified_threshold(signals), signals)


def tally(cases: list[dict[str, Any]], calibrator: Any, floor: float | None = None) -> dict[str, Any]:
    """Per status: answers and right answers; and the accuracy over every case."""
    given: Counter[str] = Counter()
    right: Counter[str] = Counter()
    correct = 0
    for case in cases:
        label = status(case, calibrator, floor)
        unanswerable = case.get("kind") == "unanswerable"
        given[label] += 1
        ok = (label == "abstained") if unanswerable else (label != "abstained" and bool(case.get("correct")))
        right[label] += ok
        correct += ok
    return {"cases": len(cases), "accuracy": correct / len(cases) if cases else 0.0, "given": given, "right": right}


def main() -> None:
    from assistant.checks.calibration import Calibrator
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="results.json of runs with calibration off")
    parser.add_argument("--calibrator", action="append", type=Path, required=True, help="a calibrator file")
    parser.add_argument(
        "--floor",
        type=float,
        default=Settings().trust.abstain_below,
        help="confidence floor (default: the shipped trust.abstain_below; a negative value: each calibrator's own)",
    )
    args = parser.parse_args()
    floor = None if args.floor is None or args.floor < 0 else args.floor
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.results]
    print("| calibrator | suite | accuracy | " + " | ".join(f"{s}: right of given" for s in STATUSES) + " |")
    print("|---|---|---|" + "---|" * len(STATUSES))
    for path in args.calibrator:
        calibrator = Calibrator.from_json(path.read_text(encoding="utf-8"))
        every: list[dict[str, Any]] = []
        for run in runs:
            every += run["cases"]
            _row(path.name, str(run.get("suite", "")), tally(run["cases"], calibrator, floor))
        if len(runs) > 1:
            _row(path.name, "all", tally(every, calibrator, floor))


def _row(name: str, suite: str, counts: dict[str, Any]) -> None:
    cells = [f"{counts['right'][s]} of {counts['given'][s]}" for s in STATUSES]
    print(f"| {name} | {suite} | {counts['accuracy']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
