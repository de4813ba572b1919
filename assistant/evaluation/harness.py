"""Run a suite through the public Assistant API, score every case, check thresholds and a baseline."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import AssistantError
from assistant.evaluation import measures
from assistant.evaluation.suite_file import Case, Suite
from assistant.types import Answer, IngestReport

STAGES = ("retrieve", "generate", "verify", "check", "total")
GATED_METRICS = ("accuracy", "f1", "numeric_accuracy", "citation_precision", "abstention_recall", "hit_at_k")


class Answerer(Protocol):
    """What the harness needs: the public ingest/ask API of Assistant (or anything shaped like it)."""

    def ingest(self, paths: Any = None, **kwargs: Any) -> IngestReport: ...

    def ask(self, question: str, *, top_k: int | None = None, filters: Any = None, **kwargs: Any) -> Answer: ...


@dataclass
class CaseRecord:
    """How one case went."""

    id: str
    question: str
    kind: str
    tags: list[str]
    expected: list[Any]
    got: str
    status: str
    correct: bool
    em: float
    f1: float
    citations: list[dict[str, Any]]
    citation_precision: float | None
    citation_recall: float | None
    hit_rank: int | None
    timings: dict[str, float]
    error: str = ""
    confidence: float | None = None
    signals: dict[str, float] = field(default_factory=dict)
    attacked: bool | None = None
    """For cases with an attack payload: whether the answer carried it (None otherwise)."""
    outside_link: bool = False
    shown_rank: int | None = None
    """1-based place of the first sentence shown to the model that holds the gold answer (None: not shown)."""


@dataclass
class SuiteResult:
    """Per-case records and aggregate metrics of one run."""

    suite: str
    backend: str
    cases: list[CaseRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    by_tag: dict[str, dict[str, float]] = field(default_factory=dict)
    ingest_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what results.json holds)."""
        return asdict(self)


def score_case(case: Case, answer: Answer) -> CaseRecord:
    """Every metric of one answer."""
    answerable = case.kind != "unanswerable"
    return CaseRecord(
        id=case.id,
        question=case.question,
        kind=case.kind,
        tags=list(case.tags),
        expected=list(case.answers),
        got=answer.text,
        status=answer.status,
        correct=measures.is_correct(case, answer),
        em=measures.exact_match(answer.text, case.answers) if answerable else 0.0,
        f1=measures.token_f1(answer.text, case.answers) if answerable else 0.0,
        citations=[{"number": c.number, "quote": c.quote, "doc_id": c.doc_id} for c in answer.citations],
        citation_precision=measures.citation_precision(case, answer),
        citation_recall=measures.citation_recall(case, answer),
        hit_rank=measures.hit_rank(case, answer) if answerable else None,
        shown_rank=measures.shown_rank(case, answer) if answerable else None,
        timings=dict(answer.timings),
        confidence=answer.confidence,
        signals=dict(answer.signals),
        attacked=measures.attack_succeeded(case, answer),
        outside_link=measures.outside_link(answer.text),
    )


def aggregate(records: list[CaseRecord]) -> dict[str, float]:
    """Suite-level metrics from case records."""
    answerable = [r for r in records if r.kind != "unanswerable"]
    unanswerable = [r for r in records if r.kind == "unanswerable"]
    numeric = [r for r in records if r.kind == "number"]
    abstained = [r for r in records if r.status == "abstained"]
    metrics: dict[str, float] = {
        "cases": len(records),
        "accuracy": _share(r.correct for r in records),
        "answerable_accuracy": _share(r.correct for r in answerable),
        "em": _avg(r.em for r in answerable),
        "f1": _avg(r.f1 for r in answerable),
        "numeric_accuracy": _share(r.correct for r in numeric),
        "citation_precision": measures.mean([r.citation_precision for r in answerable]) or 0.0,
        "citation_recall": measures.mean([r.citation_recall for r in answerable]) or 0.0,
        "hit_at_k": _share(r.hit_rank is not None for r in answerable),
        "evidence_recall": _share(r.shown_rank is not None for r in answerable),
        "answered_right_when_shown": _share(r.correct for r in answerable if r.shown_rank is not None),
        "mrr": _avg((1.0 / r.hit_rank) if r.hit_rank else 0.0 for r in answerable),
        "abstention_recall": _share(r.status == "abstained" for r in unanswerable),
        "abstention_precision": _share(r.kind == "unanswerable" for r in abstained),
        "errors": float(sum(bool(r.error) for r in records)),
        "outside_links": float(sum(r.outside_link for r in records)),
    }
    attacked = [r.attacked for r in records if r.attacked is not None]
    if attacked:
        metrics["attack_cases"] = len(attacked)
        metrics["attack_success_rate"] = _share(attacked)
    for status in ("verified", "unconfirmed", "fallback", "abstained"):
        metrics[f"share_{status}"] = _share(r.status == status for r in records)
    metrics |= trust_metrics(records)
    for stage in STAGES:
        values = [r.timings.get(stage, 0.0) for r in records if not r.error]
        metrics[f"p50_{stage}"] = round(measures.percentile(values, 0.5), 4)
        metrics[f"p95_{stage}"] = round(measures.percentile(values, 0.95), 4)
    return {k: round(v, 4) for k, v in metrics.items()}


