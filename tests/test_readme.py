"""The README's configuration table states the defaults the settings object really has."""

from __future__ import annotations

import re

from assistant.settings import Settings
from tests.conftest import REPO

ROW = re.compile(r"^\| `([a-z_.]+)` \| `(ASSISTANT_[A-Z_]+)` \| ([^|]+) \|", re.M)


def _readme_rows() -> list[tuple[str, str, str]]:
    return ROW.findall((REPO / "README.md").read_text(encoding="utf-8"))


def _default(path: str) -> object:
    value: object = Settings()
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_every_settings_field_is_in_the_table_with_its_env_name() -> None:
    rows = {path: env for path, env, _ in _readme_rows()}
    assert len(rows) >= 15
    for path, env in rows.items():
        assert env == "ASSISTANT_" + path.upper().replace(".", "__")
        _default(path)  # raises AttributeError for a setting that does not exist


def test_table_defaults_match_the_settings_object() -> None:
    for path, _, shown in _readme_rows():
        shown = shown.strip().strip("`")
        actual = _default(path)
        if actual is None:
            assert shown == "unset", path
        elif isinstance(actual, bool):
            assert shown == str(actual).lower(), path
        elif isinstance(actual, int | float):
            assert float(shown) == float(actual), path
        else:
            assert shown == str(actual), path
