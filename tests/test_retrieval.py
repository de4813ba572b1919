"""Lexical index, rank fusion, evidence selection and the answerability gate."""

from __future__ import annotations

from assistant.evidence import select_evidence
from assistant.question import key_terms
from assistant.retrieval import BM25Index, fuse
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


def test_bm25_ranks_the_chunk_with_rare_query_terms_first() -> None:
    index = BM25Index(
        [
            chunk("a", "Rockets hit the base."),
            chunk("b", "Drones were shot down near Anbar."),
            chunk("c", "The base was quiet."),
        ]
    )
    ranked = index.search("where were drones shot down", 3)
    assert ranked[0][0].id == "b"
    assert all(c.id != "c" for c, _ in ranked), "chunks sharing no term are not returned"


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a, b, c = chunk("a", "a"), chunk("b", "b"), chunk("c", "c")
    fused = fuse([[a, b, c], [b, c, a]], k=60)
    assert next(x[0].id for x in fused) == "b"
    assert fused[0][2] == [2, 1]


def test_key_terms_are_names_and_figures_not_question_words() -> None:
    assert key_terms("How many soldiers were killed in Jordan in 2019?") == ["Jordan", "2019"]
    assert key_terms("Where were the drones shot down?") == []


def test_evidence_picks_relevant_sentences_and_flags_missing_names() -> None:
    passage = Passage(
        chunk=chunk("a", "Two drones were shot down near Ain al-Asad. The weather was mild. Rockets came from Zummar."),
        score=1.0,
    )
    evidence, support = select_evidence("Where were the drones shot down?", [passage], FakeEmbedder(), limit=2)
    assert evidence[0].quote == "Two drones were shot down near Ain al-Asad."
    assert evidence[0].number == 1 and not support.missing_terms
    _, weak = select_evidence("How many soldiers died in Jordan?", [passage], FakeEmbedder(), limit=2)
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
    evidence, _ = select_evidence("How many troops?", [Passage(chunk=c, score=1.0)], FakeEmbedder(), limit=1)
    assert text[evidence[0].start : evidence[0].end] == evidence[0].quote == "The base hosts 900 troops."
