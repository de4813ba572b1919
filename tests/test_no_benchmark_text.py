"""No benchmark text in the repository: fixtures, rules and suites are invented, never copied from a public sample.

Reads the public samples at ../shared/data (where CI has them; SHARED_DATA overrides the path) and skips when
they are absent. Text is compared as 7-word runs, lowercased, punctuation stripped. SQuAD and DROP are read whole
(any split's text in a fixture would lock rules to benchmark items); RealTime QA only in its test weeks, since its
development weeks hold real news pages whose stock phrases may recur in invented news.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.evaluation.splits import REALTIMEQA_WEEKS

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DATA") or REPO.parent / "shared" / "data")
RUN = 7
SCANNED = ("assistant", "tests", "eval")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".jsonl", ".txt", ".toml", ".html", ".csv"}
SKIPPED_DIRS = {"out", "datasets", "__pycache__"}


def words(text: str) -> list[str]:
    """Lowercase words with punctuation stripped ("U.S." is "us", "17.2%" is "172")."""
    return re.sub(r"[^\w\s]", "", text.lower()).split()


def runs(text: str) -> Iterator[tuple[str, ...]]:
    """Every 7-word run of ``text``."""
    found = words(text)
    for start in range(len(found) - RUN + 1):
        yield tuple(found[start : start + RUN])


def squad_texts(path: Path) -> Iterator[str]:
    """Passages and questions of every SQuAD article of the sample (its test split and all the others)."""
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            yield paragraph["context"]
            yield from (qa["question"] for qa in paragraph["qas"])


def drop_texts(path: Path) -> Iterator[str]:
    """Passages and questions of every DROP passage of the sample (its test split and all the others)."""
    for item in json.loads(path.read_text(encoding="utf-8")).values():
        yield item["passage"]
        yield from (qa["question"] for qa in item["qa_pairs"])


def realtimeqa_texts(folder: Path) -> Iterator[str]:
    """Questions, evidence and searched pages of the RealTime QA test weeks."""
    for week in REALTIMEQA_WEEKS["test"]:
        for line in (folder / f"{week}_qa.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                yield row.get("question_sentence", "")
                yield row.get("evidence", "")
        for line in (folder / f"{week}_gcs.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield from (page.get("text", "") for page in json.loads(line).get("search_result", []))


def scanned_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES and not SKIPPED_DIRS & set(path.parts):
                yield path


def test_words_are_lowercased_without_punctuation() -> None:
    assert words("About 2,500 U.S. troops, in Iraq!") == ["about", "2500", "us", "troops", "in", "iraq"]
    assert len(list(runs("one two three four five six seven eight"))) == 2


@pytest.mark.skipif(not (SHARED / "squad2-dev-sample.json").exists(), reason="shared sample data absent")
def test_no_file_holds_a_seven_word_run_of_a_benchmark_sample() -> None:
    benchmark: set[tuple[str, ...]] = set()
    for text in [
        *squad_texts(SHARED / "squad2-dev-sample.json"),
        *drop_texts(SHARED / "drop-dev-sample.json"),
        *realtimeqa_texts(SHARED / "realtimeqa-2024"),
    ]:
        benchmark.update(runs(text))
    assert len(benchmark) > 10_000, "the samples were read"
    leaks = []
    for path in scanned_files():
        found = {" ".join(run) for run in runs(path.read_text(encoding="utf-8", errors="replace")) if run in benchmark}
        leaks += [f"{path.relative_to(REPO)}: {run!r}" for run in sorted(found)[:3]]
    assert not leaks, "benchmark text in the repository (invent the fixture instead):\n" + "\n".join(leaks)
