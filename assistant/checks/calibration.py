"""The calibrator: signals of an answer -> the probability that it is right, and the thresholds of each status.

A logistic regression over standardized signals (missing ones imputed with their training mean), fitted by
Newton's method with an L2 penalty. Thresholds are chosen on out-of-fold predictions, so they are not tuned on the
same answers the weights were fitted to. Weights ship as JSON beside this module, one file per model.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

CALIBRATION_PACKAGE = "assistant.calibrations"


@dataclass(frozen=True)
class Example:
    """One answer the engine gave, its signals, and whether it was right."""

    signals: Mapping[str, float]
    correct: bool
    answerable: bool = True
    group: str = ""
    """Where it came from (suite name), for per-source reports."""


@dataclass(frozen=True)
class Calibrator:
    """Logistic regression from named signals to P(answer is right), with the status thresholds."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    verified_at: float
    """Confidence at or above which an answer is shown as verified."""
    abstain_below: float
    """Confidence below which the assistant abstains instead of showing the answer."""
    info: dict[str, Any] = field(default_factory=dict)
    verified_at_by_form: dict[str, float] = field(default_factory=dict)
    """Thresholds of their own for answers of one form, named by the signal that marks it ("calculated" = 1):
    each picked on answers of that form alone, as ``verified_at`` is on all of them."""

    consistency_stage: Calibrator | None = None
    """A second calibrator over (the log-odds of this one's confidence, the share of sampled answers that agree) for
    written answers checked for self-consistency; its ``verified_at`` is their verified threshold."""

    def with_consistency(self, confidence: float, agreement: float) -> float:
        """P(right) of a written answer of ``confidence`` whose sampled answers agreed with it ``agreement`` of the
        time (``confidence`` unchanged when there is no consistency stage)."""
        if self.consistency_stage is None:
            return confidence
        return self.consistency_stage.probability(consistency_features(confidence, agreement))

    def consistency_gate(self) -> float | None:
        """The lowest confidence at which an answer whose every sample agrees reaches the consistency stage's
        verified threshold (None when no confidence can): below it, sampling could not change the status."""
        stage = self.consistency_stage
        if stage is None or self.with_consistency(1.0 - 1e-9, 1.0) < stage.verified_at:
            return None
        low, high = 1e-9, 1.0 - 1e-9
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (low, middle) if self.with_consistency(middle, 1.0) >= stage.verified_at else (middle, high)
        return high

    def verified_threshold(self, signals: Mapping[str, float]) -> float:
        """The confidence an answer with these signals needs to be shown as verified."""
        for form, threshold in sorted(self.verified_at_by_form.items()):
            if feature_value(signals, form) == 1.0:
                return threshold
        return self.verified_at

    def probability(self, signals: Mapping[str, float]) -> float:
        """P(right) for one answer's signals."""
        z = self.bias
        for name, mean, scale, weight in zip(self.features, self.means, self.scales, self.weights, strict=True):
            value = feature_value(signals, name)
            z += weight * (((mean if value is None else value) - mean) / scale)
        return _sigmoid(z)

    def to_json(self) -> str:
        """The calibrator as JSON (what ships in the package)."""
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        """Read a calibrator written by ``to_json``."""
        data = json.loads(text)
        for key in ("features", "means", "scales", "weights"):
            data[key] = tuple(data[key])
        data["verified_at_by_form"] = {str(k): float(v) for k, v in data.get("verified_at_by_form", {}).items()}
        stage = data.get("consistency_stage")
        data["consistency_stage"] = None if stage is None else cls.from_json(json.dumps(stage))
        return cls(**data)


CONSISTENCY_FEATURES = ("base_logit", "sample_agreement")


def consistency_features(confidence: float, agreement: float) -> dict[str, float]:
    """The consistency stage's inputs: the first confidence as log-odds, and the sampled answers' agreement."""
    clipped = min(max(confidence, 1e-6), 1 - 1e-6)
    return {"base_logit": math.log(clipped / (1 - clipped)), "sample_agreement": agreement}


def feature_value(signals: Mapping[str, float], name: str) -> float | None:
    """A signal by name; "a*b" is the product of two signals (a signal that matters for one kind of answer only)."""
    value = 1.0
    for part in name.split("*"):
        found = signals.get(part)
        if found is None:
            return None
        value *= float(found)
    return value


