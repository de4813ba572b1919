"""Assistant: the one entry object (ingest, ask, stream, chat) composed from explicit parts."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.answer.pipeline import AnswerPipeline, Turn
from assistant.answer.retrieval import HybridRetriever
from assistant.errors import (
    AssistantError,
    LLMUnavailableError,
    ModelCorruptError,
    ModelNotFoundError,
    QuestionError,
    SettingsError,
    as_user_error,
    one_line,
)
from assistant.ingest.run import ProgressCallback, ingest_paths
from assistant.llm.base import ChatLLM
from assistant.llm.registry import make_llm
from assistant.settings import Settings
from assistant.store.chunk_store import ChunkStore
from assistant.store.embedding import Embedder, make_embedder
from assistant.times import parse_as_of
from assistant.types import Answer, Article, IngestReport, StreamEvent

if TYPE_CHECKING:
    from assistant.store.catalog import ArticleEntry

log = logging.getLogger(__name__)
_UNSET: Any = object()
F = TypeVar("F", bound=Callable[..., Any])
AsOf = date | str | None
"""The day a question is asked on: a date, YYYY-MM-DD text, or None for today."""
FILTER_KEYS = frozenset({"source", "doc_id", "published_from", "published_to"})
_FOLLOW_UP_START = re.compile(r"^(and|but|also|what about|how about|then|so)\b", re.IGNORECASE)
_PRONOUNS = frozenset(
    ["it", "its", "they", "them", "their", "there", "that", "those", "this", "these", "he", "she", "his", "her"]
)


def user_errors(method: F) -> F:
    """Entry-point guard: whatever fails inside reaches the caller as an AssistantError with a one-line message."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as err:
            raise _reported(err) from err

    return guarded  # type: ignore[return-value]


