"""Every way a user starts the assistant answers a mistake with one line and a non-zero exit, never a traceback.

Each case runs the command as a user would (a subprocess: the `assistant` script or `python app.py`) from an
empty folder, with its own data dir and the extractive backend, so no model loads before the mistake is found.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

ASSISTANT = shutil.which("assistant", path=str(Path(sys.executable).parent)) or "assistant"
APP = [sys.executable, str(REPO / "app.py")]


def _run(tmp_path: Path, command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    base |= {
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "ASSISTANT_LLM__BACKEND": "extractive",
    }
    return subprocess.run(
        command, capture_output=True, text=True, env=base | env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line the command printed; fails on a zero exit, a traceback or more lines."""
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0, f"exit 0 for a mistake: {output}"
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, f"more than one line:\n{output}"
    return output


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


STARTS = {"app.py": APP, "serve": [ASSISTANT, "serve"]}


@pytest.mark.parametrize("start", sorted(STARTS))
def test_the_ui_with_a_bad_setting_says_which_in_one_line(tmp_path: Path, start: str) -> None:
    line = _one_line(_run(tmp_path, STARTS[start], ASSISTANT_RETRIEVAL__TOP_K="abc"))
    assert "retrieval.top_k" in line and "'abc'" in line


@pytest.mark.parametrize("start", sorted(STARTS))
def test_the_ui_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, start: str, busy_port: int) -> None:
    line = _one_line(_run(tmp_path, [*STARTS[start], "--port", str(busy_port)]))
    assert f"Port {busy_port}" in line and "in use" in line


@pytest.mark.parametrize("start", sorted(STARTS))
@pytest.mark.parametrize(
    ("auth", "named"),
    [({"ASSISTANT_UI__AUTH_USER": "editor"}, "auth_password"), ({"ASSISTANT_UI__AUTH_PASSWORD": "s3"}, "auth_user")],
)
def test_the_ui_with_half_set_basic_auth_says_what_is_missing(
    tmp_path: Path, start: str, auth: dict[str, str], named: str
) -> None:
    assert named.upper() in _one_line(_run(tmp_path, STARTS[start], **auth))


@pytest.mark.parametrize(
    "command",
    [["ingest"], ["ask", "How many ferries sailed?"], ["chat"], ["stats"], ["serve"]],
    ids=lambda c: c[0],
)
def test_every_command_with_a_bad_setting_says_which_in_one_line(tmp_path: Path, command: list[str]) -> None:
    line = _one_line(_run(tmp_path, [ASSISTANT, *command], ASSISTANT_STORE_RETRIES="many"))
    assert "store_retries" in line


SUITE = """name: bad-settings
corpus: corpus
settings:
{settings}
cases:
  - id: one
    question: How many ferries sailed from Quellmoor?
    answers: ["three"]
"""


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ("  retrieval:\n    top_k: abc", "retrieval.top_k"),
        ("  no_such_setting: 1", "no_such_setting"),
        ("  llm: fast", "llm"),
    ],
    ids=["bad value", "unknown name", "not a mapping"],
)
def test_eval_with_a_bad_settings_block_in_the_suite_says_which_in_one_line(
    tmp_path: Path, settings: str, named: str
) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "ferry.txt").write_text("Ferry\n\nThree ferries sailed from Quellmoor.\n")
    (tmp_path / "suite.yaml").write_text(SUITE.format(settings=settings), encoding="utf-8")
    line = _one_line(_run(tmp_path, [ASSISTANT, "eval", "suite.yaml", "--output", "out"]))
    assert named in line


def test_ingest_of_a_path_that_does_not_exist_fails_and_names_it(tmp_path: Path) -> None:
    line = _one_line(_run(tmp_path, [ASSISTANT, "ingest", "/no/such/path"]))
    assert "/no/such/path" in line and "no such file or folder" in line


def test_ingest_of_a_folder_without_article_files_fails_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "harbour.jpg").write_bytes(b"\xff\xd8\xff\xe0 not an article")
    line = _one_line(_run(tmp_path, [ASSISTANT, "ingest", "photos"]))
    assert "Nothing to ingest" in line and "photos" in line


def test_ingest_of_a_folder_whose_files_are_all_unreadable_fails_after_naming_each(tmp_path: Path) -> None:
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "a.txt").write_bytes(b"\x00\x01\x02\x03 binary, not text \x00\x00")
    done = _run(tmp_path, [ASSISTANT, "ingest", "drafts"])
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "a.txt" in done.stderr and done.stderr.strip().splitlines()[-1].startswith("error: No readable article")


def test_ingest_with_prune_of_an_empty_folder_is_allowed_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "emptied").mkdir()
    done = _run(tmp_path, [ASSISTANT, "ingest", "--prune", "emptied"])
    assert done.returncode == 0, done.stderr
    assert "no article files under emptied" in done.stderr and "--prune" in done.stderr
