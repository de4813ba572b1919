"""Stores written by earlier releases still open and answer (fixtures in tests/fixtures/)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, FakeEmbedder
from tests.test_ingest import assert_both_sides_agree

FIXTURES = REPO / "tests" / "fixtures"


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def test_a_store_written_by_this_release_opens_and_answers(make_settings, tmp_path: Path, caplog) -> None:
    from assistant.engine import Assistant

    data = _copy("store-0.2", tmp_path)
    assistant = Assistant(make_settings(data_dir=data), llm=None, embedder=FakeEmbedder())
    with caplog.at_level(logging.WARNING, logger="assistant.store"):
        answer = assistant.ask("How many schools did the storm close?")
    assert "40 schools" in answer.text and answer.citations
    assert not [r for r in caplog.records if "built the lexical index" in r.message], "no migration needed"
    assert assistant.stats()["documents"] == 3
    assert assistant.ingest([_tiny(tmp_path)]).wrote_nothing


@pytest.mark.parametrize("question", ["How many schools did the storm close?"])
def test_a_store_from_before_the_lexical_index_gets_one_built_on_open(
    make_settings, tmp_path: Path, caplog, question: str
) -> None:
    from assistant.engine import Assistant

    data = _copy("store-0.1-before-lexical", tmp_path)
    assert not (data / "lexical").exists()
    assistant = Assistant(make_settings(data_dir=data), llm=None, embedder=FakeEmbedder())
    with caplog.at_level(logging.WARNING, logger="assistant.store"):
        answer = assistant.ask(question)
    assert "40 schools" in answer.text and answer.citations
    assert any("built the lexical index from 3 stored chunks" in r.message for r in caplog.records)
    assert assistant.store.lexical.exists()
    assert_both_sides_agree(assistant)
    passages = assistant.store.lexical_search("storm schools", 5, _no_filters())
    assert passages, "the migrated index answers lexical searches"


def _no_filters():
    from assistant.store.lexical import Filters

    return Filters()


def _tiny(tmp_path: Path) -> Path:
    from tests.conftest import TINY_ARTICLES

    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    for name, text in TINY_ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