def guard_events(events: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    """The same stream, with any failure while iterating raised as an AssistantError with a one-line message."""
    try:
        yield from events
    except Exception as err:
        raise _reported(err) from err


def _reported(err: Exception) -> AssistantError:
    if not isinstance(err, AssistantError):
        log.debug("unexpected failure behind an entry point", exc_info=err)
    return as_user_error(err)


class Assistant:
    """Question answering over the articles in the store, with verified citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        llm: ChatLLM | None = _UNSET,
        embedder: Embedder | None = None,
        store: ChunkStore | None = None,
    ) -> None:
        self.settings = settings or _default_settings()
        self._llm = llm
        self._embedder = embedder
        self._store = store
        self._retriever: HybridRetriever | None = None
        self._build_lock = threading.Lock()
        self._llm_checked = False
        self._check_lock = threading.Lock()
        self.llm_problem: str | None = None
        """Why the chat model could not be loaded (answers then quote the articles), or None."""

    @classmethod
    def open(cls, data_dir: str | Path, **overrides: Any) -> Assistant:
        """An assistant on the store in ``data_dir``."""
        return cls(_default_settings(data_dir=Path(data_dir), **overrides))

    # -- parts, built lazily ------------------------------------------------------------------
    @property
    @user_errors
    def embedder(self) -> Embedder:
        """The embedder (real one built on first use)."""
        with self._build_lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedding, self.settings.model_cache_dir)
            return self._embedder

    @property
    @user_errors
    def store(self) -> ChunkStore:
        """The Chroma store (opened on first use)."""
        embedder = self.embedder
        with self._build_lock:
            if self._store is None:
                self._store = ChunkStore(self.settings, embedder.name, embedder.dimension)
            return self._store

    @property
    @user_errors
    def llm(self) -> ChatLLM | None:
        """The chat model, or None for the extractive backend."""
        with self._build_lock:
            if self._llm is _UNSET:
                self._llm = make_llm(self.settings)
            return self._llm

    @user_errors
    def check_llm(self) -> str | None:
        """Load the chat model now; when it is missing or corrupt, say why and answer by quoting from then on.

        A call made while another thread is loading waits for that load, so it can be started in the background.
        """
        with self._check_lock:
            if self._llm_checked:
                return self.llm_problem
            self._llm_checked = True
            return self._load_llm()

    def _load_llm(self) -> str | None:
        try:
            llm = self.llm
            if llm is not None:
                llm.count_tokens("ready")  # llama.cpp loads (and hash-checks) its file here; a server is not called
        except (ModelNotFoundError, ModelCorruptError, LLMUnavailableError) as err:
            from assistant.llm.unavailable import UnavailableLLM

            problem = one_line(str(err), 500)
            with self._build_lock:
                self._llm = UnavailableLLM(self.settings.llm.model, problem)  # type: ignore[assignment]
                self.llm_problem = problem
        return self.llm_problem

    @user_errors
    def warm_up(self) -> None:
        """Load the embedder, the store and the model, and have the model read the fixed start of its prompt, so
        that the first question is answered as fast as later ones (the UI calls this at start)."""
        self.embedder.embed(["warm up"])
        self.store.document_count()
        if self.check_llm() is None and self.llm is not None:
            from assistant.answer.prompting import build_messages

            messages = build_messages("warm up", [])
            for _ in self.llm.stream(messages, max_tokens=1, fixed_messages=len(messages) - 1):
                pass

    def _pipeline(self) -> AnswerPipeline:
        store = self.store
        store.open()  # before the model: a load started in the background (the CLI does) overlaps with this
        if self._check_lock.locked():  # the model is loading in another thread: load the embedder meanwhile
            self.embedder.embed(["warm up"])
        self.check_llm()
        if self._retriever is None:
            from assistant.store.passage_guard import PassageGuard

            # Never evidence: text written to a language model, chunks of an article whose write is unfinished.
            retriever = HybridRetriever(store, self.embedder, self.settings.retrieval)
            self._retriever = PassageGuard(retriever, store)  # type: ignore[assignment]
        return AnswerPipeline(self.settings, self._retriever, self.embedder, self.llm)  # type: ignore[arg-type]

    # -- ingest ------------------------------------------------------------------------------
    @user_errors
    def ingest(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        feeds: Sequence[str] = (),
        rebuild: bool = False,
        prune: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Add new and changed articles under ``paths`` (files, folders or http(s) URLs of pages; default: the
        corpus dir) and the items of ``feeds`` (RSS or Atom URLs) to the store."""
        from assistant.ingest.fetch import is_url

        urls = [str(p) for p in paths or () if isinstance(p, str) and is_url(p)]
        files = [Path(p) for p in paths or () if not (isinstance(p, str) and is_url(p))]
        targets = files if files or urls or feeds else [self.settings.corpus_dir]
        return ingest_paths(
            targets,
            settings=self.settings,
            store=self.store,
            embedder=self.embedder,
            rebuild=rebuild,
            prune=prune,
            progress=progress,
            urls=urls,
            feeds=list(feeds),
        )

    # -- questions ---------------------------------------------------------------------------
    @user_errors
    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        as_of: AsOf = None,
    ) -> Answer:
        """A short answer whose every claim cites the sentence it came from, or an abstention.

        ``as_of`` (a date or YYYY-MM-DD; default today) is the day the question is asked on: no article published
        after it is evidence, and "this week", "yesterday" or "in January" are read against it.
        """
        return _final(self.stream(question, top_k=top_k, filters=filters, as_of=as_of))

    @user_errors
    def stream(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        as_of: AsOf = None,
    ) -> Iterator[StreamEvent]:
        """Text deltas while the model writes, then the checked Answer (``as_of`` as in ``ask``)."""
        return self.conversation().stream(question, top_k=top_k, filters=filters, as_of=as_of)

    def conversation(self) -> Conversation:
        """A multi-turn chat whose citation numbers stay stable across turns."""
        return Conversation(self)

    @user_errors
    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        as_of: AsOf = None,
    ) -> Answer:
        """Answer the last user message, using earlier user messages to resolve follow-ups (``as_of`` as in ``ask``)."""
        users = [m["content"] for m in messages if m.get("role") == "user"]
        if not users:
            raise QuestionError("No user message to answer.")
        conversation = self.conversation()
        conversation.questions.extend(users[:-1])
        return conversation.ask(users[-1], top_k=top_k, filters=filters, as_of=as_of)

    # -- the archive -------------------------------------------------------------------------
    @user_errors
    def articles(
        self,
        query: str | None = None,
        source: str | None = None,
        published_from: str | None = None,
        published_to: str | None = None,
    ) -> list[ArticleEntry]:
        """Stored articles (id, title, source, author, published, url, chunks), newest first, filtered."""
        from assistant.store.catalog import list_articles

        return list_articles(self.store, query, source, published_from, published_to)

    @user_errors
    def remove(self, doc_id: str) -> ArticleEntry:
        """Remove one article from the store (Chroma and the lexical index together); says so when no article
        has that id (ArticleNotFoundError)."""
        from assistant.store.catalog import remove_article

        return remove_article(self.store, self.settings, doc_id)

    # -- inspection --------------------------------------------------------------------------
    @user_errors
    def get_article(self, doc_id: str) -> Article | None:
        """The stored article (full text), for showing a cited sentence in place."""
        return self.store.get_article(doc_id)

    @user_errors
    def stats(self) -> dict[str, Any]:
        """What is stored and what answers."""
        store = self.store
        described = self.describe()
        return {
            "documents": store.document_count(),
            "chunks": store.chunk_count(),
            "embedder": store.embedder_name,
            "dimension": store.dimension,
            "store": store.location,
            "backend": described["backend"],
            "model": described["model"],
        }

    def describe(self) -> dict[str, str]:
        """Backend, model and embedder names (loads nothing)."""
        backend: str = self.settings.llm.backend
        if self._llm is not _UNSET:
            backend = "extractive" if self._llm is None else "custom"
        model = "" if backend == "extractive" else str(getattr(self._llm, "name", "") or self.settings.llm.model)
        described = {"backend": backend, "model": model, "embedder": self.settings.embedding.model_name}
        if self.llm_problem:
            backend = self.settings.llm.backend
            described |= {"backend": backend, "problem": self.llm_problem}
        return described

    @user_errors
    def as_query_engine(self) -> Any:
        """A llama-index QueryEngine whose Response carries the cited sentences as source nodes."""
        from assistant.query_engine import make_query_engine

        return make_query_engine(self)


