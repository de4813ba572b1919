"""Evidence for news questions: the headline and opening of each retrieved article (invented articles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FakeLLM

FILLER = [
    "The harbour office stayed open through the winter repairs.",
    "Dock workers painted the old cranes a bright blue.",
    "A bakery near the pier sold out of rolls every morning.",
    "Tourists watched the fishing boats leave at dawn.",
    "The tide tables were printed on the back of the ferry timetable.",
    "Gulls nested on the roof of the customs house again.",
]


def _long_story(folder: Path) -> Path:
    """An article whose headline names the answer and whose later chunk matches the question's words best."""
    folder.mkdir(parents=True, exist_ok=True)
    body = " ".join(FILLER * 4)
    late = "After the storm season the port board met to choose a new harbour master for Marlin Bay."
    text = (
        "---\ntitle: Tove Lindqvist named harbour master of Marlin Bay\nsource: Bay Herald\npublished: 2026-03-12\n"
        f"---\n# Tove Lindqvist named harbour master of Marlin Bay\n\n{body}\n\n{late}\n"
    )
    (folder / "harbour.md").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("leads", [True, False])
def test_the_headline_of_a_retrieved_article_is_read_even_when_its_first_chunk_was_not_retrieved(
    fake_assistant_factory, tmp_path: Path, leads: bool
) -> None:
    llm = FakeLLM(lambda prompt: "NOT IN SOURCES")
    assistant = fake_assistant_factory(
        llm, chunking={"max_tokens": 60}, retrieval={"top_k": 1, "article_leads": leads, "min_relevance": 0.0}
    )
    assistant.ingest([_long_story(tmp_path / "news")])
    answer = assistant.ask("Who did the port board choose as the new harbour master for Marlin Bay?")
    retrieved = [p.text for p in answer.passages]
    assert len(retrieved) == 1 and "Tove Lindqvist named" not in retrieved[0], "the lead chunk was not retrieved"
    assert ("] Tove Lindqvist named harbour master" in llm.last_user_prompt) is leads
    # the headline is read once: in the header, or as a numbered (citable) sentence without the header repeating it
    assert llm.last_user_prompt.count("Tove Lindqvist named harbour master") == 1
    header = '"Tove Lindqvist named harbour master of Marlin Bay" (Bay Herald, 12 Mar 2026):'
    assert (header in llm.last_user_prompt) is not leads


@pytest.mark.parametrize(
    ("title", "source", "published", "header"),
    [
        (
            "Harbour master named for Marlin Bay | Bay Herald News",
            "Bay Herald",
            "2026-03-12",
            '"Harbour master named for Marlin Bay" (Bay Herald, 12 Mar 2026):',
        ),
        (
            "Storm closes the ferry to Skerry Island for a third day as winds rise",
            "Coast Post",
            "2026-01-05T06:40:00Z",
            '"Storm closes the ferry to Skerry Island for\u2026" (Coast Post, 5 Jan 2026):',
        ),
        ("Ferry strike ends", "", "spring 2026", '"Ferry strike ends" (spring 2026):'),
        ("", "Coast Post", "", "(Coast Post):"),
        ("Ferry strike ends", "", "", ""),
    ],
)
def test_an_article_header_is_short_but_keeps_headline_outlet_and_date(
    title: str, source: str, published: str, header: str
) -> None:
    """The model reads every header token before each answer: the site name after '|' goes (the outlet is
    given), a long headline is cut, and the date is written the short way."""
    from assistant.answer.prompting import article_header

    assert article_header(title, source, published) == header
