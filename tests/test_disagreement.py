"""Disagreeing sources side by side: different figures from different articles are each given with their source,
newest first; the same figure in several articles is one answer citing them all. Invented articles only."""

from __future__ import annotations

from pathlib import Path

from assistant.checks.disagreement import counted_head, figures_in, side_by_side
from assistant.types import Answer, Chunk, Citation, Evidence

FIRST = "Five rockets were fired at the Brennmoor depot on Tuesday night, the valley police said."
UPDATE = "Six rockets were fired at the Brennmoor depot on Tuesday night, police said in an update on Wednesday."
SAME = "Police said five rockets hit the Brennmoor depot on Tuesday night."
QUESTION = "How many rockets were fired at the Brennmoor depot?"


def _evidence(number: int, quote: str, doc: str, outlet: str, day: str, coverage: float = 0.8) -> Evidence:
    chunk = Chunk(
        id=f"{doc}-0", doc_id=doc, text=quote, start=0, end=len(quote), chunk_index=0, paragraph_index=0,
        title=f"{outlet} story", source=outlet, url=f"https://{doc}.example/story", published=day,
    )  # fmt: skip
    return Evidence(number=number, quote=quote, chunk=chunk, start=0, end=len(quote), score=0.9, coverage=coverage)


def _answer_citing(item: Evidence, text: str) -> tuple[Answer, dict[tuple[str, int], int]]:
    citation = Citation(
        1, item.chunk.doc_id, item.chunk.title, item.chunk.source, item.chunk.published, item.chunk.url,
        item.chunk.id, item.start, item.end, item.quote, item.score,
    )  # fmt: skip
    return Answer(QUESTION, text, (citation,), status="unconfirmed"), {(item.chunk.doc_id, item.start): 1}


def test_figures_are_read_with_the_thing_counted() -> None:
    assert counted_head(QUESTION) == "rockets"
    assert figures_in(UPDATE, "rockets") == [(6.0, "Six rockets")]
    assert figures_in("On 3 March 12 Grad rockets fell.", "rockets") == [(12.0, "12 Grad rockets")]
    assert figures_in("The depot employs 40 people.", "rockets") == []


def test_different_figures_from_different_articles_are_each_given_newest_first() -> None:
    first = _evidence(1, FIRST, "doc-a", "Harrowdale Courier", "2026-03-03")
    update = _evidence(2, UPDATE, "doc-b", "Valley Ledger", "2026-03-04")
    answer, numbering = _answer_citing(first, "Five rockets [1]")
    shown = side_by_side(answer, [first, update], numbering)
    assert shown.text.startswith("The reports differ: ")
    assert shown.text.index("Six rockets [2] (Valley Ledger, 2026-03-04)") < shown.text.index(
        "Five rockets [1] (Harrowdale Courier, 2026-03-03)"
    )
    assert [(c.number, c.doc_id) for c in shown.citations] == [(1, "doc-a"), (2, "doc-b")]
    assert numbering[("doc-b", 0)] == 2


def test_the_same_figure_in_several_outlets_is_one_answer_citing_them_all() -> None:
    first = _evidence(1, FIRST, "doc-a", "Harrowdale Courier", "2026-03-03")
    same = _evidence(2, SAME, "doc-c", "Pellham Post", "2026-03-03")
    answer, numbering = _answer_citing(first, "Five rockets [1].")
    shown = side_by_side(answer, [first, same], numbering)
    assert shown.text == "Five rockets [1] [2]."
    assert {c.doc_id for c in shown.citations} == {"doc-a", "doc-c"}


def test_unrelated_or_ambiguous_sentences_leave_the_answer_alone() -> None:
    first = _evidence(1, FIRST, "doc-a", "Harrowdale Courier", "2026-03-03")
    off_topic = _evidence(2, "Nine rockets were shown at the air museum.", "doc-d", "Museum News", "2026-03-05", 0.1)
    two_counts = _evidence(3, "Six rockets were fired and two rockets were shot down.", "doc-e", "Ledger", "2026-03-05")
    answer, numbering = _answer_citing(first, "Five rockets [1]")
    assert side_by_side(answer, [first, off_topic, two_counts], numbering) == answer
    abstained = Answer(QUESTION, "The articles don't say.", (), status="abstained")
    assert side_by_side(abstained, [first, _evidence(2, UPDATE, "doc-b", "L", "2026-03-04")], {}) == abstained


def test_the_engine_sets_a_first_report_and_its_update_side_by_side(tmp_path: Path, fake_assistant_factory) -> None:
    corpus = tmp_path / "reports"
    corpus.mkdir()
    (corpus / "first.md").write_text(
        "---\ntitle: Rockets hit Brennmoor depot\nsource: Harrowdale Courier\npublished: 2026-03-03\n---\n"
        f"{FIRST}\n\nNo one was hurt, and the depot's fuel tanks were not damaged.\n",
        encoding="utf-8",
    )
    (corpus / "update.md").write_text(
        "---\ntitle: Brennmoor attack larger than first thought\nsource: Valley Ledger\npublished: 2026-03-04\n---\n"
        f"{UPDATE}\n\nInvestigators found the launch site in a field near Orsk.\n",
        encoding="utf-8",
    )
    assistant = fake_assistant_factory(llm=None)
    assistant.ingest([corpus])
    answer = assistant.ask(QUESTION)
    assert answer.text.startswith("The reports differ: Six rockets [")
    assert "(Valley Ledger, 2026-03-04)" in answer.text and "(Harrowdale Courier, 2026-03-03)" in answer.text
    assert {c.source for c in answer.citations} == {"Valley Ledger", "Harrowdale Courier"}
