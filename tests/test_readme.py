"""The user docs say what the code does: settings tables, status words, links, and the README's length."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from assistant.settings import Settings
from assistant.types import STATUS_LABELS
from tests.conftest import REPO

ROW = re.compile(r"^\| `([a-z_.]+)` \| `(ASSISTANT_[A-Z_]+)` \| ([^|]+) \|", re.M)
README = REPO / "README.md"
CONFIGURATION = REPO / "docs" / "configuration.md"
LINK = re.compile(r"\]\(([^)#\s]*)(#[^)\s]*)?\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)
WRITTEN_ON_OTHER_BRANCHES: set[str] = set()
"""Pages of this round written by other helpers' branches; linked now, present once those branches merge."""


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _rows(path: Path) -> list[tuple[str, str, str]]:
    return ROW.findall(path.read_text(encoding="utf-8"))


def _default(path: str) -> object:
    value: object = Settings()
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _every_field(model: BaseModel, prefix: str = "") -> set[str]:
    fields: set[str] = set()
    for name in type(model).model_fields:
        value = getattr(model, name)
        fields |= _every_field(value, f"{prefix}{name}.") if isinstance(value, BaseModel) else {prefix + name}
    return fields


def _check_rows(rows: list[tuple[str, str, str]]) -> None:
    for path, env, shown in rows:
        assert env == "ASSISTANT_" + path.upper().replace(".", "__"), path
        actual = _default(path)  # raises AttributeError for a setting that does not exist
        shown = shown.strip().strip("`")
        if actual is None:
            assert shown == "unset", path
        elif isinstance(actual, bool):
            assert shown == str(actual).lower(), path
        elif isinstance(actual, int | float):
            assert float(shown) == float(actual), path
        else:
            assert shown == str(actual), path


def test_configuration_page_lists_every_settings_field_once() -> None:
    listed = [path for path, _, _ in _rows(CONFIGURATION)]
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert set(listed) == _every_field(Settings())


def test_configuration_page_states_each_env_name_and_default_the_settings_object_has() -> None:
    _check_rows(_rows(CONFIGURATION))


def test_readme_settings_are_real_and_show_their_defaults() -> None:
    rows = _rows(README)
    assert 5 <= len(rows) <= 15, "the README shows the settings people change; the full table is in the docs"
    _check_rows(rows)


def test_readme_fits_about_two_hundred_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 220


def test_readme_and_docs_link_only_to_files_and_headings_that_exist() -> None:
    for page in (README, REPO / "eval" / "README.md", *sorted((REPO / "docs").glob("*.md"))):
        for target, anchor in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists() and path.relative_to(REPO).as_posix() in WRITTEN_ON_OTHER_BRANCHES:
                continue
            assert path.exists(), f"{page.name} links to missing {target}"
            if anchor and path.suffix == ".md":
                anchors = {_anchor(h) for h in HEADING.findall(path.read_text(encoding="utf-8"))}
                assert anchor[1:] in anchors, f"{page.name} links to {target}{anchor}, a heading {path.name} lacks"


def test_readme_links_the_docs_pages_written_for_readers() -> None:
    linked = {target for target, _ in LINK.findall(README.read_text(encoding="utf-8"))}
    for page in ("how-answers-are-made", "configuration", "limits", "models", "benchmarks"):
        assert f"docs/{page}.md" in linked, page


def test_readme_names_each_status_with_the_label_the_ui_and_cli_show() -> None:
    text = README.read_text(encoding="utf-8")
    for status, (label, _) in STATUS_LABELS.items():
        assert re.search(rf"`{status}`[^\n]*\b{re.escape(label)}\b", text), (status, label)
