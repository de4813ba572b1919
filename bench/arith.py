"""Arithmetic benchmarks on DROP: routing accuracy (offline) and numeric accuracy per operation type of a run.

    python bench/arith.py routing [--data ../shared/data/drop-dev-sample.json]
    python bench/arith.py score RESULTS.json [--split test|tune] [--name drop-test]

Both merge their numbers into bench/out/arith.json, which bench/report.py renders into docs/benchmarks.md.
The "test" split here is the first 300 questions (what `assistant eval import-drop --limit 300` takes), the former
test split; the tune split is every question after them. Rules and prompts were tuned on both (the year and choice
rules on the first 300's errors), so both are development splits (docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
DATA = REPO.parent / "shared" / "data" / "drop-dev-sample.json"
TEST_QUESTIONS = 300
TYPES = ("add", "diff", "count", "span", "other")
_MARKERS = re.compile(r"\[\d+\]")


def drop_questions(path: Path) -> list[dict[str, Any]]:
    """Every DROP question in file order: id, question, passage, answer kind, gold numbers, NMN subset, split."""
    from assistant.evaluation.importing import _drop_answer

    rows = []
    for passage_id, item in json.loads(path.read_text(encoding="utf-8")).items():
        for qa in item.get("qa_pairs", []):
            parsed = [_drop_answer(a) for a in [qa.get("answer", {}), *qa.get("validated_answers", [])]]
            typed = [t for t in parsed if t is not None]
            if not typed:
                continue
            kind = typed[0][0]
            golds = [g for k, values in typed if k == kind for g in values]
            rows.append(
                {
                    "id": str(qa.get("query_id", "")),
                    "question": qa["question"],
                    "passage": item["passage"],
                    "passage_id": passage_id,
                    "kind": kind,
                    "golds": golds,
                    "subset": (qa.get("nmn_subsets") or [""])[0],
                }
            )
    for index, row in enumerate(rows):
        row["split"] = "test" if index < TEST_QUESTIONS else "tune"
    return rows


def operation_type(question: str, subset: str) -> str:
    """The gold operation family of a numeric DROP question: DROP's own subset, refined by the question's wording.

    year_diff -> span; count -> count (add when it asks for a total); how_many_yards_was -> add (combined,
    total), diff (difference, more than) or other (the longest, a single play); anything else -> other.
    """
    lowered = question.lower()
    adds = re.search(r"\b(combined|total|altogether|in all|sum)\b", lowered)
    diffs = re.search(r"\b(difference|more|fewer|less|longer|shorter)\b.*\bthan\b|\bdifference\b", lowered)
    if subset == "year_diff":
        return "span"
    if diffs:
        return "diff"
    if adds and subset != "count":
        return "add"
    if subset == "count":
        return "count"
    return "other"


def gold_in_passage(row: dict[str, Any]) -> bool:
    """True when a gold number is written in the passage (digits or words)."""
    from assistant.numbers import numbers_in

    values = set(numbers_in(row["passage"]))
    return any(isinstance(g, float) and g in values for g in row["golds"])


def routing(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the router sends a question to calculation, by label, on each split.

    Labels: a non-numeric answer needs no calculation; a numeric answer whose number is not written in the passage
    needs one; a numeric answer written in the passage may go either way (reported, not scored). The count guard
    reads all the passage's sentences here (the engine reads the retrieved ones).
    """
    from assistant.answer.calculation_step import route
    from assistant.question import analyse_question
    from assistant.text import split_sentences
    from assistant.types import Chunk, Evidence

    result: dict[str, Any] = {}
    for split in ("test", "tune"):
        counts: Counter[str] = Counter()
        by_subset: Counter[tuple[str, bool]] = Counter()
        for row in (r for r in rows if r["split"] == split):
            chunk = Chunk(id="", doc_id="", text="", start=0, end=0, chunk_index=0, paragraph_index=0)
            evidence = [
                Evidence(number=i, quote=row["passage"][s:e], chunk=chunk, start=s, end=e, score=0.0)
                for i, (s, e) in enumerate(split_sentences(row["passage"]), start=1)
            ]
            routed = route(analyse_question(row["question"]), evidence) is not None
            label = _label(row)
            counts[f"{label}:{'routed' if routed else 'kept'}"] += 1
            if row["kind"] == "number":
                by_subset[(row["subset"] or "none", routed)] += 1
        scored_right = counts["no_calculation:kept"] + counts["calculation:routed"]
        scored = scored_right + counts["no_calculation:routed"] + counts["calculation:kept"]
        result[split] = {
            "accuracy": round(scored_right / scored, 4) if scored else None,
            "scored": scored,
            "counts": dict(sorted(counts.items())),
            "numeric_routed_by_subset": {
                subset: f"{by_subset[(subset, True)]}/{by_subset[(subset, True)] + by_subset[(subset, False)]}"
                for subset in sorted({s for s, _ in by_subset})
            },
        }
    return result


def _label(row: dict[str, Any]) -> str:
    from assistant.question import analyse_question

    if row["kind"] != "number":
        return "choice" if analyse_question(row["question"]).direction else "no_calculation"
    return "either" if gold_in_passage(row) else "calculation"


def headline_number(text: str) -> float | None:
    """The first number an answer states (its result, for a computed answer), markers removed."""
    from assistant.numbers import numbers_in

    values = numbers_in(_MARKERS.sub(" ", text))
    return values[0] if values else None