def calibration_file_name(model: str) -> str:
    """File name of a model's calibration ("qwen2.5-coder-1.5b" -> "qwen2.5-coder-1.5b.json")."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in Path(model).name)
    return f"{safe}.json"


def load_calibrator(model: str, path: Path | None = None) -> Calibrator | None:
    """The calibrator at ``path``, else the one shipped for ``model``; None when there is none. A file at ``path``
    that cannot be read as a calibrator is a SettingsError naming it."""
    if path is not None:
        try:
            return Calibrator.from_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
            from assistant.errors import SettingsError

            raise SettingsError(
                f"The calibrator file {path} (trust.calibration_file) cannot be used: {type(err).__name__}: {err}. "
                "Point it at a file written by `assistant eval calibrate`, or unset it to use the shipped one."
            ) from None
    resource = resources.files(CALIBRATION_PACKAGE) / calibration_file_name(model)
    if not resource.is_file():
        return None
    return Calibrator.from_json(resource.read_text(encoding="utf-8"))


# -- fitting ----------------------------------------------------------------------------------------------------------
def fit_logistic(
    rows: Sequence[Sequence[float]], labels: Sequence[bool], l2: float = 1.0, iterations: int = 50
) -> tuple[list[float], float]:
    """Weights and bias of an L2-penalized logistic regression (Newton's method; rows already standardized)."""
    import numpy as np

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=float)
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    penalty = np.eye(d + 1) * l2
    penalty[d, d] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(d + 1), gradient)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return [float(b) for b in beta[:d]], float(beta[d])


def _standardizer(examples: Sequence[Example], features: Sequence[str]) -> tuple[list[float], list[float]]:
    means, scales = [], []
    for name in features:
        present = (feature_value(e.signals, name) for e in examples)
        values = [v for v in present if v is not None]
        mean = sum(values) / len(values) if values else 0.0
        var = sum((v - mean) ** 2 for v in values) / len(values) if values else 0.0
        means.append(mean)
        scales.append(math.sqrt(var) or 1.0)
    return means, scales


def _matrix(examples: Sequence[Example], features: Sequence[str], means: Sequence[float], scales: Sequence[float]):
    rows = []
    for e in examples:
        values = (feature_value(e.signals, f) for f in features)
        rows.append([((m if v is None else v) - m) / s for v, m, s in zip(values, means, scales, strict=True)])
    return rows


def _fit(examples: Sequence[Example], features: Sequence[str], l2: float) -> Calibrator:
    means, scales = _standardizer(examples, features)
    weights, bias = fit_logistic(_matrix(examples, features, means, scales), [e.correct for e in examples], l2)
    return Calibrator(tuple(features), tuple(means), tuple(scales), tuple(weights), bias, 1.0, 0.0)


def out_of_fold(examples: Sequence[Example], features: Sequence[str], l2: float, folds: int = 5) -> list[float]:
    """Each example's probability from a model fitted on the other folds (a fixed shuffle, so runs repeat)."""
    order = list(range(len(examples)))
    random.Random(13).shuffle(order)
    predictions = [0.0] * len(examples)
    for fold in range(folds):
        held = set(order[fold::folds])
        train = [e for i, e in enumerate(examples) if i not in held]
        model = _fit(train, features, l2)
        for i in held:
            predictions[i] = model.probability(examples[i].signals)
    return predictions


def precision_threshold(scores: Sequence[float], correct: Sequence[bool], target: float, min_count: int = 20) -> float:
    """The lowest score t such that answers scoring >= t are right at least ``target`` of the time (1.0 if none)."""
    pairs = sorted(zip(scores, correct, strict=True), key=lambda p: -p[0])
    best = 1.0
    right = 0
    for index, (score, ok) in enumerate(pairs, start=1):
        right += ok
        next_score = pairs[index][0] if index < len(pairs) else -1.0
        if next_score == score:
            continue  # a threshold cannot split equal scores
        if index >= min_count and right / index >= target:
            best = score
    return best


