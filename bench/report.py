"""Render docs/benchmarks.md from the JSON results in bench/out/."""

from __future__ import annotations

import json
from pathlib import Path


def _engine(data: dict) -> list[str]:
    lines = [
        "## Engine (`bench/run.py`)",
        "",
        f"Machine: {data.get('machine', '')}; run on {data.get('date', '')}.",
        "",
    ]
    ingest = data.get("ingest")
    if ingest:
        lines += [
            "### Ingest",
            "",
            "| articles | chunks | cold ingest (s) | chunks/s | re-ingest unchanged (s) | re-ingest wrote nothing |",
            "|---|---|---|---|---|---|",
            f"| {ingest['articles']} | {ingest['chunks']} | {ingest['cold_seconds']} | {ingest['chunks_per_second']} "
            f"| {ingest['reingest_unchanged_seconds']} | {ingest['reingest_wrote_nothing']} |",
            "",
        ]
    answers = data.get("answers", {})
    if answers:
        lines += [
            "### Answer latency (seed corpus, 10 questions incl. 2 unanswerable; medians in seconds)",
            "",
            "| backend | questions | first answer incl. load | retrieve | generate | verify | total p50 | total p95 "
            "| statuses |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for backend, row in answers.items():
            m = row["median"]
            lines.append(
                f"| {backend} | {row['questions']} | {row['first_answer_seconds_incl_model_load']} | {m['retrieve']} "
                f"| {m['generate']} | {m['verify']} | {m['total']} | {row['p95_total']} | {row['statuses']} |"
            )
        lines.append("")
    if "peak_rss_mb" in data:
        lines += [f"Peak resident memory of the benchmark process: {data['peak_rss_mb']} MB.", ""]
    return lines


def _ui(data: dict) -> list[str]:
    lines = [
        "## UI concurrency (`tests/test_ui_app.py`, 20 parallel `gradio_client` users on loopback)",
        "",
        "| engine | users | answered | wait p50 (s) | wait p95 (s) | max (s) |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in data.get("ui_concurrency", {}).items():
        lines.append(
            f"| {label} | {row['users']} | {row['answered']} | {row['p50_s']} | {row['p95_s']} | {row['max_s']} |"
        )
    return [*lines, ""]


EVAL_COLUMNS = (
    "cases",
    "accuracy",
    "answerable_accuracy",
    "em",
    "f1",
    "numeric_accuracy",
    "citation_precision",
    "citation_recall",
    "hit_at_k",
    "mrr",
    "abstention_precision",
    "abstention_recall",
    "precision_verified",
    "coverage_verified",
    "verified_answers",
    "precision_unconfirmed",
    "auroc",
    "ece",
    "aurc",
    "share_verified",
    "share_unconfirmed",
    "share_fallback",
    "share_abstained",
    "p50_total",
    "p95_total",
)


def _evals(paths: list[Path]) -> list[str]:
    runs = {p.stem.removeprefix("eval-"): json.loads(p.read_text())["metrics"] for p in paths}
    if not runs:
        return []
    lines = [
        "## Answer quality (`bench/eval_all.sh`: `assistant eval` on each suite; deterministic metrics)",
        "",
        "`llama_cpp` is the default engine (Qwen2.5-Coder-1.5B Q4_K_M); `extractive` quotes the best sentence;",
        "`stock` is llama-index's `CitationQueryEngine` with the same model and store (the baseline to beat).",
        "SQuAD and DROP are the first 300 questions of each public sample: the test split, sharing no article with",
        "the calibration splits (`bench/calibrate.sh`). `precision_verified` is the share of `verified` answers",
        "that are right; `coverage_verified` the share of answerable questions answered `verified`.",
        "",
        "| metric | " + " | ".join(runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for column in EVAL_COLUMNS:
        cells = [runs[name].get(column) for name in runs]
        lines.append(f"| {column} | " + " | ".join("" if c is None else f"{c:g}" for c in cells) + " |")
    return [*lines, ""]


def render(out_dir: Path) -> str:
    """The whole Markdown page."""
    lines = [
        "# Benchmarks",
        "",
        "Speed and quality numbers measured on this project's machines (2 cores, no GPU). Regenerate with",
        "`make bench` (engine) and `bench/eval_all.sh` (eval suites); medians and ratios come from one run.",
        "",
    ]
    engine = out_dir / "engine.json"
    if engine.exists():
        lines += _engine(json.loads(engine.read_text()))
    ui = out_dir / "ui.json"
    if ui.exists():
        lines += _ui(json.loads(ui.read_text()))
    lines += _evals(sorted(out_dir.glob("eval-*.json")))
    arith = out_dir / "arith.json"
    if arith.exists():
        from bench.arith import render as render_arith

        lines += render_arith(json.loads(arith.read_text()))
    extra = out_dir / "notes.md"
    if extra.exists():
        lines += [extra.read_text().strip(), ""]
    return "\n".join(lines)