def score(results: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact numeric accuracy per operation type, computed answers, their working and their verified precision."""
    by_id = {r["id"]: r for r in rows}
    table: dict[str, Counter[str]] = {t: Counter() for t in (*TYPES, "all")}
    for case in results["cases"]:
        row = by_id.get(case["id"])
        if row is None or case["kind"] != "number":
            continue
        golds = [float(g) for g in case["expected"] if isinstance(g, int | float)]
        stated = headline_number(case["got"]) if case["status"] != "abstained" else None
        right = stated is not None and any(abs(stated - g) < 1e-6 for g in golds)
        computed = bool(case.get("signals", {}).get("calculated"))
        for key in (operation_type(row["question"], row["subset"]), "all"):
            counter = table[key]
            counter["questions"] += 1
            counter["right"] += right
            counter["harness_right"] += bool(case["correct"])
            counter["computed"] += computed
            counter["computed_right"] += computed and right
            counter["verified"] += case["status"] == "verified"
            counter["verified_right"] += case["status"] == "verified" and right
            counter["computed_verified"] += computed and case["status"] == "verified"
            counter["computed_verified_right"] += computed and case["status"] == "verified" and right

    def share(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    out = {}
    for key, c in table.items():
        out[key] = {
            "questions": c["questions"],
            "exact_accuracy": share(c["right"], c["questions"]),
            "harness_numeric_accuracy": share(c["harness_right"], c["questions"]),
            "computed": c["computed"],
            "working_right": share(c["computed_right"], c["computed"]),
            "verified": c["verified"],
            "verified_precision": share(c["verified_right"], c["verified"]),
            "computed_verified": c["computed_verified"],
            "computed_verified_precision": share(c["computed_verified_right"], c["computed_verified"]),
        }
    metrics = results.get("metrics", {})
    return {"backend": results.get("backend", ""), "per_type": out, "p50_total": metrics.get("p50_total")}


def render(data: dict[str, Any]) -> list[str]:
    """The Markdown section for docs/benchmarks.md."""
    lines = [
        "## Arithmetic: computed answers on DROP (`bench/arith.py`)",
        "",
        "Questions that ask for a sum, difference, count, span of time, share or extreme go through a calculation the",
        "model writes (`ADD(2,500 [1], 900 [1])`) and the engine checks and computes. *Exact* accuracy reads the first",
        "number of the answer (a computed answer's result) and compares it with DROP's gold number; the harness's",
        "`numeric_accuracy` accepts any number in the answer. *Working right*: computed answers whose result, from",
        "the shown operands, equals the gold. Former test split: DROP's first 300 questions (tuned on); tune split:",
        "the questions after them.",
        "",
    ]
    for name, run in data.get("runs", {}).items():
        lines += [
            f"### {name} ({run.get('backend', '')}; answer p50 {run.get('p50_total')} s)",
            "",
            "| type | numeric questions | exact accuracy | harness numeric accuracy | computed | working right "
            "| verified | verified precision | computed & verified | precision |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for key in (*TYPES, "all"):
            r = run["per_type"].get(key, {})
            if not r.get("questions"):
                continue
            cells = [
                r["questions"],
                r["exact_accuracy"],
                r["harness_numeric_accuracy"],
                r["computed"],
                r["working_right"],
                r["verified"],
                r["verified_precision"],
                r["computed_verified"],
                r["computed_verified_precision"],
            ]
            lines.append(f"| {key} | " + " | ".join("" if c is None else f"{c:g}" for c in cells) + " |")
        lines.append("")
    route = data.get("routing")
    if route:
        lines += [
            "### Routing (offline, every DROP question; `computation_asked` + the stated-count guard)",
            "",
            "A question is labelled *calculation* when its gold is a number not written in the passage, *no",
            "calculation* when its gold is not a number; a number written in the passage may go either way. A",
            '*choice* by numbers ("Which group was larger, A or B?", gold: an option) is routed to a MAX/MIN',
            "that picks the option, and is counted apart, not scored.",
            "",
            "| split | accuracy | scored | no calc kept | no calc routed | calc routed | calc kept | either routed "
            "| either kept | choice routed | choice kept | numeric routed by DROP subset |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for split, r in route.items():
            c = r["counts"]
            lines.append(
                f"| {split} | {r['accuracy']} | {r['scored']} | {c.get('no_calculation:kept', 0)} "
                f"| {c.get('no_calculation:routed', 0)} | {c.get('calculation:routed', 0)} "
                f"| {c.get('calculation:kept', 0)} | {c.get('either:routed', 0)} | {c.get('either:kept', 0)} "
                f"| {c.get('choice:routed', 0)} | {c.get('choice:kept', 0)} "
                f"| {', '.join(f'{k} {v}' for k, v in r['numeric_routed_by_subset'].items())} |"
            )
        lines.append("")
    notes = data.get("notes")
    if notes:
        lines += [notes.strip(), ""]
    return lines


def _save(update: dict[str, Any]) -> None:
    path = OUT / "arith.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    route_cmd = sub.add_parser("routing")
    route_cmd.add_argument("--data", type=Path, default=DATA)
    score_cmd = sub.add_parser("score")
    score_cmd.add_argument("results", type=Path)
    score_cmd.add_argument("--name", default="drop-test")
    score_cmd.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    rows = drop_questions(args.data)
    if args.command == "routing":
        result = routing(rows)
        print(json.dumps(result, indent=1))
        _save({"routing": result})
    else:
        scored = score(json.loads(args.results.read_text()), rows)
        print(json.dumps(scored, indent=1))
        _save({"runs": {args.name: scored}})


if __name__ == "__main__":
    main()
