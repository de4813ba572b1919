"""The launched UI over HTTP: gradio_client calls, error messages, 20 parallel users, file-serving limits."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import LLMUnavailableError, QuestionError, StoreMissingError
from assistant.settings import Settings
from assistant.types import Answer, Article, Citation, IngestReport, RetrievedPassage, StreamEvent

REPO = Path(__file__).resolve().parent.parent
BENCH_OUT = os.environ.get("ASSISTANT_UI_BENCH_OUT")  # read at import: a conftest fixture clears ASSISTANT_* vars
SEED_QUESTIONS = {
    "How many U.S. troops are in eastern Syria?": "900",
    "How many rockets were launched from Zummar?": "five",
    "From which town were the rockets launched?": "Zummar",
}


def mentions(text: str, fact: str) -> bool:
    """True when ``text`` states ``fact``, written in words or digits ("five" ~ "5")."""
    from assistant.numbers import normalize_number_text

    return fact in text or normalize_number_text(fact) in normalize_number_text(text)


# -- a duck-typed assistant with scripted answers whose citations point at real spans ----------------------

WAR_TEXT = (
    "U.S. forces in Iraq and Syria faced a series of drone and rocket attacks over the weekend. "
    "On Sunday, at least five rockets were launched from the town of Zummar in Iraq towards a U.S. military base "
    "in northeastern Syria. No U.S. personnel were injured in the incident.\n\n"
    "In a separate incident on Monday, U.S. forces shot down two drones near the Ain al-Asad air base in Iraq's "
    "Anbar province. U.S. officials attributed the drone attack to an Iranian proxy group.\n\n"
    "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria on an advise-and-assist mission."
)
XSS_TEXT = (
    "Officials published a statement on Friday. "
    "The page said <script>window.__xss = 1; alert('xss')</script> and <img src=x onerror=\"window.__xss = 2\"> "
    "in its footer. Nobody was hurt."
)
LONG_QUOTE = "The harbour commission finally approved the new ferry schedule on Thursday."
LONG_TEXT = "".join(f"Paragraph {i} repeats routine council business without news.\n\n" for i in range(200))
LONG_TEXT += LONG_QUOTE + "\n\n" + LONG_TEXT
ARTICLES = {
    "war": Article(
        doc_id="war",
        source_path="corpus/war.md",
        title="U.S. Forces in Iraq and Syria Attacked by Drones and Rockets",
        text=WAR_TEXT,
        source="Trim Correspondents",
        published="2024-04-22",
        url="https://example.com/war",
    ),
    "xss": Article(
        doc_id="xss",
        source_path="corpus/xss.md",
        title="<script>window.__xss = 3</script>Evil <b>title</b>",
        text=XSS_TEXT,
        source="<img src=x onerror=alert(1)>",
        published="2024-05-01",
        url="javascript:alert(1)",
    ),
    "long": Article(
        doc_id="long",
        source_path="corpus/long.md",
        title="Council minutes",
        text=LONG_TEXT,
        source="Harbour Gazette",
        published="2024-02-01",
    ),
}


SCRIPT = [  # (question keyword, answer text, doc_id, the exact sentence cited)
    (  # what a model that obeyed an injected article would write: outside images and links, raw and markdown
        "injected",
        "Five rockets [{n}]. ![logo](https://evil.example/pixel.png) [details](https://evil.example/steal) "
        '<img src="https://evil.example/raw.png"> <a href="https://evil.example/raw">more</a> https://evil.example/bare',
        "war",
        "On Sunday, at least five rockets were launched from the town of Zummar in Iraq towards a U.S. military base "
        "in northeastern Syria.",
    ),
    (
        "eastern syria",
        "The U.S. has around 900 troops in eastern Syria [{n}].",
        "war",
        "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria on an advise-and-assist mission.",
    ),
    (
        "zummar",
        "At least five rockets were launched from Zummar [{n}].",
        "war",
        "On Sunday, at least five rockets were launched from the town of Zummar in Iraq towards a U.S. military base "
        "in northeastern Syria.",
    ),
    (
        "which town",
        "The rockets were launched from the town of Zummar [{n}].",
        "war",
        "On Sunday, at least five rockets were launched from the town of Zummar in Iraq towards a U.S. military base "
        "in northeastern Syria.",
    ),
    (
        "drones",
        "The drones were shot down near the Ain al-Asad air base in Anbar [{n}].",
        "war",
        "In a separate incident on Monday, U.S. forces shot down two drones near the Ain al-Asad air base in Iraq's "
        "Anbar province.",
    ),
    (
        "script",
        "The page's footer contained a script tag [{n}].",
        "xss",
        "The page said <script>window.__xss = 1; alert('xss')</script> and <img src=x onerror=\"window.__xss = 2\"> "
        "in its footer.",
    ),
    ("ferry", "The ferry schedule was approved on Thursday [{n}].", "long", LONG_QUOTE),
]


def _passages(question: str) -> tuple[RetrievedPassage, ...]:
    ranked = sorted(ARTICLES.values(), key=lambda a: -sum(w in a.text.lower() for w in question.lower().split()))
    return tuple(
        RetrievedPassage(a.doc_id, a.title, f"{a.doc_id}:0", 0, len(a.text), a.text, round(0.05 - i * 0.01, 3))
        for i, a in enumerate(ranked)
    )


class FakeConversation:
    """Streams scripted answers word by word; citation numbers stay stable across turns."""

    def __init__(self, owner: FakeAssistant) -> None:
        self.owner = owner
        self.numbering: dict[tuple[str, int], int] = {}
        self.questions: list[str] = []

    def stream(
        self, question: str, *, top_k: int | None = None, filters: dict | None = None, as_of: str | None = None
    ) -> Iterator[StreamEvent]:
        self.as_of = as_of
        cleaned = " ".join((question or "").split())
        if not cleaned:
            raise QuestionError("The question is empty: type a question about the articles.")
        if len(cleaned) > self.owner.settings.max_question_chars:
            raise QuestionError(
                f"The question is {len(cleaned)} characters long; the limit is "
                f"{self.owner.settings.max_question_chars}. Ask something shorter."
            )
        self.owner.calls.append({"question": cleaned, "top_k": top_k, "filters": filters})
        if "server down" in cleaned.lower():
            raise LLMUnavailableError("The model server at http://127.0.0.1:9/v1 is not answering: start it.")
        if "no store" in cleaned.lower():
            raise StoreMissingError("No store in /tmp/nowhere: run `assistant ingest corpus` first.")
        self.questions.append(cleaned)
        return self._run(cleaned)

    def _run(self, question: str) -> Iterator[StreamEvent]:
        began = time.perf_counter()
        passages = _passages(question)
        with self.owner.llm_lock:  # the engine serializes LLM calls; so does the fake
            for keyword, template, doc_id, quote in SCRIPT:
                if keyword in question.lower():
                    start = ARTICLES[doc_id].text.index(quote)
                    end = start + len(quote)
                    n = self.numbering.setdefault((doc_id, start), len(self.numbering) + 1)
                    text = template.format(n=n)
                    for word in text.split(" "):
                        time.sleep(self.owner.delay)
                        yield StreamEvent(delta=word + " ")
                    article = ARTICLES[doc_id]
                    citation = Citation(
                        n, doc_id, article.title, article.source, article.published, article.url,
                        f"{doc_id}:0", start, end, quote, 0.9,
                    )  # fmt: skip
                    status = "verified"
                    break
            else:
                time.sleep(self.owner.delay)
                text, citation, status = "The articles don't say.", None, "abstained"
        yield StreamEvent(
            answer=Answer(
                question=question,
                text=text,
                citations=(citation,) if citation else (),
                status=status,  # type: ignore[arg-type]
                passages=passages,
                timings={"total": time.perf_counter() - began},
                backend="fake",
            )
        )


class FakeAssistant:
    """Duck-types the engine API the UI uses."""

    def __init__(self, settings: Settings, delay: float = 0.02) -> None:
        self.settings = settings
        self.delay = delay
        self.llm_lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.ingested: list[Path] = []

    def conversation(self) -> FakeConversation:
        return FakeConversation(self)

    def stream(self, question: str, **kwargs: Any) -> Iterator[StreamEvent]:
        return self.conversation().stream(question, **kwargs)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        for event in self.stream(question, **kwargs):
            if event.answer is not None:
                return event.answer
        raise AssertionError("no answer")

    def get_article(self, doc_id: str) -> Article | None:
        return ARTICLES.get(doc_id)

    def describe(self) -> dict[str, str]:
        return {"backend": "fake", "model": "scripted", "embedder": "none"}

    def stats(self) -> dict[str, Any]:
        return {"documents": 3 + len(self.ingested), "chunks": 7, "store": "memory", **self.describe()}

    def ingest(self, paths: list[Path] | None = None, *, progress: Any = None, **_: Any) -> IngestReport:
        files = [Path(p) for p in paths or []]
        errors = []
        for done, path in enumerate(files):
            if progress:
                progress(done, len(files), str(path))
            if path.suffix == ".pdf" and not path.read_bytes().startswith(b"%PDF"):
                errors.append((str(path), "not a readable PDF: the file is damaged or not a PDF"))
            else:
                self.ingested.append(path)
        if progress:
            progress(len(files), len(files), "")
        return IngestReport(added=len(files) - len(errors), chunks_written=len(files), errors=tuple(errors))


# -- running the app ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningApp:
    """A launched app on loopback; ``url`` ends without a slash."""

    def __init__(self, assistant: Any, settings: Settings) -> None:
        from assistant.ui.app import build_app, launch_app

        self.demo = build_app(assistant)
        _, self.url, _ = launch_app(
            self.demo, settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True
        )
        self.url = self.url.rstrip("/")

    def close(self) -> None:
        """Stop the server.

        Gradio's ``close`` sets its asyncio stop event from the calling thread, which races the heartbeat
        tasks waiting on it in the server's loop ("deque mutated during iteration"). Setting it first on
        that loop, where it belongs, makes Gradio's own ``set`` a no-op.
        """
        event = self.demo.app.stop_event
        loop = getattr(event, "_loop", None)  # bound by the first heartbeat that waited on the event
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(event.set)
            deadline = time.monotonic() + 5
            while not event.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
        self.demo.close()


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", chroma_url=None, max_question_chars=200)


@pytest.fixture
def fake_assistant(fake_settings: Settings) -> FakeAssistant:
    return FakeAssistant(fake_settings)


@pytest.fixture
def fake_app(fake_assistant: FakeAssistant, fake_settings: Settings) -> Iterator[RunningApp]:
    app = RunningApp(fake_assistant, fake_settings)
    yield app
    app.close()


def make_client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def last_message_text(history: list[dict[str, Any]]) -> str:
    content = history[-1]["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


# -- tests --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_ask_endpoint_returns_answer_dict_with_citation_and_status(fake_app: RunningApp) -> None:
    result = make_client(fake_app.url).predict("How many rockets were launched from Zummar?", api_name="/ask")
    assert result["status"] == "verified"
    assert "[1]" in result["text"]
    citation = result["citations"][0]
    assert citation["number"] == 1
    assert "Zummar" in citation["quote"]
    assert WAR_TEXT[citation["start"] : citation["end"]] == citation["quote"]


@pytest.mark.timeout(120)
def test_ask_endpoint_passes_top_k_and_date_filters(fake_app: RunningApp, fake_assistant: FakeAssistant) -> None:
    make_client(fake_app.url).predict(
        "Where were the drones shot down?", 3, "2024-01-01", "2024-12-31", api_name="/ask"
    )
    assert fake_assistant.calls[-1]["top_k"] == 3
    assert fake_assistant.calls[-1]["filters"] == {"published_from": "2024-01-01", "published_to": "2024-12-31"}


@pytest.mark.timeout(120)
def test_chat_endpoint_streams_then_shows_answer_status_and_chips(fake_app: RunningApp) -> None:
    client = make_client(fake_app.url)
    job = client.submit("How many U.S. troops are in eastern Syria?", [], 5, "", "", api_name="/chat")
    outputs = list(job)  # every streamed update
    final = job.result()
    _, history, bar, sources = final
    assert len(outputs) >= 3, "the answer should arrive in several streamed updates"
    assert "900" in last_message_text(history)
    assert 'data-status="verified"' in bar
    assert 'class="chip" data-cite="1"' in bar
    assert "Retrieved passages" in sources


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "The question is empty"),
        ("why " * 100, "the limit is 200"),
        ("Is the server down?", "is not answering"),
        ("Is there no store?", "run `assistant ingest corpus` first"),
    ],
)
def test_chat_shows_one_clear_line_for_user_errors(fake_app: RunningApp, question: str, message: str) -> None:
    _box, history, bar, _ = make_client(fake_app.url).predict(question, [], 5, "", "", api_name="/chat")
    assert message in last_message_text(history)
    assert message in bar and "ui-error" in bar


@pytest.mark.timeout(120)
def test_chat_rejects_a_malformed_date_filter_without_calling_the_engine(
    fake_app: RunningApp, fake_assistant: FakeAssistant
) -> None:
    box, _history, bar, _ = make_client(fake_app.url).predict("Where?", [], 5, "last week", "", api_name="/chat")
    assert "must be a date like 2024-03-02" in bar
    assert box == "Where?"  # kept, so the reader can fix the filter and ask again
    assert fake_assistant.calls == []


@pytest.mark.timeout(120)
def test_ask_endpoint_reports_engine_errors_as_messages(fake_app: RunningApp) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="is not answering"):
        make_client(fake_app.url).predict("Is the server down?", api_name="/ask")


def _bench(url: str, label: str, users: int = 20) -> dict[str, Any]:
    """``users`` clients ask at once through the streaming chat endpoint; returns wait statistics."""
    questions = list(SEED_QUESTIONS)
    clients = [make_client(url) for _ in range(users)]
    barrier = threading.Barrier(users)

    def one(i: int) -> tuple[float, str]:
        question = questions[i % len(questions)]
        barrier.wait()
        began = time.perf_counter()
        _, history, bar, _ = clients[i].predict(question, [], 5, "", "", api_name="/chat")
        return time.perf_counter() - began, last_message_text(history) + bar

    with ThreadPoolExecutor(users) as pool:
        results = list(pool.map(one, range(users)))
    waits = sorted(w for w, _ in results)
    for i, (_, text) in enumerate(results):
        assert mentions(text, SEED_QUESTIONS[questions[i % len(questions)]]), text
        assert "data-status=" in text
    stats = {
        "users": users,
        "answered": len(results),
        "p50_s": round(statistics.median(waits), 3),
        "p95_s": round(waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))], 3),
        "max_s": round(waits[-1], 3),
    }
    print(f"\nUI concurrency ({label}): {users} users, p50 {stats['p50_s']} s, p95 {stats['p95_s']} s")
    if BENCH_OUT:
        path = Path(BENCH_OUT)
        existing = json.loads(path.read_text()) if path.exists() and path.stat().st_size else {}
        existing.setdefault("ui_concurrency", {})[label] = stats
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(existing, indent=2) + "\n")
    return stats


@pytest.mark.timeout(300)
def test_twenty_parallel_users_are_all_answered(fake_app: RunningApp) -> None:
    stats = _bench(fake_app.url, "fake")
    assert stats["answered"] == 20


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=/ETC/PASSWD",
        "/gradio_api/file=/etc/../etc/passwd",
        "/gradio_api/file=../../../../../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=/Etc/Passwd",
        "/gradio_api/file=....//....//....//etc/passwd",
        "/file=/etc/passwd",
        "/gradio_api/file=" + str(REPO / "pyproject.toml"),
        "/gradio_api/file=" + str(REPO / "app.py"),
        "/gradio_api/file=pyproject.toml",
    ],
)
def test_file_route_refuses_paths_outside_the_app(fake_app: RunningApp, path: str) -> None:
    status, body = http_get(fake_app.url + path)
    assert status in {400, 403, 404}, (status, body[:200])
    assert "root:" not in body
    assert "[build-system]" not in body


@pytest.mark.timeout(120)
def test_file_route_refuses_the_data_dir(fake_app: RunningApp, fake_settings: Settings) -> None:
    secret = fake_settings.data_dir / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("root:top-secret")
    status, body = http_get(f"{fake_app.url}/gradio_api/file={secret}")
    assert status in {400, 403, 404}
    assert "top-secret" not in body


@pytest.mark.timeout(60)
def test_build_app_does_not_launch(fake_assistant: FakeAssistant) -> None:
    from assistant.ui.app import build_app

    demo = build_app(fake_assistant)
    assert not demo.is_running
    names = {d.api_name for d in demo.fns.values()}
    assert {"ask", "chat"} <= names


def test_importing_the_ui_loads_no_gradio() -> None:
    import subprocess
    import sys

    code = "import sys, assistant.ui.app, assistant.ui.render; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_auth_needs_a_password(fake_settings: Settings) -> None:
    from assistant.errors import AssistantError
    from assistant.ui.app import _auth

    assert _auth(fake_settings.ui) is None
    assert _auth(fake_settings.model_copy(update={"ui": fake_settings.ui.model_copy(update={
        "auth_user": "ann", "auth_password": "pw"})}).ui) == ("ann", "pw")  # fmt: skip
    with pytest.raises(AssistantError, match="auth_password"):
        _auth(fake_settings.ui.model_copy(update={"auth_user": "ann"}))


@pytest.mark.timeout(120)
def test_launch_binds_loopback_without_share_link(fake_assistant: FakeAssistant, fake_settings: Settings) -> None:
    from assistant.ui.app import build_app, launch_app

    demo = build_app(fake_assistant)
    settings = fake_settings.model_copy(update={"ui": fake_settings.ui.model_copy(update={"port": free_port()})})
    try:
        _, url, share_url = launch_app(demo, settings, prevent_thread_lock=True, quiet=True)
        assert url.startswith("http://127.0.0.1:")
        assert share_url is None
        assert demo.share is False
    finally:
        demo.close()


@pytest.mark.timeout(120)
def test_basic_auth_keeps_the_api_closed_to_strangers(fake_assistant: FakeAssistant, fake_settings: Settings) -> None:
    ui = fake_settings.ui.model_copy(update={"auth_user": "ann", "auth_password": "s3cret"})
    app = RunningApp(fake_assistant, fake_settings.model_copy(update={"ui": ui}))
    try:
        status, body = http_get(app.url + "/config")
        assert status in {401, 403}
        assert "Zummar" not in body
    finally:
        app.close()


# -- the real engine (extractive backend, real embedder, embedded Chroma) -----------------------------------


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    from assistant import Assistant
    from tests.conftest import link_model_cache

    settings = Settings(data_dir=link_model_cache(tmp_path_factory.mktemp("real") / "data"), chroma_url=None)
    assistant = Assistant(settings)
    assistant.ingest([REPO / "corpus"])
    app = RunningApp(assistant, settings)
    yield app
    app.close()


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("question", "fact"), list(SEED_QUESTIONS.items()))
def test_real_engine_answers_seed_questions_with_a_checkable_citation(
    real_app: RunningApp, question: str, fact: str
) -> None:
    result = make_client(real_app.url).predict(question, api_name="/ask")
    assert result["status"] in {"verified", "unconfirmed", "fallback"}
    assert mentions(result["text"], fact)
    assert result["citations"], result
    assert any(fact in c["quote"] for c in result["citations"])
    assert re.search(r"\[\d+\]", result["text"])


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_real_engine_twenty_parallel_users_are_all_answered(real_app: RunningApp) -> None:
    stats = _bench(real_app.url, "llama_cpp")
    assert stats["answered"] == 20


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_real_engine_without_a_store_says_how_to_build_one(tmp_path: Path) -> None:
    from assistant import Assistant

    settings = Settings(data_dir=tmp_path / "empty", chroma_url=None, llm={"backend": "extractive"})  # type: ignore[arg-type]
    app = RunningApp(Assistant(settings), settings)
    try:
        _, history, bar, _ = make_client(app.url).predict(
            "Where were the drones shot down?", [], 5, "", "", api_name="/chat"
        )
        assert "ui-error" in bar
        assert "ingest" in last_message_text(history).lower()
    finally:
        app.close()


# -- upload under load (issue 11, case 8) ----------------------------------------------------------------------


def echo_first_source(prompt: str) -> str:
    """A scripted model: the first numbered source, cited."""
    first = re.search(r"^\[1\] (.+)$", prompt, re.MULTILINE)
    return f"{first.group(1)} [1]" if first else "NOT IN SOURCES"


def upload_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"council-{n}.md"
        path.write_text(f"# Council {n}\n\nThe council of Brackwater{n} approved {n * 3 + 7} new park benches.\n")
        paths.append(path)
    return paths


@dataclass
class Upload:
    """The real engine behind a launched app, and what the slowed record writes saw."""

    assistant: Any
    app: RunningApp
    base: set[str]
    started: threading.Event
    recorded: set[str]
    asked: threading.Event
    """Set once a question about an uploaded article was answered while it was half-written; the slowed
    record write waits for it."""


@pytest.fixture
def upload_app(tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Upload]:
    """The real engine (fake embedder, scripted model) whose article records are written slowly: each uploaded
    article stays half-written (chunks and lexical entries stored, record not) for three seconds."""
    from assistant.engine import Assistant
    from tests.conftest import FakeEmbedder, FakeLLM
    from tests.test_passage_guard import slow_record_writes

    settings = Settings(data_dir=tmp_path / "data", chroma_url=None)
    assistant = Assistant(settings, llm=FakeLLM(echo_first_source), embedder=FakeEmbedder())  # type: ignore[arg-type]
    assistant.ingest([tiny_corpus])
    base = set(assistant.store.documents())
    started, recorded, asked = threading.Event(), set[str](), threading.Event()
    slow_record_writes(monkeypatch, started, seconds=3, recorded=recorded, hold=asked)
    app = RunningApp(assistant, settings)
    yield Upload(assistant, app, base, started, recorded, asked)
    app.close()


@dataclass
class Load:
    """What the users saw while the upload ran."""

    answers: list[list[str]]
    errors: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)
    """Citations of an article whose record was not written when the answer came back."""
    asked_half_written: int = 0
    """Questions about an uploaded article answered while its chunks were stored and its record was not."""


def ask_while(upload: Upload, users: int, busy: threading.Event, files: int) -> Load:
    """``users`` clients ask (about the base articles and the ones being uploaded) until ``busy`` clears."""
    load = Load(answers=[[] for _ in range(users)])
    lock = threading.Lock()
    questions = ["How many schools did the storm close?", "How many steel cables were replaced?"] + [
        f"How many new park benches did the council of Brackwater{n} approve?" for n in range(files)
    ]

    def user(i: int) -> None:
        client = make_client(upload.app.url)
        turn = 0
        while busy.is_set() or turn < 2:
            question = questions[(i + turn * users) % len(questions)]
            window = upload.started.is_set() and not upload.recorded
            try:
                if turn % 2:
                    _, history, bar, _ = client.predict(question, [], 5, "", "", api_name="/chat")
                    load.answers[i].append(last_message_text(history))
                    cited = re.findall(r"Brackwater\d+", bar)
                    if "ui-error" in bar:
                        with lock:
                            load.errors.append(bar)
                else:
                    result = client.predict(question, api_name="/ask")
                    load.answers[i].append(result["text"])
                    cited = [c["doc_id"] for c in result["citations"] if c["doc_id"] not in upload.base]
                recorded = set(upload.recorded)  # read after the answer came back
                with lock:
                    if window and "Brackwater" in question and not recorded:
                        load.asked_half_written += 1
                        upload.asked.set()
                    if not recorded and cited:
                        load.half_written.append(f"{question} -> {cited}")
            except Exception as err:  # every failure is a finding, not a crash of the test thread
                with lock:
                    load.errors.append(f"{type(err).__name__}: {err}")
            turn += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return load


@pytest.mark.timeout(900)
def test_upload_while_ten_users_ask_completes_and_no_answer_cites_a_half_written_article(
    upload_app: Upload, tmp_path: Path
) -> None:
    import gradio as gr

    files = upload_files(tmp_path / "uploads", 8)
    upload = {f.name: f.fn for f in upload_app.app.demo.fns.values()}["ingest_files"]
    busy = threading.Event()
    busy.set()
    outcome: dict[str, str] = {}

    def uploader() -> None:
        time.sleep(1)  # the users are asking already
        try:
            outcome["result"], outcome["stats"] = upload([str(p) for p in files], gr.Progress())
        finally:
            busy.clear()

    thread = threading.Thread(target=uploader)
    thread.start()
    load = ask_while(upload_app, users=10, busy=busy, files=len(files))
    thread.join()
    assert "Added 8" in outcome["result"], outcome
    assert load.errors == []
    assert all(len(a) >= 2 for a in load.answers), [len(a) for a in load.answers]
    assert load.asked_half_written > 0, "no question came while the upload was half-written"
    assert load.half_written == []
    after = upload_app.assistant.ask("How many new park benches did the council of Brackwater5 approve?")
    assert "22 new park benches" in after.text
