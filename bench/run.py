"""Engine benchmarks: ingest throughput, per-stage answer latency per backend, peak memory.

Writes bench/out/engine.json and regenerates docs/benchmarks.md from every JSON in bench/out/.
Run with `make bench` (or `python bench/run.py --quick`). Medians are from one run on this machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
SQUAD = REPO.parent / "shared" / "data" / "squad2-dev-sample.json"

QUESTIONS = [
    "How many U.S. troops are in eastern Syria?",
    "How many rockets were launched from Zummar?",
    "How many drones were shot down?",
    "How many U.S. troops are in Iraq?",
    "Where were the drones shot down?",
    "Who did the Iraqi prime minister meet in the United States?",
    "How long was the pause in hostilities?",
    "What kind of mission are U.S. troops on?",
    "How many U.S. soldiers were killed in Jordan?",
    "What is the name of the U.S. defense secretary?",
]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def squad_corpus(folder: Path, limit: int) -> int:
    """Write SQuAD sample paragraphs as a .jsonl corpus (for ingest throughput); returns how many."""
    data = json.loads(SQUAD.read_text())["data"]
    lines = []
    for article in data:
        for i, paragraph in enumerate(article["paragraphs"]):
            lines.append({"title": f"{article['title']} ({i + 1})", "text": paragraph["context"], "source": "SQuAD"})
    lines = lines[:limit]
    (folder / "squad.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    return len(lines)


def bench_ingest(results: dict, limit: int) -> None:
    from assistant.engine import Assistant
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        articles = squad_corpus(corpus, limit) if SQUAD.exists() else 0
        assistant = Assistant(Settings(data_dir=Path(tmp) / "data", chroma_url=None, llm={"backend": "extractive"}))
        assistant.embedder.embed(["warm up"] * 64)  # a batch: loads the model ingest uses, outside the timing
        cold = assistant.ingest([corpus])
        warm = assistant.ingest([corpus])
        results["ingest"] = {
            "articles": articles,
            "chunks": cold.chunks_written,
            "cold_seconds": round(cold.seconds, 2),
            "chunks_per_second": round(cold.chunks_written / cold.seconds, 1) if cold.seconds else None,
            "reingest_unchanged_seconds": round(warm.seconds, 3),
            "reingest_wrote_nothing": warm.wrote_nothing,
        }
        results["ingest"].update(raw_encode(assistant.store.all_chunks(), cold.seconds))


def raw_encode(chunks: list, ingest_seconds: float) -> dict:
    """``SentenceTransformer.encode`` alone on the texts the ingest embedded: the chunks, then the chunks and their
    distinct sentences (what ingest embeds); and the same with torch's dynamic int8 quantization of MiniLM."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.settings import EmbeddingSettings
    from assistant.store.embedding import installed_model_path

    settings = EmbeddingSettings()
    texts = [c.text for c in chunks]
    sentences = list(dict.fromkeys(c.text[s:e] for c in chunks for s, e in c.sentence_spans))
    model = SentenceTransformer(str(installed_model_path()), device="cpu", local_files_only=True)
    model.max_seq_length = settings.max_seq_tokens

    def timed(encoder: object, batch: list[str]) -> tuple[float, object]:
        started = time.perf_counter()
        vectors = encoder.encode(batch, batch_size=settings.batch_size, normalize_embeddings=True)  # type: ignore[attr-defined]
        return time.perf_counter() - started, vectors

    chunk_s, chunk_vectors = timed(model, texts)
    sentence_s, _ = timed(model, sentences)
    quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    int8_s, int8_vectors = timed(quantized, texts)
    cosine = np.sum(np.asarray(chunk_vectors) * np.asarray(int8_vectors), axis=1)
    return {
        "raw_encode_chunks_per_second": round(len(texts) / chunk_s, 1),
        "raw_encode_with_sentences_chunks_per_second": round(len(texts) / (chunk_s + sentence_s), 1),
        "sentences": len(sentences),
        "ingest_over_raw_encode": round(chunk_s / ingest_seconds, 2),
        "ingest_over_raw_encode_with_sentences": round((chunk_s + sentence_s) / ingest_seconds, 2),
        "int8_raw_encode_speedup": round(chunk_s / int8_s, 2),
        "int8_cosine_to_fp32_min_median": [round(float(cosine.min()), 3), round(float(np.median(cosine)), 3)],
    }


def bench_answers(results: dict, backends: list[str], repeats: int) -> None:
    from assistant.engine import Assistant
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            settings = Settings(data_dir=Path(tmp) / "data", chroma_url=None, llm={"backend": backend})
            models = REPO / ".assistant" / "models"
            if models.exists() and not settings.model_cache_dir.exists():
                settings.model_cache_dir.parent.mkdir(parents=True, exist_ok=True)
                settings.model_cache_dir.symlink_to(models)
            assistant = Assistant(settings)
            assistant.ingest([REPO / "corpus"])
            started = time.perf_counter()
            assistant.ask(QUESTIONS[0])
            first = time.perf_counter() - started
            stages: dict[str, list[float]] = {"retrieve": [], "generate": [], "verify": [], "total": []}
            statuses: dict[str, int] = {}
            for _ in range(repeats):
                for question in QUESTIONS:
                    answer = assistant.ask(question)
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
                    for stage in stages:
                        stages[stage].append(answer.timings.get(stage, 0.0))
            results.setdefault("answers", {})[backend] = {
                "questions": len(QUESTIONS) * repeats,
                "first_answer_seconds_incl_model_load": round(first, 2),
                "median": {k: round(statistics.median(v), 3) for k, v in stages.items()},
                "p95_total": round(percentile(stages["total"], 0.95), 3),
                "statuses": statuses,
            }
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)


def write_markdown() -> None:
    """docs/benchmarks.md from bench/out/*.json."""
    from bench.report import render

    (REPO / "docs" / "benchmarks.md").write_text(render(OUT), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer articles and repeats")
    parser.add_argument("--backends", default="extractive,llama_cpp")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": "2 cores, 24 GiB, no GPU", "date": time.strftime("%Y-%m-%d")}
    bench_ingest(results, 60 if args.quick else 400)
    bench_answers(results, args.backends.split(","), 1 if args.quick else 3)
    (OUT / "engine.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_markdown()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
