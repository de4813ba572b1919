"""The calculation path with the real local model: the grammar compiles and holds it to the format, the engine adds."""

from __future__ import annotations

import pytest

from assistant.answer.calculation_prompt import build_calculation_messages, calculation_grammar, read_calculation
from assistant.checks.calculation import evaluate
from assistant.engine import Assistant
from assistant.question import analyse_question
from assistant.settings import Settings
from assistant.types import Chunk, Evidence
from tests.conftest import SEED_CORPUS, link_model_cache

pytestmark = pytest.mark.integration

TROOPS = "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria on an advise-and-assist mission."


@pytest.fixture(scope="module")
def real_assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    data = link_model_cache(tmp_path_factory.mktemp("calc"))
    assistant = Assistant(Settings(data_dir=data, chroma_url=None))
    assert assistant.ingest([SEED_CORPUS]).added >= 1
    return assistant


def test_grammar_holds_the_model_to_one_operation_over_existing_sentences(real_assistant: Assistant) -> None:
    chunk = Chunk(id="c", doc_id="d", text="", start=0, end=0, chunk_index=0, paragraph_index=0)
    evidence = [Evidence(number=1, quote=TROOPS, chunk=chunk, start=0, end=len(TROOPS), score=1.0)]
    question = "How many more U.S. troops are in Iraq than in eastern Syria?"
    llm = real_assistant.llm
    assert llm is not None
    raw = "".join(
        llm.stream(
            build_calculation_messages(analyse_question(question), evidence, ("DIFF",)),
            max_tokens=80,
            grammar=calculation_grammar(("DIFF",), [1]),
        )
    )
    expression = read_calculation(raw)
    assert expression == "NONE" or expression.startswith("DIFF("), raw
    calculation = evaluate(expression, {1: TROOPS})
    assert calculation.error == "" or "[1]" in expression


def test_troops_in_iraq_and_syria_combined_are_added_by_the_engine(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("How many U.S. troops are there in Iraq and Syria combined?")
    assert answer.text.startswith("3,400 ("), answer
    assert answer.signals.get("calculated") == 1
    assert any("2,500 troops in Iraq" in c.quote for c in answer.citations)
    article = real_assistant.get_article(answer.citations[0].doc_id)
    assert article is not None
    for citation in answer.citations:
        assert article.text[citation.start : citation.end] == citation.quote
