"""Re-derive the confidence floor (`trust.abstain_below`) from runs made with the floor off.

    ASSISTANT_TRUST__ABSTAIN_BELOW=0 assistant eval SUITE.yaml --output OUT   # once per calibration suite
    python bench/floor.py OUT1/results.json OUT2/results.json ...

With the floor at 0 every answer the model wrote comes back with its confidence, so any other floor can be
applied afterwards: an answer below it becomes an abstention. For each candidate floor the table gives, per
suite, the accuracy (an abstention is right only on an unanswerable question), how many answers stay shown and
the share of those shown that are right (their precision: on a suite with nothing unanswerable, such as a news
week, accuracy can only fall as the floor rises, and precision is what the floor buys).
Suites are grouped by their tags' domain (news, squad, ...); the last column is the mean of the domains'
accuracies, and the best floor of each domain and of that mean are printed (ties go to the higher floor: fewer
wrong answers shown). When the domains disagree (a news archive has nothing unanswerable by design, SQuAD 2.0 half
its questions written to trick), the default is a product decision the table informs (docs/how-answers-are-made.md).
Run it on development and calibration splits only (docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

FLOORS = (0.0, 0.05, 0.1, 0.12, 0.15, 0.18, 0.2, 0.22, 0.25, 0.3, 0.35, 0.4)


def domain(results: dict[str, Any]) -> str:
    """'news' for an imported RealTime QA week, else the suite's name up to its first dash."""
    tags = {t for case in results.get("cases", []) for t in case.get("tags", [])}
    return "news" if "realtimeqa" in tags else str(results.get("suite", "suite")).split("-")[0]


def outcome(case: dict[str, Any], floor: float) -> tuple[bool, bool]:
    """(right, shown) for one case of a floor-off run once ``floor`` is applied."""
    confidence = case.get("confidence")
    unanswerable = case.get("kind") == "unanswerable"
    shown = case.get("status") != "abstained" and confidence is not None and confidence >= floor
    right = (not shown) if unanswerable else (shown and bool(case.get("correct")))
    return right, shown


def table(runs: list[dict[str, Any]], floors: tuple[float, ...] = FLOORS) -> tuple[list[str], dict[str, float]]:
    """Markdown rows (one per floor) and the best floor of each domain and of their mean ('mean')."""
    names = [str(r.get("suite")) for r in runs]
    rows = ["| floor | " + " | ".join(names) + " | mean of domains |", "|---" * (len(names) + 2) + "|"]
    best: dict[str, float] = {}
    best_score: dict[str, float] = {}
    for floor in floors:
        cells, by_domain = [], defaultdict(list)
        for run in runs:
            cases = run.get("cases", [])
            judged = [outcome(c, floor) for c in cases]
            accuracy = sum(r for r, _ in judged) / max(len(cases), 1)
            by_domain[domain(run)].append(accuracy)
            shown = [c for c, (_, s) in zip(cases, judged, strict=True) if s]
            precision = sum(bool(c.get("correct")) for c in shown) / len(shown) if shown else 0.0
            cells.append(f"{accuracy:.3f} ({len(shown)} shown, {precision:.0%} right)")
        scores = {name: sum(v) / len(v) for name, v in by_domain.items()}
        score = sum(scores.values()) / len(scores)
        for name, value in {**scores, "mean": score}.items():
            if value >= best_score.get(name, -1.0) - 1e-9:
                best[name], best_score[name] = floor, value
        rows.append(f"| {floor:.2f} | " + " | ".join(cells) + f" | {score:.3f} |")
    return rows, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="results.json of runs with the floor off")
    args = parser.parse_args()
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in args.results]
    rows, best = table(runs)
    print("\n".join(rows))
    print("\nbest floor: " + ", ".join(f"{name} {floor:.2f}" for name, floor in best.items()))


if __name__ == "__main__":
    main()
