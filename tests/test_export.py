"""The answer to take away: Markdown with numbered references; the JSON output keeps its shape."""

from __future__ import annotations

from assistant.answer.export import answer_markdown, escape_markdown
from assistant.types import Answer, Citation

QUOTE = "The Aldwick town council voted seven to two on Tuesday to keep the Brant Street library open."


def _answer(**changes: object) -> Answer:
    citation = Citation(
        number=1,
        doc_id="doc-1",
        title="Aldwick council votes to keep the old library open",
        source="Harrowdale Courier",
        published="2026-02-09",
        url="https://courier.example/news/library-vote",
        chunk_id="doc-1-0",
        start=0,
        end=len(QUOTE),
        quote=QUOTE,
        score=0.9,
    )
    values: dict[str, object] = {
        "question": "How did the Aldwick council vote on the library?",
        "text": "Seven to two, to keep it open [1].",
        "citations": (citation,),
        "status": "verified",
        "confidence": 0.93,
    }
    values.update(changes)
    return Answer(**values)  # type: ignore[arg-type]


def test_markdown_gives_the_answer_and_each_reference_with_title_outlet_date_url_and_quote() -> None:
    text = answer_markdown(_answer())
    assert text.startswith("**Question:** How did the Aldwick council vote on the library?\n\nSeven to two")
    assert "open [1]." in text and "*Verified, 93% likely right:" in text
    assert (
        "[1] **Aldwick council votes to keep the old library open**. Harrowdale Courier, 2026-02-09. "
        "<https://courier.example/news/library-vote>"
    ) in text
    assert f"   > “{QUOTE}”" in text


def test_article_text_cannot_inject_markdown_links_or_html() -> None:
    evil = _answer(text="See ![x](https://evil.example/p.png) <b>now</b> [1]")
    bad_citation = evil.citations[0].__class__(**{**evil.citations[0].__dict__, "url": "javascript:alert(1)"})
    text = answer_markdown(Answer(**{**evil.__dict__, "citations": (bad_citation,)}))
    assert "![x](" not in text and "<b>" not in text and "javascript:" not in text
    assert "\\!\\[x\\]" in text and "[1]" in text
    assert escape_markdown("*bold* _it_") == "\\*bold\\* \\_it\\_"


def test_an_abstention_has_no_reference_list() -> None:
    text = answer_markdown(_answer(text="The articles don't say.", citations=(), status="abstained", confidence=None))
    assert "References" not in text and "*No answer:" in text


def test_the_json_output_keeps_its_shape() -> None:
    keys = set(_answer().to_dict())
    assert keys == {
        "question", "text", "citations", "status", "confidence", "signals", "unsupported", "passages", "timings",
        "backend", "evidence", "as_of", "dates_read", "stale_note", "status_meaning",
    }  # fmt: skip
    assert set(_answer().to_dict()["citations"][0]) == {
        "number", "doc_id", "title", "source", "published", "url", "chunk_id", "start", "end", "quote", "score",
    }  # fmt: skip
