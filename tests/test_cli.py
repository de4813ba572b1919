"""The CLI: thin over Assistant, fast to start, one-line errors with non-zero exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from tests.conftest import REPO

runner = CliRunner()


def test_help_starts_without_importing_heavy_libraries() -> None:
    code = (
        "import sys\nfrom assistant.cli import app\n"
        "heavy = {'torch', 'sentence_transformers', 'chromadb', 'llama_index', 'llama_cpp', 'gradio'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
    help_run = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--help"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert help_run.returncode == 0 and "ingest" in help_run.stdout and "ask" in help_run.stdout


def test_ask_without_a_store_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "How many troops?", "--data-dir", str(tmp_path), "--backend", "extractive"])
    assert result.exit_code == 1
    assert "assistant ingest" in result.output and "Traceback" not in result.output


def test_empty_question_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "   ", "--data-dir", str(tmp_path), "--backend", "extractive"])
    assert result.exit_code == 1 and "empty" in result.output


def test_ingest_then_ask_json_with_the_extractive_backend(tmp_path: Path, tiny_corpus: Path, monkeypatch) -> None:
    from tests.conftest import FakeEmbedder

    monkeypatch.setattr("assistant.engine.make_embedder", lambda settings, *_: FakeEmbedder())
    data = ["--data-dir", str(tmp_path / "data")]
    first = runner.invoke(app, ["ingest", str(tiny_corpus), *data])
    assert first.exit_code == 0, first.output
    assert "3 added" in first.output
    again = runner.invoke(app, ["ingest", str(tiny_corpus), *data])
    assert "nothing to write" in again.output and "3 unchanged" in again.output
    asked = runner.invoke(
        app, ["ask", "How many schools did the storm close?", "--json", "--backend", "extractive", *data]
    )
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert "40 schools" in answer["text"] and answer["citations"][0]["quote"]
    stats = runner.invoke(app, ["stats", *data])
    assert "documents: 3" in stats.output


def test_chat_repl_answers_until_an_empty_line(tmp_path: Path, tiny_corpus: Path, monkeypatch) -> None:
    from tests.conftest import FakeEmbedder

    monkeypatch.setattr("assistant.engine.make_embedder", lambda settings, *_: FakeEmbedder())
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(app, ["ingest", str(tiny_corpus), *data]).exit_code == 0
    result = runner.invoke(
        app, ["chat", "--backend", "extractive", *data], input="How many schools did the storm close?\n\n"
    )
    assert result.exit_code == 0, result.output
    assert "40 schools" in result.output and "Sources:" in result.output
    empty = runner.invoke(app, ["chat", "--backend", "extractive", *data], input="x" * 2000 + "\n\n")
    assert "limit is 1000" in empty.output, "an over-long question is refused and the REPL goes on"


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_one_shot_ask_with_the_local_model_prints_its_answer_and_its_errors(tmp_path: Path, tiny_corpus: Path) -> None:
    """As a user runs it: a new process per command, the default model loading in the background. Its error
    lines and its answer must reach the terminal (llama.cpp points stdout and stderr at /dev/null while it loads)."""
    from tests.conftest import link_model_cache

    data = link_model_cache(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_CHROMA_URL"} | {"ASSISTANT_DATA_DIR": str(data)}
    cli = str(Path(sys.executable).parent / "assistant")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cli, *argv], env=env, capture_output=True, text=True, timeout=240)

    missing = run("ask", "How many schools did the storm close?")
    assert missing.returncode == 1 and "assistant ingest" in missing.stderr, missing
    assert run("ingest", str(tiny_corpus)).returncode == 0
    answered = run("ask", "How many schools did the storm close?")
    assert answered.returncode == 0, answered.stderr
    assert "40" in answered.stdout and "[1]" in answered.stdout and "Sources:" in answered.stdout
    assert "llama_cpp:" in answered.stderr