class Conversation:
    """Turns of one chat: follow-ups are resolved with earlier questions; citation numbers persist."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.questions: list[str] = []
        self.numbering: dict[tuple[str, int], int] = {}

    @user_errors
    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        as_of: AsOf = None,
    ) -> Answer:
        """Answer one turn (``as_of``: the day it is asked on, default today)."""
        return _final(self.stream(question, top_k=top_k, filters=filters, as_of=as_of))

    @user_errors
    def stream(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        as_of: AsOf = None,
    ) -> Iterator[StreamEvent]:
        """Stream one turn (validation errors are raised before anything is yielded)."""
        question = validate_question(question, self.assistant.settings.max_question_chars)
        filters = validate_filters(filters)
        day = parse_as_of(as_of)
        previous = self.questions[-1] if self.questions and is_follow_up(question) else None
        turn = Turn(
            question=question,
            retrieval_query=f"{previous} {question}" if previous else question,
            previous_question=previous,
            top_k=top_k,
            filters=filters or None,
            as_of=day,
        )
        pipeline = self.assistant._pipeline()
        self.questions.append(question)
        return guard_events(pipeline.run(turn, self.numbering))


def validate_question(question: str, max_chars: int) -> str:
    """The question stripped, or QuestionError when it is empty or too long."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    cleaned = " ".join(question.replace("\x00", " ").split())
    if not cleaned:
        raise QuestionError("The question is empty: type a question about the articles.")
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"The question is {len(cleaned)} characters long; the limit is {max_chars}. Ask something shorter."
        )
    return cleaned


def validate_filters(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """The filters, or QuestionError naming an unknown one or a value that is not text."""
    if not filters:
        return None
    if not isinstance(filters, dict):
        raise QuestionError("Filters must be a mapping such as {'published_from': '2024-01-01'}.")
    unknown = sorted(set(filters) - FILTER_KEYS)
    if unknown:
        raise QuestionError(f"Unknown filter(s) {', '.join(map(repr, unknown))}; use {', '.join(sorted(FILTER_KEYS))}.")
    for key, value in filters.items():
        if value is not None and not isinstance(value, str | int):
            raise QuestionError(f"The filter {key!r} must be text, not {type(value).__name__}.")
    return dict(filters)


def _default_settings(**values: Any) -> Settings:
    """Settings from arguments, environment and assistant.toml; a bad value is a SettingsError naming it."""
    from pydantic import ValidationError

    try:
        return Settings(**values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"Invalid setting {where}: {first['msg']} (got {first.get('input')!r}).") from None


def is_follow_up(question: str) -> bool:
    """True for questions that lean on the previous one ("and in Syria?", "when did it happen?")."""
    words = re.findall(r"[A-Za-z']+", question.lower())
    return bool(_FOLLOW_UP_START.match(question.strip())) or len(words) <= 4 or bool(_PRONOUNS & set(words))


def _final(events: Iterator[StreamEvent]) -> Answer:
    for event in events:
        if event.answer is not None:
            return event.answer
    raise AssistantError("The engine produced no answer.")
