"""A store past SQLite's variable limit (32,766) answers questions, with and without filters (fake embedder)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.conftest import FakeEmbedder


class FastFakeEmbedder(FakeEmbedder):
    """The conftest hash embedder, vectorized with numpy (the same idea, fast enough for 33k chunks)."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        import hashlib

        import numpy as np

        from assistant.text import terms

        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                out[row, int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dimension] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out.tolist()


SQLITE_MAX_VARIABLES = 32_766
WORDS = """harbor council permit bridge school storm festival river museum budget rail tram clinic market farm
library stadium airport ferry tunnel canal forest mine plant factory tower square garden bakery theater college
hospital court prison station depot warehouse pier dock lighthouse orchard vineyard quarry mill dam reservoir""".split()
TOWNS = """Arlen Brisk Corvale Dunmore Elsby Farrow Glenholt Harwick Ivel Jessop Kelso Lorne Marlow Nesby Orrin
Pellam Quarry Rusk Selby Tarrin Ulver Vance Wexley Yarrow""".split()


def write_archive(folder: Path, articles: int) -> Path:
    """A .jsonl archive of one-chunk articles, each different enough not to count as a near copy."""
    rng = random.Random(11)
    lines = []
    for i in range(articles):
        a, b, c = rng.sample(WORDS, 3)
        town = rng.choice(TOWNS)
        text = (
            f"Item {i}: the {a} board in {town} approved {rng.randint(2, 900)} {b} grants on day {i % 365}, "
            f"and the {c} office reported {rng.randint(1, 99)} complaints."
        )
        year = 2000 + i % 25
        lines.append(
            {"title": f"{town} {a} {i}", "text": text, "source": f"Wire {i % 5}", "published": f"{year}-01-15"}
        )
    lines.append(
        {
            "title": "Zanzibar ferry",
            "text": "The Zanzibar ferry council approved 4,321 harbor permits on Monday.",
            "source": "Wire 9",
            "published": "2024-06-01",
        }
    )
    path = folder / "archive.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    return path


@pytest.mark.scale
@pytest.mark.timeout(2400)
def test_store_past_the_sqlite_variable_limit_answers_with_and_without_filters(make_settings, tmp_path: Path) -> None:
    from assistant.engine import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_archive(corpus, SQLITE_MAX_VARIABLES + 400)
    settings = make_settings(near_duplicate_threshold=1.0)
    assistant = Assistant(settings, llm=None, embedder=FastFakeEmbedder())
    report = assistant.ingest([corpus])
    assert not report.errors
    assert report.chunks_written > SQLITE_MAX_VARIABLES
    assert assistant.stats()["chunks"] == report.chunks_written

    fresh = Assistant(settings, llm=None, embedder=FastFakeEmbedder())
    answer = fresh.ask("How many harbor permits did the Zanzibar ferry council approve?")
    assert "4,321" in answer.text and answer.citations
    assert answer.citations[0].title == "Zanzibar ferry"
    assert answer.timings["retrieve"] < 5
    dated = fresh.ask(
        "How many harbor permits did the Zanzibar ferry council approve?", filters={"published_from": "2024-01-01"}
    )
    assert dated.citations and dated.citations[0].title == "Zanzibar ferry"
    for passage in dated.passages:
        article = fresh.get_article(passage.doc_id)
        assert article is not None and article.published >= "2024-01-01"
    narrowed = fresh.ask("How many grants were approved?", filters={"source": "Wire 3", "published_to": "2001-12-31"})
    for passage in narrowed.passages:
        article = fresh.get_article(passage.doc_id)
        assert article is not None and article.source == "Wire 3" and article.published <= "2001-12-31"
    assert fresh.ingest([corpus]).wrote_nothing
