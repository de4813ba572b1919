"""Eval outputs: console table, results.json, junit.xml, report.md with a bar chart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from assistant.evaluation.harness import SuiteResult

HEADLINE = (
    "accuracy",
    "answerable_accuracy",
    "em",
    "f1",
    "numeric_accuracy",
    "citation_precision",
    "citation_recall",
    "hit_at_k",
    "evidence_recall",
    "answered_right_when_shown",
    "mrr",
    "abstention_precision",
    "abstention_recall",
    "precision_verified",
    "coverage_verified",
    "precision_unconfirmed",
    "ece",
    "auroc",
    "aurc",
    "share_verified",
    "share_unconfirmed",
    "share_fallback",
    "share_abstained",
    "attack_success_rate",
    "outside_links",
    "p50_total",
    "p95_total",
    "p50_retrieve",
    "p50_generate",
    "p50_verify",
)


def stage_losses(result: SuiteResult) -> str:
    """Where answerable cases were lost, one line: gold retrieved -> shown to the model -> answered right."""
    answerable = [c for c in result.cases if c.kind != "unanswerable"]
    if not answerable:
        return ""
    retrieved = sum(c.hit_rank is not None for c in answerable)
    shown = sum(c.shown_rank is not None for c in answerable)
    right = sum(c.correct for c in answerable)
    right_shown = sum(c.correct and c.shown_rank is not None for c in answerable)
    return (
        f"Stages ({len(answerable)} answerable): gold in the retrieved passages {retrieved}, in the sentences "
        f"shown to the model {shown}, answered right {right} ({right_shown} of them from shown sentences)."
    )


def freshness_line(result: SuiteResult) -> str:
    """How often answers that cite only old articles are right, against the others (dated suites only)."""
    shown = [c for c in result.cases if c.status != "abstained" and "cited_stale" in c.signals]
    if not shown:
        return ""
    stale = [c for c in shown if c.signals["cited_stale"]]
    fresh = [c for c in shown if not c.signals["cited_stale"]]
    return (
        f"Freshness ({len(shown)} dated answers shown): citing only articles older than trust.stale_after_days "
        f"{len(stale)} ({sum(c.correct for c in stale)} right), citing a fresher one {len(fresh)} "
        f"({sum(c.correct for c in fresh)} right)."
    )


def print_table(result: SuiteResult, console: Any) -> None:
    """Metrics as a rich table, then the stage-loss line."""
    from rich.table import Table

    table = Table(title=f"{result.suite} ({result.backend}, {len(result.cases)} cases)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in HEADLINE:
        if name in result.metrics:
            table.add_row(name, f"{result.metrics[name]:.3f}")
    console.print(table)
    for line in (stage_losses(result), freshness_line(result)):
        if line:
            console.print(line)


def write_json(result: SuiteResult, path: Path, extra: dict[str, Any] | None = None) -> None:
    """Everything, as results.json."""
    data = result.to_dict() | (extra or {})
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def write_junit(result: SuiteResult, path: Path) -> None:
    """One <testcase> per question; a failure shows expected vs got, the status and the cited quotes."""
    failures = sum(not c.correct for c in result.cases)
    total_time = sum(c.timings.get("total", 0.0) for c in result.cases)
    suite = ET.Element(
        "testsuite",
        name=result.suite,
        tests=str(len(result.cases)),
        failures=str(failures),
        errors="0",
        time=f"{total_time:.3f}",
    )
    for case in result.cases:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=f"eval.{result.suite}",
            name=case.id,
            time=f"{case.timings.get('total', 0.0):.3f}",
        )
        if not case.correct:
            quotes = "; ".join(f"[{c['number']}] {c['quote']}" for c in case.citations) or "none"
            message = f"expected {case.expected or 'an abstention'} ({case.kind}), got {case.got!r} [{case.status}]"
            failure = ET.SubElement(element, "failure", message=message)
            failure.text = f"question: {case.question}\n{message}\ncitations: {quotes}\n{case.error}".strip()
    root = ET.Element("testsuites", name="assistant-eval")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_chart(result: SuiteResult, path: Path) -> None:
    """Bar chart of accuracy and citation precision by tag, and the risk-coverage curve of the confidence (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from assistant.checks.calibration import risk_coverage

    tags = [t for t in result.by_tag if not t.startswith("kind:")] or list(result.by_tag)
    accuracy = [result.by_tag[t]["accuracy"] for t in tags]
    precision = [result.by_tag[t]["citation_precision"] for t in tags]
    figure, (axis, trust) = plt.subplots(
        1, 2, figsize=(max(6, len(tags) * 0.7) + 5, 4), gridspec_kw={"width_ratios": [max(6, len(tags) * 0.7), 5]}
    )
    scored = [c for c in result.cases if c.confidence is not None and c.status != "abstained"]
    curve = risk_coverage([c.confidence or 0.0 for c in scored], [c.correct for c in scored])
    if curve:
        share = len(scored) / max(1, len(result.cases))
        trust.plot([cov * share for cov, _ in curve], [risk for _, risk in curve], label="risk (share wrong)")
        trust.axhline(0.1, color="grey", linestyle=":", label="10% risk")
        trust.legend(loc="upper left")
    else:
        trust.text(0.5, 0.5, "no answers with a confidence", ha="center", va="center")
    trust.set_xlim(0, 1)
    trust.set_ylim(0, 1)
    trust.set_xlabel("coverage (share of questions answered, most confident first)")
    trust.set_title("risk-coverage")
    positions = range(len(tags))
    axis.bar([p - 0.2 for p in positions], accuracy, width=0.4, label="accuracy")
    axis.bar([p + 0.2 for p in positions], precision, width=0.4, label="citation precision")
    axis.set_xticks(list(positions), tags, rotation=45, ha="right")
    axis.set_ylim(0, 1.05)
    axis.set_title(f"{result.suite}: metrics by tag ({result.backend})")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_markdown(result: SuiteResult, path: Path, chart: str, notes: list[str]) -> None:
    """report.md: metrics, per-tag table, chart, wrong cases."""
    lines = [f"# Eval report: {result.suite}", "", f"Backend: `{result.backend}`; {len(result.cases)} cases.", ""]
    lines += [*notes, ""] if notes else []
    for line in (stage_losses(result), freshness_line(result)):
        lines += [line, ""] if line else []
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {m} | {result.metrics[m]:.3f} |" for m in HEADLINE if m in result.metrics]
    lines += [
        "",
        f"![metrics by tag]({chart})",
        "",
        "| tag | cases | accuracy | citation precision |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t} | {v['cases']} | {v['accuracy']:.2f} | {v['citation_precision']:.2f} |"
        for t, v in result.by_tag.items()
    ]
    wrong = [c for c in result.cases if not c.correct]
    lines += ["", f"## Wrong answers ({len(wrong)})", ""]
    for case in wrong:
        got = case.got.replace("\n", " ").replace("|", "\\|")
        lines.append(
            f"- `{case.id}` {case.question} — expected {case.expected or 'abstention'}, got “{got}” "
            f"({case.status}){' — error: ' + case.error if case.error else ''}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_all(result: SuiteResult, output: Path, notes: list[str], extra: dict[str, Any] | None = None) -> None:
    """results.json, junit.xml, chart.png and report.md into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    write_json(result, output / "results.json", extra)
    write_junit(result, output / "junit.xml")
    write_chart(result, output / "chart.png")
    write_markdown(result, output / "report.md", "chart.png", notes)
