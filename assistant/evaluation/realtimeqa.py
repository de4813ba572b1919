"""RealTime QA weeks -> a news suite: each week's search-result pages a dated archive, each quiz question a case.

A week is two files, ``WEEK_qa.jsonl`` (questions with four choices and the answer index) and ``WEEK_gcs.jsonl``
(the search results of each question: url, title, text, authors, publish_date). Pages become Markdown articles
with front matter (title, source = the outlet, url, published, author) and their headline as the first line,
so the headline is a sentence that can be cited. Questions are asked open-ended: the gold choice's text is the
answer, the four choices stay in the case as data and are never shown to the model, and ``as_of`` is the day the
question was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.suite_file import SuiteError

NEWS_GATES = {"min_accuracy": 0.0}
"""No regression gate until a run of the default model on these weeks has been measured (docs/benchmarks.md)."""

OUTLETS = {
    "cnn.com": "CNN",
    "usatoday.com": "USA Today",
    "theweek.com": "The Week",
    "theweek.co.uk": "The Week",
}
"""Outlet names of the sites RealTime QA's questions and searches come from; other sites keep their domain."""


def outlet(url: str) -> str:
    """The outlet a page's URL belongs to ("https://www.cnn.com/..." -> "CNN")."""
    host = re.sub(r"^www\.", "", url.split("//", 1)[-1].split("/", 1)[0].lower())
    for domain, name in OUTLETS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host


def available_weeks(folder: Path) -> list[str]:
    """The weeks (YYYYMMDD) that have both their question and search files in ``folder``."""
    return sorted(
        p.name.split("_", 1)[0] for p in folder.glob("*_qa.jsonl") if (folder / p.name.replace("_qa", "_gcs")).exists()
    )


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as err:
        raise SuiteError(f"{path}: cannot read RealTime QA records ({err})") from err


def _day(text: str) -> str:
    """YYYY-MM-DD from RealTime QA's "2024/01/05" or "2024/01/05/23:29"; '' when absent."""
    match = re.match(r"\s*(\d{4})[/-](\d{2})[/-](\d{2})", str(text or ""))
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else ""


def _front_matter(values: dict[str, str]) -> str:
    import yaml

    kept = {k: v for k, v in values.items() if v}
    return "---\n" + yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def _page_markdown(page: dict[str, Any]) -> str | None:
    text = str(page.get("text") or "").strip()
    if not text:
        return None
    url = str(page.get("url") or "")
    title = " ".join(str(page.get("title") or "").split()).removesuffix("...").strip()
    authors = page.get("authors") or []
    meta = {
        "title": title,
        "source": outlet(url) if url else "",
        "url": url,
        "published": _day(page.get("publish_date", "")),
        "author": ", ".join(str(a) for a in authors if str(a).strip()) if isinstance(authors, list) else "",
    }
    heading = f"# {title}\n\n" if title else ""
    return _front_matter(meta) + heading + text + "\n"


def import_realtimeqa(folder: Path, out_dir: Path, weeks: Sequence[str] | None = None) -> Path:
    """Write ``out_dir/corpus/*.md`` (each distinct page once) and ``out_dir/suite.yaml`` for the chosen weeks."""
    import yaml

    folder = Path(folder)
    if not folder.is_dir():
        raise SuiteError(f"{folder}: no such folder (expected RealTime QA's WEEK_qa.jsonl and WEEK_gcs.jsonl files)")
    found = available_weeks(folder)
    chosen = list(weeks) if weeks else found
    missing = [w for w in chosen if w not in found]
    if missing:
        raise SuiteError(f"{folder}: no RealTime QA week {', '.join(missing)} (found: {', '.join(found) or 'none'})")
    if not chosen:
        raise SuiteError(f"{folder}: no RealTime QA weeks (WEEK_qa.jsonl with WEEK_gcs.jsonl) found")
    corpus = Path(out_dir) / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    cases: list[dict[str, Any]] = []
    for week in chosen:
        for result in _records(folder / f"{week}_gcs.jsonl"):
            for page in result.get("search_result") or []:
                url = str(page.get("url") or "")
                name = hashlib.sha1((url or json.dumps(page, sort_keys=True)).encode()).hexdigest()[:16]
                if name in written:
                    continue
                markdown = _page_markdown(page)
                if markdown is not None:
                    (corpus / f"{name}.md").write_text(markdown, encoding="utf-8")
                    written.add(name)
        for qa in _records(folder / f"{week}_qa.jsonl"):
            choices = [str(c) for c in qa.get("choices") or []]
            answer = [int(a) for a in qa.get("answer") or [] if str(a).strip().isdigit()]
            golds = [choices[i] for i in answer if 0 <= i < len(choices)]
            if not golds:
                continue
            cases.append(
                {
                    "id": str(qa.get("question_id")),
                    "question": " ".join(str(qa.get("question_sentence", "")).split()),
                    "answers": golds,
                    "kind": "span",
                    "as_of": _day(qa.get("question_date", "")) or None,
                    "choices": choices,
                    "tags": ["realtimeqa", f"week-{week}", str(qa.get("question_source") or "").lower() or "news"],
                }
            )
    if not cases:
        raise SuiteError(f"{folder}: the weeks {', '.join(chosen)} hold no question with an answer")
    name = "realtimeqa-" + ("-".join(chosen) if len(chosen) <= 3 else f"{chosen[0]}-{chosen[-1]}")
    suite = {"name": name, "corpus": str(corpus.resolve()), "thresholds": dict(NEWS_GATES), "cases": cases}
    path = Path(out_dir) / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return path