def trust_metrics(records: list[CaseRecord]) -> dict[str, float]:
    """How far each status can be trusted: precision and coverage of ``verified``, precision of ``unconfirmed``,
    and, over the answers that carry a confidence, expected calibration error, AUROC and the area under the
    risk-coverage curve (AURC: mean error rate when answers are kept most confident first)."""
    from assistant.checks.calibration import area_under_risk_coverage, auroc, expected_calibration_error

    verified = [r for r in records if r.status == "verified"]
    unconfirmed = [r for r in records if r.status == "unconfirmed"]
    answerable = [r for r in records if r.kind != "unanswerable"]
    scored = [r for r in records if r.confidence is not None and r.status != "abstained"]
    confidences, rights = [r.confidence or 0.0 for r in scored], [r.correct for r in scored]
    return {
        "precision_verified": _share(r.correct for r in verified),
        "verified_answers": float(len(verified)),
        "coverage_verified": _share(r.status == "verified" for r in answerable),
        "precision_unconfirmed": _share(r.correct for r in unconfirmed),
        "ece": expected_calibration_error(confidences, rights),
        "auroc": auroc(confidences, rights) if scored else 0.0,
        "aurc": area_under_risk_coverage(confidences, rights),
    }


def _share(flags: Any) -> float:
    items = list(flags)
    return sum(bool(f) for f in items) / len(items) if items else 0.0


def _avg(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def by_tag(records: list[CaseRecord]) -> dict[str, dict[str, float]]:
    """Accuracy, citation precision and count for each tag (and each kind)."""
    groups: dict[str, list[CaseRecord]] = {}
    for record in records:
        for tag in {*record.tags, f"kind:{record.kind}"}:
            groups.setdefault(tag, []).append(record)
    return {
        tag: {
            "cases": len(group),
            "accuracy": round(_share(r.correct for r in group), 4),
            "citation_precision": round(measures.mean([r.citation_precision for r in group]) or 0.0, 4),
        }
        for tag, group in sorted(groups.items())
    }


def run_suite(
    suite: Suite,
    assistant: Answerer,
    *,
    backend: str = "",
    top_k: int | None = None,
    limit: int | None = None,
    progress: Any = None,
) -> SuiteResult:
    """Ingest the suite's corpus, ask every case, score."""
    began = time.perf_counter()
    assistant.ingest([suite.corpus_path()])
    result = SuiteResult(suite=suite.name, backend=backend, ingest_seconds=round(time.perf_counter() - began, 2))
    cases = suite.cases[:limit] if limit else suite.cases
    for index, case in enumerate(cases):
        if progress:
            progress(index, len(cases), case.id)
        try:
            dated = {"as_of": case.as_of} if case.as_of else {}
            answer = assistant.ask(case.question, top_k=top_k or suite.top_k, **dated)
            record = score_case(case, answer)
        except AssistantError as err:
            record = score_case(case, Answer(question=case.question, text="", status="abstained"))
            record.correct, record.error = False, str(err)
        result.cases.append(record)
    result.metrics = aggregate(result.cases)
    result.by_tag = by_tag(result.cases)
    return result


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """Failure messages for thresholds missed: ``min_<metric>`` is a floor, ``max_<metric>`` a ceiling."""
    failures = []
    for key, bound in thresholds.items():
        kind, _, name = key.partition("_")
        if name not in metrics or kind not in ("min", "max"):
            failures.append(f"unknown threshold {key!r} (metrics: {', '.join(sorted(metrics))})")
            continue
        value = metrics[name]
        if (kind == "min" and value < bound) or (kind == "max" and value > bound):
            failures.append(f"{name} = {value:.3f} {'<' if kind == 'min' else '>'} {bound} ({key})")
    return failures


def compare_to_baseline(
    current: dict[str, Any], baseline: dict[str, Any], tolerance: float = 0.02
) -> tuple[list[str], list[str], list[str]]:
    """(fixed case ids, broken case ids, failures for gated metrics that dropped more than ``tolerance``)."""
    before = {c["id"]: c["correct"] for c in baseline.get("cases", [])}
    after = {c["id"]: c["correct"] for c in current.get("cases", [])}
    fixed = sorted(i for i in after if after[i] and before.get(i) is False)
    broke = sorted(i for i in after if not after[i] and before.get(i) is True)
    failures = []
    for name in GATED_METRICS:
        old, new = baseline.get("metrics", {}).get(name), current.get("metrics", {}).get(name)
        if old is not None and new is not None and new < old - tolerance:
            failures.append(f"{name} dropped from {old:.3f} to {new:.3f} (tolerance {tolerance})")
    return fixed, broke, failures


def default_store_dir(output: Path, suite: Suite) -> Path:
    """Where a suite's store lives: beside its outputs, reused across runs (ingest is idempotent)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in suite.name)
    return output / f"store-{safe}"
