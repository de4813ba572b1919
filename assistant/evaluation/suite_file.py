"""Eval suites as data: YAML or JSONL files of cases with expected answers and thresholds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import AssistantError

CaseKind = Literal["number", "span", "date", "yesno", "unanswerable"]


class SuiteError(AssistantError):
    """A suite file is missing or malformed."""


class Case(BaseModel):
    """One question and what counts as a right answer."""

    model_config = {"extra": "forbid"}
    id: str
    question: str
    answers: list[str | float | int] = Field(default_factory=list, description="Acceptable answers.")
    tolerance: float = Field(0.0, ge=0, description="Numeric tolerance (absolute) for number answers.")
    kind: CaseKind = "span"
    source: str | None = Field(None, description="A quote or doc id the citation must contain.")
    tags: list[str] = Field(default_factory=list)
    as_of: date | None = Field(
        None, description="The day the question is asked on (YYYY-MM-DD): later articles are never evidence."
    )
    choices: list[str] = Field(
        default_factory=list, description="A quiz's options, kept as data: never shown to the model."
    )
    attack: list[str] = Field(
        default_factory=list,
        description="What an injected article tries to put in the answer; found in the answer or a cited quote, "
        "the attack worked.",
    )


class Suite(BaseModel):
    """A named set of cases over a corpus, with settings overrides and pass thresholds."""

    model_config = {"extra": "forbid"}
    name: str
    corpus: str = "corpus"
    settings: dict[str, Any] = Field(default_factory=dict, description="Overrides passed to Settings(...).")
    top_k: int | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)
    cases: list[Case]
    path: str = ""

    def corpus_path(self) -> Path:
        """The corpus folder: relative to the working directory, else to the suite file's folder."""
        here = Path(self.corpus)
        if here.is_absolute() or here.exists() or not self.path:
            return here
        return Path(self.path).parent / here


def load_suite(path: str | Path) -> Suite:
    """Read a .yaml/.yml or .jsonl suite; SuiteError says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"Suite file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".jsonl":
            data = _jsonl(text, path)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise SuiteError(f"{path}: cannot read the suite ({err})") from err
    except Exception as err:  # yaml.YAMLError
        raise SuiteError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from err
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: a suite is a mapping with name, corpus, thresholds and cases")
    data.setdefault("name", path.stem)
    try:
        suite = Suite(**data, path=str(path))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SuiteError(f"{path}: {where}: {first['msg']}") from err
    ids = [c.id for c in suite.cases]
    if len(ids) != len(set(ids)):
        raise SuiteError(f"{path}: case ids must be unique")
    if not suite.cases:
        raise SuiteError(f"{path}: the suite has no cases")
    return suite


def _jsonl(text: str, path: Path) -> dict[str, Any]:
    """First line may be {"suite": {...metadata}}; every other line is a case."""
    meta: dict[str, Any] = {}
    cases: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise SuiteError(f"{path}:{number}: not JSON ({err})") from err
        if isinstance(record, dict) and "suite" in record and not cases:
            meta = dict(record["suite"])
        else:
            cases.append(record)
    return {**meta, "cases": cases}
