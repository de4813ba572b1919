"""`assistant eval calibrate`: collect answers with their signals, label them right or wrong, fit the calibrator."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.checks.calibration import (
    Calibrator,
    Example,
    calibration_file_name,
    fit_calibrator,
    summarize,
    with_consistency_stage,
    with_form_thresholds,
)
from assistant.checks.signals import abstain_log
from assistant.errors import AssistantError

# Signals the calibrator is fitted on; a backend that lacks one (no log-probabilities, no yes/no check) gets its
# mean, and so do the calc_* signals of an answer that was not computed (they speak only among computed ones).
# A lean set: on the calibration splits, adding the question-type, alignment and agreement signals raised
# in-sample fit but lowered the share of answers that reached 0.9 out-of-fold precision (none at all with every
# signal), i.e. they overfit the articles they were fitted on.
FEATURES = (
    "abstain_log",
    "lp_mean",
    "lp_min",
    "lp_first",
    "best_relevance",
    "relevance_margin",
    "cited_relevance",
    "cited_coverage",
    "window_coverage",
    "form_answer",
    "form_partial",
    "form_quote",
    "retried",
    "q_choice",
    "q_compute",
    "a_number",
    "calculated",
    "calc_found_share",
    "calc_supported_share",
    "calc_check_yes",
)
L2 = 10.0
"""Ridge penalty of the fit (standardized features); 10 did best out of fold among 3, 10 and 30."""
FORMS = ("calculated",)
"""Answer forms that get a verified threshold of their own: a calculation is right or wrong for other reasons
(which operands, which operation) than a span copied from a sentence, so one threshold over both would let the
more common form set the bar for the other."""


def examples_from_results(results: dict[str, Any]) -> list[Example]:
    """Answered cases of a results.json (abstentions carry no answer to judge) as calibration examples."""
    return list(_examples_by_case(results).values())


def _examples_by_case(results: dict[str, Any]) -> dict[str, Example]:
    examples: dict[str, Example] = {}
    for case in results.get("cases", []):
        if case.get("status") == "abstained" or case.get("error") or not case.get("signals"):
            continue
        signals = dict(case["signals"])
        if "abstain_first" in signals and "abstain_log" not in signals:  # results written before abstain_log
            signals["abstain_log"] = abstain_log(signals["abstain_first"])
        signals.setdefault("calculated", 0.0)  # results written before every answer said whether it was computed
        examples[str(case.get("id", len(examples)))] = Example(
            signals=signals,
            correct=bool(case["correct"]),
            answerable=case.get("kind") != "unanswerable",
            group=str(results.get("suite", "")),
        )
    return examples


def collect(
    suite_path: Path, output: Path, *, limit: int | None = None, backend: str | None = None
) -> tuple[dict[str, Any], str]:
    """Run one suite with calibration off (statuses not yet decided by confidence); (results, model name)."""
    from assistant.evaluation.harness import default_store_dir, run_suite
    from assistant.evaluation.suite_assistant import make_suite_assistant as _assistant
    from assistant.evaluation.suite_file import load_suite

    suite = load_suite(suite_path)
    overrides = {**suite.settings, "trust": {**suite.settings.get("trust", {}), "calibrated": False}}
    run_dir = output / f"run-{suite.name}"
    assistant = _assistant(overrides, backend, default_store_dir(run_dir, suite))
    described = assistant.describe()
    model = described["model"] or described["backend"]

    def progress(done: int, total: int, case_id: str) -> None:
        if done % 10 == 0:
            print(f"{suite.name}: {done}/{total}", file=sys.stderr, flush=True)

    label = f"{described['backend']}:{model}"
    result = run_suite(suite, assistant, backend=label, limit=limit, progress=progress).to_dict()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result, model


def calibrate(
    inputs: Sequence[Path],
    output: Path,
    *,
    write: Path | None = None,
    target_precision: float = 0.9,
    limit: int | None = None,
    backend: str | None = None,
    keep_weights: Path | None = None,
) -> tuple[Path, str]:
    """Collect or read each input, fit, write the calibrator; (its path, a short report).

    A case answered in more than one input counts once, as the last input answered it (a newer run of the same
    questions replaces the older one). With ``keep_weights``, that calibrator's weights and overall thresholds are
    kept and only the thresholds of each answer form (``FORMS``) are picked, on the inputs: answers it was not
    fitted on.
    """
    by_case: dict[str, Example] = {}
    model = ""
    for path in inputs:
        if path.suffix == ".json":
            try:
                results = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise AssistantError(f"cannot read {path}: {err}") from err
            model = model or str(results.get("backend", "")).split(":")[-1]
        else:
            results, model = collect(path, output, limit=limit, backend=backend)
        by_case.update(_examples_by_case(results))
    examples = list(by_case.values())
    info = {"model": model, "inputs": [str(p) for p in inputs], "target_precision": target_precision}
    try:
        if keep_weights is not None:
            kept = _read_calibrator(keep_weights)
            calibrator = with_form_thresholds(kept, examples, FORMS, target_precision=target_precision)
            if calibrator.info.get("forms") != kept.info.get("forms"):  # some form had answers enough to re-pick
                calibrator = replace(calibrator, info={**calibrator.info, "form_inputs": info["inputs"]})
            if any("sample_agreement" in e.signals for e in examples):
                calibrator = with_consistency_stage(
                    calibrator, examples, target_precision=target_precision, info={"inputs": info["inputs"]}
                )
        else:
            calibrator = fit_calibrator(
                examples, FEATURES, l2=L2, target_precision=target_precision, info=info, forms=FORMS
            )
    except ValueError as err:
        raise AssistantError(str(err)) from err
    target = write or output / calibration_file_name(model or "model")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(calibrator.to_json(), encoding="utf-8")
    return target, report(calibrator, examples)


def _read_calibrator(path: Path) -> Calibrator:
    try:
        return Calibrator.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as err:
        raise AssistantError(f"cannot read the calibrator {path}: {err}") from err


def report(calibrator: Calibrator, examples: Sequence[Example]) -> str:
    """Thresholds, out-of-fold quality and in-sample quality per source."""
    lines = [
        f"verified at confidence >= {calibrator.verified_at:.3f}; abstain below {calibrator.abstain_below:.3f}",
        f"out of fold: {json.dumps(calibrator.info.get('out_of_fold', {}))}",
    ]
    for form, threshold in sorted(calibrator.verified_at_by_form.items()):
        at_threshold = json.dumps(calibrator.info.get("forms", {}).get(form, {}))
        lines.append(f"{form} answers: verified at confidence >= {threshold:.3f}; {at_threshold}")
    stage = calibrator.consistency_stage
    if stage is not None:
        gate = calibrator.consistency_gate()
        lines.append(
            f"written answers sampled for self-consistency from confidence {gate if gate is None else round(gate, 3)};"
            f" verified at consistency-stage confidence >= {stage.verified_at:.3f};"
            f" out of fold: {json.dumps(stage.info.get('out_of_fold', {}))}"
        )
    for group in sorted({e.group for e in examples}):
        members = [e for e in examples if e.group == group]
        scores = [calibrator.probability(e.signals) for e in members]
        quality = summarize(scores, [e.correct for e in members], calibrator.verified_at)
        lines.append(f"{group} (in sample): {json.dumps(quality)}")
    weights = sorted(zip(calibrator.features, calibrator.weights, strict=True), key=lambda p: -abs(p[1]))
    lines.append("weights: " + ", ".join(f"{name} {weight:+.2f}" for name, weight in weights))
    return "\n".join(lines)
