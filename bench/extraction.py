"""Main-text extraction on the Zyte article-extraction benchmark pages, scored by the benchmark's own measure.

The measure is the benchmark's ``evaluate.py``: per page, 4-word shingles (tokens ``\\w+``) with counts of the
extracted text against ``articleBody``, true/false positives and negatives normalized by their sum (so long pages
weigh no more than short ones), summed over pages into precision, recall and F1.

The 91 pages are split by id before looking (the rule is in docs/evaluation.md, "Article extraction"): ``dev`` is
the pages whose id starts with 0-7, ``test`` the pages whose id starts with 8-f. Only ``dev`` is read while
working on extraction; ``test`` is run to report.

Extractors: ``own`` (assistant/ingest/html_text.py), ``html`` (what a ``.html`` file is ingested with now:
``documents.load_html``), ``fetched`` (the page served on 127.0.0.1 and ingested by URL through
``assistant.ingest.fetch``). Writes bench/out/extraction-SPLIT.json.
Run: ``.venv/bin/python bench/extraction.py --split dev``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent.parent / "shared" / "data" / "article-extraction"
_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def split_of(page_id: str) -> str:
    """'dev' for ids starting with 0-7, 'test' for 8-f (fixed before any page was read)."""
    return "dev" if page_id[0].lower() in "01234567" else "test"


def shingles(text: str, n: int = 4) -> Counter:
    """The benchmark's shingles: runs of ``n`` word tokens, with counts (a short text is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def shingle_matching(true: str, pred: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, normalized to sum to 1 (the benchmark's ``string_shingle_matching``)."""
    t, p = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        tp += min(t[key], p[key])
        fp += max(0, p[key] - t[key])
        fn += max(0, t[key] - p[key])
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(parts: list[tuple[float, float, float]]) -> dict[str, float]:
    """Precision, recall and F1 from the summed per-page parts."""
    tp, fp, fn = (sum(x) for x in zip(*parts, strict=True)) if parts else (0.0, 0.0, 0.0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "pages": len(parts)}


def _own(html_path: Path, page_id: str) -> dict:
    from assistant.ingest.html_text import extract_html

    return extract_html(gzip.decompress(html_path.read_bytes()).decode("utf-8", "replace"))


def _as_file(folder: Path, html_path: Path, page_id: str) -> dict:
    from assistant.ingest.documents import load_html

    article = load_html(folder / f"{page_id}.html", max_bytes=50_000_000)[0][0]
    return {"text": article.text, "title": article.title, "author": article.author, "published": article.published}


def _fetched(base_url: str, html_path: Path, page_id: str) -> dict:
    from assistant.ingest.fetch import fetch_article
    from assistant.settings import FetchSettings

    article = fetch_article(f"{base_url}/{page_id}.html", FetchSettings(max_bytes=50_000_000))
    return {"text": article.text, "title": article.title, "author": article.author, "published": article.published}


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run(split: str, extractors: list[str]) -> dict:
    """Scores per extractor on one split, with how often title, author and date were found."""
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(i for i in truth if split_of(i) == split)
    out: dict = {"split": split, "pages": len(ids), "extractors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for page_id in ids:
            saved = gzip.decompress((DATA / "html" / f"{page_id}.html.gz").read_bytes())
            (folder / f"{page_id}.html").write_bytes(saved)
        server, base = _serve(folder)
        try:
            for name in extractors:
                extract: Callable[[Path, str], dict] = {
                    "own": _own,
                    "html": partial(_as_file, folder),
                    "fetched": partial(_fetched, base),
                }[name]
                parts, found, began, per_page = [], Counter(), time.perf_counter(), {}
                for page_id in ids:
                    try:
                        got = extract(DATA / "html" / f"{page_id}.html.gz", page_id)
                    except Exception as err:  # a page that fails scores as empty
                        print(f"{name} {page_id[:10]}: {err}", file=sys.stderr)
                        got = {"text": ""}
                    part = shingle_matching(truth[page_id]["articleBody"], got.get("text", ""))
                    parts.append(part)
                    per_page[page_id] = round(part[0] / (part[0] + 0.5 * (part[1] + part[2])) if part[0] else 0.0, 3)
                    found.update(k for k in ("title", "author", "published") if got.get(k))
                result = scores(parts)
                result |= {f"with_{k}": found[k] for k in ("title", "author", "published")}
                result["seconds_per_page"] = round((time.perf_counter() - began) / max(len(ids), 1), 3)
                out["extractors"][name] = result | {"per_page_f1": per_page}
                print(name, {k: v for k, v in result.items()})
        finally:
            server.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--extractors", default="own,html,fetched")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    result = run(args.split, args.extractors.split(","))
    target = REPO / "bench" / "out" / f"extraction-{args.split}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