def accuracy_floor(scores: Sequence[float], correct: Sequence[bool], answerable: Sequence[bool]) -> float:
    """The abstention floor that maximizes accuracy: an answer counts if right, an abstention if unanswerable."""
    pairs = sorted(zip(scores, correct, answerable, strict=True), key=lambda p: p[0])
    kept_right = sum(c for _, c, _ in pairs)
    best_value, best_floor = kept_right, 0.0
    abstained_right = 0
    for index, (score, ok, can) in enumerate(pairs):
        kept_right -= ok
        abstained_right += not can
        next_score = pairs[index + 1][0] if index + 1 < len(pairs) else 1.0
        if next_score == score:
            continue
        value = kept_right + abstained_right
        if value > best_value:
            best_value, best_floor = value, (score + next_score) / 2
    return best_floor


def fit_calibrator(
    examples: Sequence[Example],
    features: Sequence[str],
    *,
    l2: float = 1.0,
    target_precision: float = 0.9,
    info: Mapping[str, Any] | None = None,
    forms: Sequence[str] = (),
) -> Calibrator:
    """Fit on every example; pick the thresholds (overall, and of each of ``forms``) on out-of-fold predictions."""
    if len(examples) < 20 or len({e.correct for e in examples}) < 2:
        raise ValueError("Calibration needs at least 20 answers, some right and some wrong.")
    oof = out_of_fold(examples, features, l2)
    correct = [e.correct for e in examples]
    verified_at = precision_threshold(oof, correct, target_precision)
    floor = min(accuracy_floor(oof, correct, [e.answerable for e in examples]), verified_at)
    model = _fit(examples, features, l2)
    details = dict(info or {})
    details["out_of_fold"] = summarize(oof, correct, verified_at)
    by_form, details["forms"] = form_thresholds(oof, examples, forms, target_precision)
    return Calibrator(
        model.features, model.means, model.scales, model.weights, model.bias, verified_at, floor, details, by_form
    )


MIN_FORM_ANSWERS = 20
"""Fewest answers of a form (that could be verified at all) on which its threshold is picked."""


def with_form_thresholds(
    calibrator: Calibrator,
    examples: Sequence[Example],
    forms: Sequence[str],
    *,
    target_precision: float = 0.9,
) -> Calibrator:
    """The calibrator, weights kept, with a verified threshold of its own for each form, picked on ``examples``.

    ``examples`` must be answers the weights were not fitted on (a new run), so that no threshold is tuned on
    answers the calibrator has already seen. A form with fewer than ``MIN_FORM_ANSWERS`` verifiable answers among
    them keeps its threshold.
    """
    scores = [calibrator.probability(e.signals) for e in examples]
    thresholds, details = form_thresholds(scores, examples, forms, target_precision)
    # A form with too few answers here to pick a threshold keeps the one it had.
    enough = {form for form in forms if details[form]["answers"] >= MIN_FORM_ANSWERS}
    thresholds = {form: value for form, value in thresholds.items() if form in enough}
    details = {form: value for form, value in details.items() if form in enough}
    info = {**calibrator.info, "forms": {**calibrator.info.get("forms", {}), **details}}
    return replace(calibrator, verified_at_by_form={**calibrator.verified_at_by_form, **thresholds}, info=info)


def with_consistency_stage(
    calibrator: Calibrator,
    examples: Sequence[Example],
    *,
    target_precision: float = 0.9,
    l2: float = 1.0,
    info: Mapping[str, Any] | None = None,
) -> Calibrator:
    """The calibrator, weights kept, with a consistency stage fitted on the written answers among ``examples`` that
    carry a ``sample_agreement`` signal (answers of a new run, not those the weights were fitted on); its verified
    threshold is picked out of fold, as ``fit_calibrator`` picks the first one."""
    members = [
        Example(
            signals=consistency_features(calibrator.probability(e.signals), e.signals["sample_agreement"]),
            correct=e.correct,
            answerable=e.answerable,
            group=e.group,
        )
        for e in examples
        if "sample_agreement" in e.signals and e.signals.get("calculated") != 1.0 and verifiable(e.signals)
    ]
    stage = fit_calibrator(members, CONSISTENCY_FEATURES, l2=l2, target_precision=target_precision)
    details = {**(info or {}), "out_of_fold": stage.info["out_of_fold"]}
    return replace(calibrator, consistency_stage=replace(stage, info=details))


