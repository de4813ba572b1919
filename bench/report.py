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
        if "raw_encode_chunks_per_second" in ingest:
            low, mid = ingest["int8_cosine_to_fp32_min_median"]
            lines += [
                "Against `SentenceTransformer.encode` alone on the same texts (same batch size and sequence length):",
                f"the chunks alone encode at {ingest['raw_encode_chunks_per_second']} chunks/s, the chunks and their "
                f"{ingest['sentences']} distinct sentences (what ingest embeds, for the sentence vectors of evidence) "
                f"at {ingest['raw_encode_with_sentences_chunks_per_second']} chunks/s. `assistant ingest` runs at "
                f"{ingest['ingest_over_raw_encode']}x the chunks-only rate and "
                f"{ingest['ingest_over_raw_encode_with_sentences']}x the rate of the same embedding work. MiniLM with "
                f"torch's dynamic int8 quantization encodes the chunks {ingest['int8_raw_encode_speedup']}x as fast "
                f"as float32, with cosine to the float32 vectors of {low} at worst and {mid} at the median.",
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


def _scale(data: dict) -> list[str]:
    query = data.get("minilm_query_embedding", {})
    embed_ms = query.get("p50_ms", 0.0)
    lines = [
        "## Scale (`bench/scale.py`: archives built from SQuAD/DROP sentences, ingested through the public API)",
        "",
        f"Machine: {data.get('machine', '')}; run on {data.get('date', '')}. Stores are built with the fast",
        "`HashEmbedder` (384 dimensions) so that 100k chunks build in minutes. *retrieve* is",
        '`Answer.timings["retrieve"]`: query embedding (hash) + dense and lexical search + fusion + evidence',
        f"selection, i.e. the project's own part; *with MiniLM* adds the real query embedding ({embed_ms} ms p50,",
        f"model load {query.get('load_s', '')} s) measured on the same questions.",
        "Medians from one run on a shared machine.",
        "",
        "| chunks | articles | ingest chunks/s | retrieve p50 / p95 (ms) | with MiniLM p50 (ms) "
        "| date filter p50 / p95 (ms) | filter / unfiltered | first query after open (s) | peak RSS serving (MB) "
        "| disk per 1k chunks (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in data.get("sizes", {}).values():
        plain, dated = row["unfiltered"], row["published_from"]
        ratio = dated["p50_ms"] / plain["p50_ms"] if plain["p50_ms"] else 0.0
        with_minilm = round(plain["p50_ms"] + row.get("minilm_p50_ms", embed_ms), 1)  # a row kept from another run
        lines.append(
            f"| {row['chunks']} | {row['articles']} | {row['ingest_chunks_per_second']} "
            f"| {plain['p50_ms']} / {plain['p95_ms']} | {with_minilm} "
            f"| {dated['p50_ms']} / {dated['p95_ms']} | {ratio:.2f}x | {row['first_query_after_open_s']} "
            f"| {row['peak_rss_mb']} | {row['disk_mb_per_1k_chunks']} |"
        )
    served = [(row["chunks"], row["with_model"]) for row in data.get("sizes", {}).values() if "with_model" in row]
    for chunks, row in served:
        lines += [
            "",
            f"Serving the {chunks}-chunk archive with the default local model in the same process: answer p50 "
            f"{row['answer_p50_s']} s over 5 questions, peak RSS {row['peak_rss_mb']} MB.",
        ]
    oneshot = data.get("oneshot", [])
    if oneshot:
        lines += [
            "",
            "### One-shot `assistant ask` (a new process per question on a store of `corpus/`: imports, store open,",
            "model load and the answer; median of 3 after a warm-up run that assembles the model)",
            "",
            "| model | wall time p50 (s) | peak RSS (MB) |",
            "|---|---|---|",
            *[f"| {row['model']} | {row['wall_p50_s']} | {row['peak_rss_mb']} |" for row in oneshot],
        ]
    engines = data.get("engines", {})
    if engines:
        lines += [
            "",
            "### Lexical engines (BM25 top 20 over the same pre-stemmed chunk texts; 100 SQuAD questions)",
            "",
            "| chunks | engine | build (s) | p50 (ms) | date-filtered p50 (ms) | one article replaced (ms) |",
            "|---|---|---|---|---|---|",
        ]
        for size, by_engine in engines.items():
            for name, row in by_engine.items():
                lines.append(
                    f"| {size} | {name} | {row.get('build_s', '')} | {row.get('p50_ms', '')} "
                    f"| {row.get('filtered_p50_ms', '—')} | {row.get('update_ms', '—')} |"
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
        "SQuAD and DROP are the first 300 questions of each public sample: the former test split, now development",
        "(tuned on: rules were found on its errors), sharing no article with",
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
    scale = out_dir / "scale.json"
    if scale.exists():
        lines += _scale(json.loads(scale.read_text()))
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
