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
    return [
        "## UI concurrency",
        "",
        f"{data.get('users', 20)} simultaneous `gradio_client` users on loopback: all answered = "
        f"{data.get('all_answered')}; wait p50 {data.get('p50_s')} s, p95 {data.get('p95_s')} s "
        f"(backend: {data.get('backend', '?')}).",
        "",
    ]


def _eval(name: str, data: dict) -> list[str]:
    metrics = data.get("metrics", data)
    keys = [k for k in metrics if isinstance(metrics[k], int | float)]
    lines = [f"## Eval: {name}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {round(metrics[k], 3) if isinstance(metrics[k], float) else metrics[k]} |" for k in keys]
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
    for path in sorted(out_dir.glob("eval-*.json")):
        lines += _eval(path.stem.removeprefix("eval-"), json.loads(path.read_text()))
    extra = out_dir / "notes.md"
    if extra.exists():
        lines += [extra.read_text().strip(), ""]
    return "\n".join(lines)
