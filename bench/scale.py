"""Scale benchmark: archives of 10k and 100k chunks built from SQuAD/DROP sentences, through the public API.

For each size it ingests ``Assistant(settings, llm=None, embedder=...)`` and reports ingest chunks/s, retrieval
p50/p95 (``Answer.timings["retrieve"]``: query embedding + both searches + evidence) with and without a date
filter, the first question after opening, peak RSS and disk per 1k chunks. The fast embedder (``HashEmbedder``,
384 dimensions, token hashing) stands in for MiniLM so that a 100k store builds in minutes; the real MiniLM
query embedding is timed separately on the same questions and added to give the figure a user sees. ``--engines``
also times the lexical engines (tantivy, SQLite FTS5, the former pure-Python BM25) on the same chunks.

Writes bench/out/scale.json; ``bench/report.py`` renders it into docs/benchmarks.md.
Run: ``nice -n 10 .venv/bin/python bench/scale.py --sizes 10000,100000 --engines``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
DATA = REPO.parent / "shared" / "data"


class HashEmbedder:
    """Fast stand-in for MiniLM: content-word hashes into 384 dimensions, unit length (numpy)."""

    name = "hash-384"
    dimension = 384

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        from assistant.text import terms

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                out[row, int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little") % 384] += 1
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out.tolist()

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * 1.3) + 2


def sentences_and_questions() -> tuple[list[str], list[str]]:
    """Sentences of the SQuAD and DROP samples, and the SQuAD questions."""
    from assistant.text import split_sentences

    sentences: list[str] = []
    questions: list[str] = []
    for article in json.loads((DATA / "squad2-dev-sample.json").read_text())["data"]:
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            sentences += [text[s:e] for s, e in split_sentences(text)]
            questions += [qa["question"] for qa in paragraph["qas"]]
    for passage in json.loads((DATA / "drop-dev-sample.json").read_text()).values():
        text = passage["passage"]
        sentences += [text[s:e] for s, e in split_sentences(text)]
    return sentences, questions


ARTICLES_PER_FILE = 2_000


def write_archive(folder: Path, chunks: int, sentences: list[str], seed: int = 7) -> int:
    """An archive of about ``chunks`` chunks (articles of 14-22 sentences: about 3 chunks each) in .jsonl files."""
    rng = random.Random(seed)
    articles = max(1, chunks // 3)
    files = []
    for i in range(articles):
        body = [rng.choice(sentences) for _ in range(rng.randint(14, 22))]
        paragraphs = "\n\n".join(" ".join(body[j : j + 6]) for j in range(0, len(body), 6))
        record = {
            "title": f"Archive story {i}",
            "text": paragraphs,
            "source": f"Wire {i % 7}",
            "published": f"{2000 + i % 25}-{1 + i % 12:02d}-15",
        }
        if i % ARTICLES_PER_FILE == 0:  # files stay under the ingest's per-file size limit, as in a real archive
            files.append([])
        files[-1].append(json.dumps(record))
    for number, lines in enumerate(files):
        (folder / f"archive-{number:03d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return articles


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def minilm_query_ms(questions: list[str]) -> dict[str, float]:
    """Median time of the real MiniLM embedding of one question (after loading)."""
    from assistant.settings import EmbeddingSettings
    from assistant.store.embedding import make_embedder

    embedder = make_embedder(EmbeddingSettings())
    started = time.perf_counter()
    embedder.embed(["warm up"])
    load = time.perf_counter() - started
    times = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed([question])
        times.append(time.perf_counter() - started)
    return {"load_s": round(load, 2), "p50_ms": round(statistics.median(times) * 1000, 1)}


QUERY_SCRIPT = """
import json, resource, statistics, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from bench.scale import HashEmbedder, percentile
from assistant.engine import Assistant
from assistant.settings import Settings
questions = json.loads(Path({questions!r}).read_text())
settings = Settings(data_dir=Path({data!r}), chroma_url=None, llm={{"backend": "extractive"}})
started = time.perf_counter()
assistant = Assistant(settings, llm=None, embedder=HashEmbedder())
first = assistant.ask(questions[0])
first_s = time.perf_counter() - started
out = {{"first_query_after_open_s": round(first_s, 3)}}
for label, filters in (("unfiltered", None), ("published_from", {{"published_from": "2018-01-01"}})):
    times = [assistant.ask(q, filters=filters).timings["retrieve"] for q in questions]
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    out[label] = {{"p50_ms": round(p50 * 1000, 1), "p95_ms": round(p95 * 1000, 1)}}
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
model = {model!r}
if model:  # the same process answers with the default local model: what serving this archive costs in memory
    serving = Settings(data_dir=Path({data!r}), chroma_url=None, llm={{"model": model}})
    served = Assistant(serving, embedder=HashEmbedder())
    times = [served.ask(q).timings["total"] for q in questions[:5]]
    out["with_model"] = {{
        "answer_p50_s": round(statistics.median(times), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }}
print(json.dumps(out))
"""


def bench_size(chunks: int, sentences: list[str], questions: list[str], work: Path, serve_model: str = "") -> dict:
    """Build one archive store and measure it (queries in a fresh process, as a user would open it)."""
    from assistant.engine import Assistant
    from assistant.settings import Settings

    folder = work / f"archive-{chunks}"
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    articles = write_archive(corpus, chunks, sentences)
    settings = Settings(data_dir=folder / "data", chroma_url=None, near_duplicate_threshold=1.0)
    assistant = Assistant(settings, llm=None, embedder=HashEmbedder())
    report = assistant.ingest([corpus])
    if report.errors:
        raise SystemExit(f"ingest of the {chunks}-chunk archive failed: {report.errors[:3]}")
    stored = assistant.stats()["chunks"]
    if serve_model:
        share_models(serve_model, settings.data_dir)
    question_file = folder / "questions.json"
    question_file.write_text(json.dumps(questions))
    script = QUERY_SCRIPT.format(
        repo=str(REPO), questions=str(question_file), data=str(settings.data_dir), model=serve_model
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    queries = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "articles": articles,
        "chunks": stored,
        "ingest_seconds": round(report.seconds, 1),
        "ingest_chunks_per_second": round(report.chunks_written / report.seconds, 1),
        "ingest_peak_rss_mb": round(peak_rss_mb(), 1),
        "disk_mb_per_1k_chunks": round(disk_mb(settings.data_dir) / stored * 1000, 2),
        **queries,
    }


MODEL_CACHE = REPO / ".assistant" / "models"


def share_models(name: str, data_dir: Path) -> None:
    """Assemble the named local model once (in the repo's model cache) and let ``data_dir`` use that cache."""
    from assistant.llm.models import resolve_gguf

    resolve_gguf(name, MODEL_CACHE)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "models").exists():
        (data_dir / "models").symlink_to(MODEL_CACHE, target_is_directory=True)


def oneshot_ask(model: str, runs: int = 3) -> dict:
    """Wall time and peak RSS of ``assistant ask`` as a new process, on a store of the seed corpus."""
    data = Path(tempfile.mkdtemp(prefix="oneshot-"))
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_LLM__MODEL": model}
    cli = str(Path(sys.executable).parent / "assistant")
    try:
        share_models(model, data)
        # As `make install` does: the package's bytecode is written once, not compiled again by every process.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "assistant")], check=True)
        subprocess.run([cli, "ingest", str(REPO / "corpus")], env=env, capture_output=True, check=True)
        subprocess.run([cli, "ask", "warm-up: is the model assembled?"], env=env, capture_output=True)
        walls, peaks = [], []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                ["/usr/bin/time", "-f", "peak-kb %M", cli, "ask", "How many U.S. troops are in eastern Syria?"],
                env=env,
                capture_output=True,
                text=True,
            )
            walls.append(time.perf_counter() - started)
            peaks.append(int(done.stderr.rsplit("peak-kb", 1)[-1].split()[0]) / 1024)
        return {"model": model, "wall_p50_s": round(statistics.median(walls), 2), "peak_rss_mb": round(max(peaks), 1)}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def bench_engines(chunks: int, sentences: list[str], questions: list[str], work: Path) -> dict:
    """BM25 top-20 p50 of each lexical engine over the same ``chunks`` texts (pre-stemmed terms)."""
    import sqlite3

    from assistant.store.lexical import Entry, Filters, TantivyIndex
    from assistant.text import terms
    from assistant.types import Chunk

    rng = random.Random(3)
    texts = [" ".join(rng.choice(sentences) for _ in range(rng.randint(5, 9))) for _ in range(chunks)]
    dates = [20000115 + (i % 25) * 10000 for i in range(chunks)]
    queries = rng.sample(questions, 100)
    result: dict[str, dict] = {}

    index = TantivyIndex(work / f"engines-{chunks}" / "lexical")
    entries = [
        Entry(
            Chunk(id=f"c{i}", doc_id=f"d{i // 3}", text=t, start=0, end=len(t), chunk_index=0, paragraph_index=0),
            "h",
            d,
        )
        for i, (t, d) in enumerate(zip(texts, dates, strict=True))
    ]
    started = time.perf_counter()
    index.replace([], entries)
    build = time.perf_counter() - started

    def timed(call) -> float:
        times = []
        for q in queries:
            started = time.perf_counter()
            call(q)
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 2)

    started = time.perf_counter()
    index.replace(["d5"], [entries[15]])
    update = time.perf_counter() - started
    result["tantivy"] = {
        "build_s": round(build, 1),
        "p50_ms": timed(lambda q: index.search(q, 20, Filters())),
        "filtered_p50_ms": timed(lambda q: index.search(q, 20, Filters(published_from=20180101))),
        "update_ms": round(update * 1000),
    }

    db = sqlite3.connect(str(work / f"engines-{chunks}" / "fts.sqlite"))
    db.execute("create virtual table f using fts5(terms, published unindexed)")
    started = time.perf_counter()
    db.executemany("insert into f values (?, ?)", ((" ".join(terms(t)), d) for t, d in zip(texts, dates, strict=True)))
    db.commit()
    build = time.perf_counter() - started

    def fts(q: str, extra: str = "") -> list:
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms(q)))
        sql = f"select rowid from f where f match ? {extra} order by bm25(f) limit 20"
        return db.execute(sql, (match,)).fetchall() if match else []

    result["sqlite_fts5"] = {
        "build_s": round(build, 1),
        "p50_ms": timed(fts),
        "filtered_p50_ms": timed(lambda q: fts(q, "and published >= 20180101")),
    }
    if chunks <= 20_000:
        from bench.bm25_python import BM25Index

        started = time.perf_counter()
        bm25 = BM25Index([e.chunk for e in entries])
        result["python_bm25_rebuilt_per_change"] = {
            "build_s": round(time.perf_counter() - started, 1),
            "p50_ms": timed(lambda q: bm25.search(q, 20)),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts to build")
    parser.add_argument("--questions", type=int, default=60, help="questions timed per size")
    parser.add_argument("--engines", action="store_true", help="also compare lexical engines at 10k and 100k")
    parser.add_argument(
        "--serve-model", default="qwen2.5-coder-1.5b", help="model that answers on the largest archive ('' = none)"
    )
    parser.add_argument("--oneshot", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b", help="models for one-shot asks")
    args = parser.parse_args()
    sentences, questions = sentences_and_questions()
    asked = random.Random(5).sample(questions, args.questions)
    results: dict = {"machine": "2 cores, 24 GiB, no GPU, shared with other jobs", "date": time.strftime("%Y-%m-%d")}
    results["minilm_query_embedding"] = minilm_query_ms(asked[:30])
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=os.environ.get("SCALE_TMP")))
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        for size in sizes:
            model = args.serve_model if size == max(sizes) else ""
            results.setdefault("sizes", {})[str(size)] = bench_size(size, sentences, asked, work, model)
            print(json.dumps(results["sizes"][str(size)]), flush=True)
            if args.engines:
                results.setdefault("engines", {})[str(size)] = bench_engines(size, sentences, questions, work)
                print(json.dumps(results["engines"][str(size)]), flush=True)
        for name in filter(None, args.oneshot.split(",")):
            results.setdefault("oneshot", []).append(oneshot_ask(name))
            print(json.dumps(results["oneshot"][-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    from bench.report import render

    (REPO / "docs" / "benchmarks.md").write_text(render(OUT), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
