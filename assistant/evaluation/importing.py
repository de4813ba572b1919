"""Bring standard datasets in: SQuAD v1.1/v2 and DROP JSON -> a corpus (.jsonl) and a suite (.yaml)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from assistant.evaluation.splits import SPLITS, drop_passages, squad_articles
from assistant.evaluation.suite_file import SuiteError

# Regression gates of an imported suite, for the default model: a little below what it measured on the first 300
# questions of each public sample (docs/benchmarks.md), so that a change that makes answers worse fails the run.
# Another backend or model may need its own (edit the suite's thresholds).
SQUAD_GATES = {
    "min_f1": 0.50,  # measured 0.556
    "min_answerable_accuracy": 0.53,  # 0.593
    "min_abstention_recall": 0.45,  # 0.510
    "min_precision_unconfirmed": 0.40,  # 0.472
}
DROP_GATES = {
    "min_accuracy": 0.50,  # measured 0.553
    "min_numeric_accuracy": 0.38,  # 0.427
    "min_precision_verified": 0.85,  # 0.936 (target 0.90)
}


def _load(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SuiteError(f"{path}: cannot read the dataset ({err})") from err


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d[\d,]*(\.\d+)?", text.strip()))


def _write(
    out_dir: Path, name: str, articles: list[dict[str, Any]], cases: list[dict[str, Any]], thresholds: dict[str, float]
) -> Path:
    """corpus/<name>.jsonl and suite.yaml (corpus path relative to the suite file)."""
    import yaml

    corpus = out_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / f"{name}.jsonl").write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in articles) + "\n", encoding="utf-8"
    )
    suite = {"name": name, "corpus": str(corpus.resolve()), "thresholds": thresholds, "cases": cases}
    path = out_dir / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return path


def _check_split(split: str | None) -> None:
    if split is not None and split not in SPLITS:
        raise SuiteError(f"unknown split {split!r}: use one of {', '.join(SPLITS)} (docs/evaluation.md)")


def import_squad(
    path: Path, out_dir: Path, limit: int | None = None, offset: int = 0, split: str | None = None
) -> Path:
    """SQuAD v1.1/v2: each paragraph an article, each question a case (``is_impossible`` -> unanswerable).

    ``offset`` skips whole paragraphs until that many questions were passed over, so a split taken with
    ``--offset 300`` shares no article with the first 300 questions. ``split`` keeps only the articles the split
    protocol gives that split (``assistant.evaluation.splits``).
    """
    _check_split(split)
    data = _load(path)
    if not isinstance(data, dict) or "data" not in data:
        raise SuiteError(f"{path}: not SQuAD JSON (no 'data' list)")
    chosen = squad_articles(split) if split else None
    articles: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    skipped = 0
    for article in data["data"]:
        if chosen is not None and article.get("title") not in chosen:
            continue
        for index, paragraph in enumerate(article.get("paragraphs", [])):
            if limit and len(cases) >= limit:
                break
            if skipped < offset:
                skipped += len(paragraph.get("qas", []))
                continue
            title = f"{article.get('title', 'untitled').replace('_', ' ')} ({index + 1})"
            articles.append(
                {"id": f"squad-{len(articles)}", "title": title, "text": paragraph["context"], "source": "SQuAD"}
            )
            for qa in paragraph.get("qas", []):
                golds = list(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text")))
                impossible = qa.get("is_impossible", False) or not golds
                kind = "unanswerable" if impossible else ("number" if all(_is_number(g) for g in golds) else "span")
                cases.append(
                    {
                        "id": str(qa["id"]),
                        "question": qa["question"],
                        "answers": [] if impossible else golds,
                        "kind": kind,
                        "tags": ["squad", "unanswerable" if impossible else "answerable"],
                    }
                )
    if limit:
        cases = cases[:limit]
    return _write(Path(out_dir), "squad", articles, cases, dict(SQUAD_GATES))


def _drop_date(date: dict[str, Any]) -> str:
    return " ".join(str(date.get(k, "")).strip() for k in ("day", "month", "year") if str(date.get(k, "")).strip())


def _drop_answer(answer: dict[str, Any]) -> tuple[str, list[Any]] | None:
    """(kind, golds) of one DROP answer: number, date or spans."""
    if str(answer.get("number", "")).strip():
        number = str(answer["number"]).strip()
        return "number", [float(number) if _is_number(number) else number]
    if any(str(v).strip() for v in answer.get("date", {}).values()):
        return "date", [_drop_date(answer["date"])]
    if answer.get("spans"):
        return "span", list(answer["spans"])
    return None


def import_drop(path: Path, out_dir: Path, limit: int | None = None, offset: int = 0, split: str | None = None) -> Path:
    """DROP: each passage an article; answers typed number / date / spans become number / date / span cases.

    ``offset`` skips whole passages until that many questions were passed over (a split with no shared passage);
    ``split`` keeps only the passages the split protocol gives that split (``assistant.evaluation.splits``).
    """
    _check_split(split)
    data = _load(path)
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: not DROP JSON (expected a mapping of passages)")
    chosen = set(drop_passages(split, list(data))) if split else None
    articles: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    skipped = 0
    for passage_id, item in data.items():
        if limit and len(cases) >= limit:
            break
        if chosen is not None and passage_id not in chosen:
            continue
        if skipped < offset:
            skipped += len(item.get("qa_pairs", []))
            continue
        articles.append({"id": passage_id, "title": f"DROP {passage_id}", "text": item["passage"], "source": "DROP"})
        for qa in item.get("qa_pairs", []):
            parsed = [_drop_answer(a) for a in [qa.get("answer", {}), *qa.get("validated_answers", [])]]
            typed = [t for t in parsed if t is not None]
            if not typed:
                continue
            kind = typed[0][0]
            golds = list(dict.fromkeys(g for k, values in typed if k == kind for g in values))
            cases.append(
                {
                    "id": str(qa.get("query_id", f"{passage_id}-{len(cases)}")),
                    "question": qa["question"],
                    "answers": golds,
                    "kind": kind,
                    "tags": ["drop", kind],
                }
            )
    if limit:
        cases = cases[:limit]
    return _write(Path(out_dir), "drop", articles, cases, dict(DROP_GATES))
