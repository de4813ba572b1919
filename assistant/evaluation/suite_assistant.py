"""The Assistant an eval suite runs against."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_suite_assistant(overrides: dict[str, Any], backend: str | None, data_dir: Path) -> Any:
    """An Assistant with a suite's settings over the defaults, the backend if one is named, and its own data dir."""
    from pydantic import ValidationError

    from assistant.engine import Assistant
    from assistant.errors import SettingsError
    from assistant.settings import Settings

    values = {**overrides, "data_dir": data_dir}
    if backend:
        llm = values.get("llm") or {}
        if not isinstance(llm, dict):
            raise SettingsError(f"Invalid suite setting llm: a mapping of LLM settings (got {llm!r}).")
        values["llm"] = {**llm, "backend": backend}
    try:
        settings = Settings(**values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        source = "suite setting" if where.split(".")[0] in overrides else "setting"
        raise SettingsError(f"Invalid {source} {where}: {first['msg']} (got {first.get('input')!r}).") from None
    return Assistant(settings)
