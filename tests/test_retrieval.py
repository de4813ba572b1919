"""Lexical index, rank fusion, evidence selection and the answerability gate."""

from __future__ import annotations

from pathlib import Path

from assistant.answer.evidence import select_evidence
from assistant.answer.retrieval import fuse, keep_leaders
from assistant.question import analyse_question, key_terms
from assistant.store.lexical import Entry, Filters, TantivyIndex
from assistant.text import terms
from assistant.types import Chunk, Passage
from tests.conftest import FakeEmbedder


def chunk(cid: str, text: str) -> Chunk:
    from assistant.text import split_sentences

    return Chunk(
        id=cid,
        doc_id=f"d-{cid}",
        text=text,
        start=0,
        end=len(text),
        chunk_index=0,
        paragraph_index=0,
        title="",
        sentence_spans=tuple(split_sentences(text)),
    )


def test_terms_drop_stopwords_and_stem_plurals() -> None:
    assert terms("How many U.S. troops are in Syria's east?") == ["us", "troop", "syria", "east"]


def entry(c: Chunk, source: str = "", published_n: int = 0) -> Entry:
    return Entry(c, "h", published_n) if not source else Entry(_with_source(c, source), "h", published_n)


def _with_source(c: Chunk, source: str) -> Chunk:
    import dataclasses

    return dataclasses.replace(c, source=source)


def test_bm25_ranks_the_chunk_with_rare_query_terms_first(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path / "lexical")
    index.replace(
        [],
        [
            entry(chunk("a", "Rockets hit the base.")),
            entry(chunk("b", "Drones were shot down near Anbar.")),
            entry(chunk("c", "The base was quiet.")),
        ],
    )
    ranked = index.search("where were drones shot down", 3, Filters())
    assert ranked[0][0] == "b"
    assert all(cid != "c" for cid, _ in ranked), "chunks sharing no term are not returned"


def test_lexical_filters_narrow_without_changing_scores_and_edits_replace_entries(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path / "lexical")
    index.replace(
        [],
        [
            entry(chunk("old", "Drones were shot down in 2019."), "Wire", 20190105),
            entry(chunk("new", "Drones were shot down again."), "Daily", 20240301),
        ],
    )
    both = dict(index.search("drones shot down", 5, Filters()))
    recent = index.search("drones shot down", 5, Filters(published_from=20200101))
    assert [cid for cid, _ in recent] == ["new"] and recent[0][1] == both["new"]
    assert [cid for cid, _ in index.search("drones", 5, Filters(source="Wire"))] == ["old"]
    assert index.count(Filters(published_to=20201231)) == 1 and index.count(Filters()) == 2
    index.replace(["d-old"], [entry(chunk("old2", "Rockets were fired."), "Wire", 20190105)])
    assert index.chunk_ids_of("d-old") == [] and index.chunk_ids_of("d-old2") == ["old2"]
    assert index.fetch(["new", "old2"])["old2"].chunk.text == "Rockets were fired."
    assert not index.exists(), "not marked built until a full build says so"
    index.mark_built()
    assert TantivyIndex(tmp_path / "lexical").exists()


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = fuse([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert fused[0][0] == "b"
    assert fused[0][2] == [2, 1]


def test_the_first_hit_of_each_search_keeps_a_place_after_fusion() -> None:
    dense = ["d1", "both1", "both2", "d2", "both3"]
    lexical = ["rare", "both1", "both2", "both3", "l1"]
    fused = fuse([dense, lexical], k=60)
    assert "rare" not in [item for item, _, _ in fused[:3]], "plain fusion drops a lexical-only first hit"
    kept = [item for item, _, _ in keep_leaders(fused, [dense, lexical], 3)]
    assert len(kept) == 3 and "rare" in kept and "d1" in kept and kept[0] == "both1"
    agreeing = fuse([["a", "b", "c"], ["a", "c", "b"]], k=60)
    assert keep_leaders(agreeing, [["a", "b", "c"], ["a", "c", "b"]], 2) == agreeing[:2]


def test_key_terms_are_names_and_figures_not_question_words() -> None:
    assert key_terms("How many soldiers were killed in Jordan in 2019?") == ["Jordan", "2019"]
    assert key_terms("Where were the drones shot down?") == []


def test_evidence_picks_relevant_sentences_and_flags_missing_names() -> None:
    passage = Passage(
        chunk=chunk("a", "Two drones were shot down near Ain al-Asad. The weather was mild. Rockets came from Zummar."),
        score=1.0,
    )
    evidence, support = select_evidence(
        analyse_question("Where were the drones shot down?"), [passage], FakeEmbedder(), limit=2
    )
    assert evidence[0].quote == "Two drones were shot down near Ain al-Asad."
    assert evidence[0].number == 1 and not support.missing_terms
    _, weak = select_evidence(analyse_question("How many soldiers died in Jordan?"), [passage], FakeEmbedder(), limit=2)
    assert weak.missing_terms == ("Jordan",) and weak.is_weak(0.0)


def test_evidence_offsets_point_into_the_article() -> None:
    text = "Intro line.\n\nThe base hosts 900 troops. Nothing else."
    c = Chunk(
        id="x",
        doc_id="d",
        text=text[13:],
        start=13,
        end=len(text),
        chunk_index=1,
        paragraph_index=1,
        sentence_spans=((0, 26), (27, 40)),
    )
    evidence, _ = select_evidence(
        analyse_question("How many troops?"), [Passage(chunk=c, score=1.0)], FakeEmbedder(), limit=1
    )
    assert text[evidence[0].start : evidence[0].end] == evidence[0].quote == "The base hosts 900 troops."