def verifiable(signals: Mapping[str, float]) -> bool:
    """False for an answer the engine never labels verified, whatever its confidence: a quote, an answer with claims
    removed, or a calculation with an operand not supported by its sentence, moved to another sentence, or taken
    from another article than the rest (answers written before a signal existed pass on that signal)."""
    if signals.get("form_quote") == 1.0 or signals.get("form_partial") == 1.0:
        return False
    if signals.get("calculated") != 1.0:
        return True
    return (
        signals.get("calc_supported_share", 1.0) == 1.0
        and not signals.get("calc_recited_share")
        and signals.get("calc_articles", 1.0) <= 1.0
    )


def form_thresholds(
    scores: Sequence[float],
    examples: Sequence[Example],
    forms: Sequence[str],
    target: float,
    min_count: int = MIN_FORM_ANSWERS,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Per form, the verified threshold picked on that form's answers alone, those that can be verified at all
    (1.0, never, when too few reach ``target``), and the quality at it."""
    thresholds: dict[str, float] = {}
    details: dict[str, dict[str, float]] = {}
    for form in forms:
        members = [i for i, e in enumerate(examples) if feature_value(e.signals, form) == 1.0 and verifiable(e.signals)]
        form_scores = [scores[i] for i in members]
        correct = [examples[i].correct for i in members]
        thresholds[form] = precision_threshold(form_scores, correct, target, min_count)
        details[form] = summarize(form_scores, correct, thresholds[form])
    return thresholds, details


# -- measures of calibration ----------------------------------------------------------------------------------------
def summarize(scores: Sequence[float], correct: Sequence[bool], verified_at: float) -> dict[str, float]:
    """Precision and coverage at the verified threshold, AUROC, ECE and AURC."""
    chosen = [c for s, c in zip(scores, correct, strict=True) if s >= verified_at]
    return {
        "answers": len(scores),
        "right": sum(correct),
        "precision_at_verified": round(sum(chosen) / len(chosen), 4) if chosen else 0.0,
        "share_at_verified": round(len(chosen) / len(scores), 4) if scores else 0.0,
        "auroc": round(auroc(scores, correct), 4),
        "ece": round(expected_calibration_error(scores, correct), 4),
        "aurc": round(area_under_risk_coverage(scores, correct), 4),
    }


def auroc(scores: Sequence[float], correct: Sequence[bool]) -> float:
    """Probability that a right answer scores above a wrong one (ties count half)."""
    right = [s for s, c in zip(scores, correct, strict=True) if c]
    wrong = [s for s, c in zip(scores, correct, strict=True) if not c]
    if not right or not wrong:
        return 0.5
    ordered = sorted([(s, 1) for s in right] + [(s, 0) for s in wrong])
    rank_sum, index = 0.0, 0
    while index < len(ordered):
        end = index
        while end < len(ordered) and ordered[end][0] == ordered[index][0]:
            end += 1
        mid_rank = (index + end + 1) / 2
        rank_sum += mid_rank * sum(label for _, label in ordered[index:end])
        index = end
    return (rank_sum - len(right) * (len(right) + 1) / 2) / (len(right) * len(wrong))


def expected_calibration_error(scores: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by bin size."""
    if not scores:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            (s, c) for s, c in zip(scores, correct, strict=True) if low <= s < high or (b == bins - 1 and s == 1)
        ]
        if members:
            confidence = sum(s for s, _ in members) / len(members)
            accuracy = sum(c for _, c in members) / len(members)
            total += len(members) * abs(confidence - accuracy)
    return total / len(scores)


def risk_coverage(scores: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, float]]:
    """(coverage, risk) after each answer, most confident first: risk is the share of wrong answers kept."""
    pairs = sorted(zip(scores, correct, strict=True), key=lambda p: -p[0])
    curve, wrong = [], 0
    for index, (_, ok) in enumerate(pairs, start=1):
        wrong += not ok
        curve.append((index / len(pairs), wrong / index))
    return curve


def area_under_risk_coverage(scores: Sequence[float], correct: Sequence[bool]) -> float:
    """Mean risk over the risk-coverage curve (lower is better; the error rate when confidence is uninformative)."""
    curve = risk_coverage(scores, correct)
    return sum(risk for _, risk in curve) / len(curve) if curve else 0.0


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
