"""Ingest speed and retrieval quality on a real news archive, in one run: the shipped ingest (one pass per chunk
through the int8 ONNX encoder) against the same one-pass ingest through torch in float32, optionally the two-pass
ingest that preceded it (``--two-pass``), and plain sentence-transformers encoding of the same chunk texts once.

The archive is built from /work/shared/data/realtimeqa-2024 (two weeks by default: title, source, url, published
of each distinct search-result page); its quiz questions score retrieval (hit@k: the gold choice's text in the
top-k passages) and evidence (the gold text in the sentences shown to the model). Not a test split for answers.
Writes bench/out/ingest.json. `python bench/ingest.py [--weeks 20240105,20240112] [--pages N]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
DATA = REPO.parent / "shared" / "data" / "realtimeqa-2024"
if not DATA.exists():
    DATA = Path("/work/shared/data/realtimeqa-2024")


def news_archive(folder: Path, weeks: list[str], pages: int | None) -> tuple[int, list[tuple[str, str]]]:
    """Write the weeks' distinct pages as one .jsonl; returns (pages written, [(question, gold text)])."""
    seen: dict[str, dict] = {}
    for week in weeks:
        for line in (DATA / f"{week}_gcs.jsonl").read_text(encoding="utf-8").splitlines():
            for page in json.loads(line)["search_result"]:
                if page.get("url") and (page.get("text") or "").strip() and page["url"] not in seen:
                    seen[page["url"]] = {
                        "title": page.get("title") or page["url"],
                        "text": page["text"],
                        "source": urlparse(page["url"]).netloc,
                        "url": page["url"],
                        "published": (page.get("publish_date") or "")[:10] or None,
                    }
    records = list(seen.values())[:pages] if pages else list(seen.values())
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    questions = []
    for week in weeks:
        for line in (DATA / f"{week}_qa.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            gold = item["choices"][int(item["answer"][0])]
            questions.append((item["question_sentence"], gold))
    return len(records), questions


class TwoPass:
    """The real embedder seen without its one-pass method: ingest then embeds every sentence again on its own."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed(texts)  # type: ignore[attr-defined]

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)  # type: ignore[attr-defined]


def quality(assistant: object, questions: list[tuple[str, str]], k: int, evidence: int) -> dict:
    """hit@k of the retrieved passages and the gold text in the selected evidence sentences."""
    from assistant.answer.evidence import select_evidence
    from assistant.answer.retrieval import HybridRetriever
    from assistant.question import analyse_question

    retriever = HybridRetriever(assistant.store, assistant.embedder, assistant.settings.retrieval)  # type: ignore[attr-defined]
    hits = shown = 0
    for question, gold in questions:
        passages = retriever.retrieve(question, top_k=k)
        hits += any(gold.lower() in p.chunk.text.lower() for p in passages)
        chosen, _ = select_evidence(analyse_question(question), passages, assistant.embedder, limit=evidence)  # type: ignore[attr-defined]
        shown += any(gold.lower() in e.quote.lower() for e in chosen)
    n = max(len(questions), 1)
    return {f"hit_at_{k}": round(hits / n, 3), f"gold_in_{evidence}_evidence_sentences": round(shown / n, 3)}


def _machine() -> str:
    """The processor, its cores and the load when the run began (figures from different machines do not compare)."""
    import os
    import platform

    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.machine()
    )
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the start"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", default="20240105,20240112")
    parser.add_argument("--pages", type=int, default=None, help="first N distinct pages only (default: all)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--two-pass", action="store_true", help="also time the two-pass ingest (torch)")
    args = parser.parse_args()
    from assistant.engine import Assistant
    from assistant.settings import Settings
    from assistant.store.embedding import SentenceTransformerEmbedder

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": _machine(), "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        pages, questions = news_archive(corpus, args.weeks.split(","), args.pages)
        shipped = SentenceTransformerEmbedder(Settings().embedding)
        embedder = SentenceTransformerEmbedder(Settings().embedding.model_copy(update={"ingest_encoder": "torch"}))
        for warm in (shipped, embedder):  # loads (or builds) each encoder outside every timing
            warm.embed(["warm up"] * 64)
            warm.encode_chunks(["Warm up. Twice."], [[(0, 8), (9, 15)]])
        candidates: list[tuple[str, object]] = [("onnx_int8", shipped), ("torch", embedder)]
        if args.two_pass:
            candidates.append(("two_pass", TwoPass(embedder)))
        runs = {}
        for name, used in candidates:
            settings = Settings(data_dir=Path(tmp) / name, chroma_url=None, llm={"backend": "extractive"})
            assistant = Assistant(settings, llm=None, embedder=used)  # type: ignore[arg-type]
            report = assistant.ingest([corpus])
            runs[name] = (assistant, report)
        chunks = runs["torch"][0].store.all_chunks()
        texts = [c.text for c in chunks]
        model = embedder._load_model()
        started = time.perf_counter()
        model.encode(texts, batch_size=embedder.settings.batch_size, normalize_embeddings=True)
        plain = time.perf_counter() - started
        results["archive"] = {
            "weeks": args.weeks,
            "pages": pages,
            "chunks": len(chunks),
            "questions": len(questions),
            "text_mb": round(sum(len(t) for t in texts) / 1e6, 2),
        }
        results["plain_encode_chunks_seconds"] = round(plain, 1)
        for name, (assistant, report) in runs.items():
            results[name] = {
                "ingest_seconds": round(report.seconds, 1),
                "pages_per_second": round(pages / report.seconds, 2),
                "ingest_over_plain_encode": round(report.seconds / plain, 2),
                **quality(assistant, questions, args.top_k, assistant.settings.retrieval.evidence_sentences),
            }
        results["speedup_onnx_int8_over_torch"] = round(
            results["torch"]["ingest_seconds"] / results["onnx_int8"]["ingest_seconds"], 2
        )
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
