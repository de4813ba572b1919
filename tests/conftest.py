"""Shared fixtures: scripted fake LLM, token-hash fake embedder, small corpora, assistants on temp stores."""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.text import terms
from assistant.types import Citation

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"


class FakeLLM:
    """Replies from a script (a list, or a function of the prompt) and records every prompt it got.

    Its yes/no checks answer ``yes`` (a probability, or a function of the check prompt); they are recorded in
    ``checks``, not in ``prompts``.
    """

    def __init__(
        self,
        replies: list[str] | Callable[[str], str] | None = None,
        name: str = "fake",
        yes: float | Callable[[str], float] = 0.95,
        samples: Callable[[int], str] | None = None,
    ) -> None:
        self.replies = replies if replies is not None else ["NOT IN SOURCES"]
        self.samples = samples
        self.sampled: list[tuple[float, int]] = []
        self.prompts: list[list[dict[str, str]]] = []
        self.checks: list[list[dict[str, str]]] = []
        self.grammars: list[str | None] = []
        self.fixed_messages: list[int] = []
        self.name = name
        self.yes = yes
        self.context_window = 4096
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def yes_probability(self, messages: list[dict[str, str]]) -> float:
        with self._lock:
            self.checks.append([dict(m) for m in messages])
        return self.yes(messages[-1]["content"]) if callable(self.yes) else self.yes

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        trace: object = None,
        grammar: str | None = None,
        fixed_messages: int = 0,
    ) -> Iterator[str]:
        with self._lock:
            self.prompts.append([dict(m) for m in messages])
            self.grammars.append(grammar)
            self.fixed_messages.append(fixed_messages)
            if callable(self.replies):
                reply = self.replies(messages[-1]["content"])
            else:
                reply = self.replies[min(len(self.prompts), len(self.replies)) - 1]
        for word in reply.split(" "):
            yield word + " "

    def sample(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float, seed: int) -> str:
        """``samples(seed)``, or else the reply ``stream`` would give to these messages (recorded in ``sampled``)."""
        with self._lock:
            self.sampled.append((temperature, seed))
        if self.samples is not None:
            return self.samples(seed)
        if callable(self.replies):
            return self.replies(messages[-1]["content"])
        return self.replies[min(len(self.prompts), len(self.replies)) - 1]

    @property
    def last_user_prompt(self) -> str:
        return self.prompts[-1][-1]["content"]


class FakeEmbedder:
    """Hashes content words into a fixed-size unit vector: texts sharing words are close, so ranking means something."""

    def __init__(self, dimension: int = 256, name: str = "fake-hash-embedder") -> None:
        self.dimension = dimension
        self.name = name
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for term in terms(text):
                slot = int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dimension
                vector[slot] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


TINY_ARTICLES = {
    "harbor.md": (
        "---\ntitle: Harbor bridge reopens\nsource: Test Wire\npublished: 2024-03-02\n---\n"
        "The harbor bridge reopened on Tuesday after repairs. Engineers replaced 14 steel cables.\n\n"
        "The repairs cost 3 million dollars, the city said. Traffic was light in the morning.\n"
    ),
    "festival.txt": (
        "Jazz festival draws crowds\n\nAbout 12,000 people attended the jazz festival in Riverton on Saturday. "
        "The headliner was the Marlow Quartet.\n"
    ),
    "storm.md": (
        "---\ntitle: Storm closes schools\nsource: Daily Test\npublished: 2023-11-20\n---\n"
        "A winter storm closed 40 schools in the northern district on Monday. Officials expect snow until Wednesday.\n"
    ),
}


def republished(text: str) -> str:
    """The same story as another outlet runs it: two words changed and a credit line added."""
    return text.replace("Zummar", "Zumar").replace("five rockets", "5 rockets") + "\nReuters contributed.\n"


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Three small articles in .md and .txt."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in TINY_ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def seed_corpus() -> Path:
    """The repository's corpus/ folder."""
    return SEED_CORPUS


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def write_check_calibrator(path: Path) -> Path:
    """A calibrator that trusts the model's yes/no check alone (of an answer, or of a calculation):
    P(right) = sigmoid(10 (P(yes) - 0.5)); verified from 0.9 (P(yes) >= 0.72), withheld below 0.2 (P(yes) < 0.36)."""
    from assistant.checks.calibration import Calibrator

    calibrator = Calibrator(
        ("check_yes", "calc_check_yes"), (0.5, 0.5), (1.0, 1.0), (10.0, 10.0), 0.0, verified_at=0.9, abstain_below=0.2
    )
    path.write_text(calibrator.to_json(), encoding="utf-8")
    return path


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings on a temp data dir, ignoring the developer's environment and assistant.toml; answers are judged
    by a calibrator that follows the (fake) model's yes/no check."""
    calibration = write_check_calibrator(tmp_path / "check-calibrator.json")

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "chroma_url": None,
            "trust": {"calibration_file": calibration, "check": True, "abstain_below": None},
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def fake_assistant_factory(make_settings: Callable[..., Settings], fake_embedder: FakeEmbedder):
    """Build an Assistant on an embedded temp Chroma with the fake embedder and a given (fake) LLM."""
    from assistant.engine import Assistant

    def build(llm: object = None, **overrides: object) -> Assistant:
        return Assistant(make_settings(**overrides), llm=llm, embedder=fake_embedder)  # type: ignore[arg-type]

    return build


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's ASSISTANT_* variables."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key, raising=False)


def make_citation(quote: str, number: int = 1, doc_id: str = "d") -> Citation:
    """A citation quoting ``quote`` (span 0..len), for tests that score answers."""
    return Citation(
        number=number,
        doc_id=doc_id,
        title="t",
        source="",
        published="",
        url="",
        chunk_id="c",
        start=0,
        end=len(quote),
        quote=quote,
        score=1.0,
    )


def link_model_cache(data_dir: Path) -> Path:
    """Point a temp data dir at the repo's assembled GGUFs (assembled once, here), not fresh 1.6 GB copies."""
    from assistant.llm.models import PACKAGED_MODELS, resolve_gguf

    cache = REPO / ".assistant" / "models"
    for name in PACKAGED_MODELS:
        resolve_gguf(name, cache)
    target = data_dir / "models"
    if not target.exists():
        target.mkdir(parents=True)
        for item in cache.iterdir():
            (target / item.name).symlink_to(item)
    return data_dir
