"""The Assistant an eval suite runs against."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_suite_assistant(overrides: dict[str, Any], backend: str | None, data_dir: Path) -> Any:
    """An Assistant with a suite's settings over the defaults, the backend if one is named, and its own data dir."""
    from assistant.engine import Assistant
    from assistant.settings import Settings

    values = {**overrides, "data_dir": data_dir}
    if backend:
        values["llm"] = {**values.get("llm", {}), "backend": backend}
    return Assistant(Settings(**values))
