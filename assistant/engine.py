"""Assistant: the one entry object (ingest, ask, stream, chat) composed from explicit parts."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.answering import AnswerPipeline, Turn
from assistant.embedding import Embedder, make_embedder
from assistant.errors import AssistantError, QuestionError
from assistant.ingest import ProgressCallback, ingest_paths
from assistant.llm.base import ChatLLM, make_llm
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import ChunkStore
from assistant.types import Answer, Article, IngestReport, StreamEvent

_UNSET: Any = object()
_FOLLOW_UP_START = re.compile(r"^(and|but|also|what about|how about|then|so)\b", re.IGNORECASE)
_PRONOUNS = frozenset(
    ["it", "its", "they", "them", "their", "there", "that", "those", "this", "these", "he", "she", "his", "her"]
)


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
        self.settings = settings or Settings()
        self._llm = llm
        self._embedder = embedder
        self._store = store
        self._retriever: HybridRetriever | None = None
        self._build_lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: str | Path, **overrides: Any) -> Assistant:
        """An assistant on the store in ``data_dir``."""
        return cls(Settings(data_dir=Path(data_dir), **overrides))

    # -- parts, built lazily ------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder (real one built on first use)."""
        with self._build_lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedding)
            return self._embedder

    @property
    def store(self) -> ChunkStore:
        """The Chroma store (opened on first use)."""
        embedder = self.embedder
        with self._build_lock:
            if self._store is None:
                self._store = ChunkStore(self.settings, embedder.name, embedder.dimension)
            return self._store

    @property
    def llm(self) -> ChatLLM | None:
        """The chat model, or None for the extractive backend."""
        with self._build_lock:
            if self._llm is _UNSET:
                self._llm = make_llm(self.settings)
            return self._llm

    def _pipeline(self) -> AnswerPipeline:
        store = self.store
        if self._retriever is None:
            self._retriever = HybridRetriever(store, self.embedder, self.settings.retrieval)
        return AnswerPipeline(self.settings, self._retriever, self.embedder, self.llm)

    # -- ingest ------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        rebuild: bool = False,
        prune: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Add new and changed articles under ``paths`` (default: the corpus dir) to the store."""
        targets = [Path(p) for p in paths] if paths else [self.settings.corpus_dir]
        return ingest_paths(
            targets,
            settings=self.settings,
            store=self.store,
            embedder=self.embedder,
            rebuild=rebuild,
            prune=prune,
            progress=progress,
        )

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str, *, top_k: int | None = None, filters: dict[str, Any] | None = None) -> Answer:
        """A short answer whose every claim cites the sentence it came from, or an abstention."""
        return _final(self.stream(question, top_k=top_k, filters=filters))

    def stream(
        self, question: str, *, top_k: int | None = None, filters: dict[str, Any] | None = None
    ) -> Iterator[StreamEvent]:
        """Text deltas while the model writes, then the checked Answer."""
        return self.conversation().stream(question, top_k=top_k, filters=filters)

    def conversation(self) -> Conversation:
        """A multi-turn chat whose citation numbers stay stable across turns."""
        return Conversation(self)

    def chat(
        self, messages: Sequence[dict[str, str]], *, top_k: int | None = None, filters: dict[str, Any] | None = None
    ) -> Answer:
        """Answer the last user message, using earlier user messages to resolve follow-ups."""
        users = [m["content"] for m in messages if m.get("role") == "user"]
        if not users:
            raise QuestionError("No user message to answer.")
        conversation = self.conversation()
        conversation.questions.extend(users[:-1])
        return conversation.ask(users[-1], top_k=top_k, filters=filters)

    # -- inspection --------------------------------------------------------------------------
    def get_article(self, doc_id: str) -> Article | None:
        """The stored article (full text), for showing a cited sentence in place."""
        return self.store.get_article(doc_id)

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
        return {"backend": backend, "model": model, "embedder": self.settings.embedding.model_name}

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

    def ask(self, question: str, *, top_k: int | None = None, filters: dict[str, Any] | None = None) -> Answer:
        """Answer one turn."""
        return _final(self.stream(question, top_k=top_k, filters=filters))

    def stream(
        self, question: str, *, top_k: int | None = None, filters: dict[str, Any] | None = None
    ) -> Iterator[StreamEvent]:
        """Stream one turn (validation errors are raised before anything is yielded)."""
        question = validate_question(question, self.assistant.settings.max_question_chars)
        previous = self.questions[-1] if self.questions and is_follow_up(question) else None
        turn = Turn(
            question=question,
            retrieval_query=f"{previous} {question}" if previous else question,
            previous_question=previous,
            top_k=top_k,
            filters=filters or None,
        )
        pipeline = self.assistant._pipeline()
        self.questions.append(question)
        return pipeline.run(turn, self.numbering)


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


def is_follow_up(question: str) -> bool:
    """True for questions that lean on the previous one ("and in Syria?", "when did it happen?")."""
    words = re.findall(r"[A-Za-z']+", question.lower())
    return bool(_FOLLOW_UP_START.match(question.strip())) or len(words) <= 4 or bool(_PRONOUNS & set(words))


def _final(events: Iterator[StreamEvent]) -> Answer:
    for event in events:
        if event.answer is not None:
            return event.answer
    raise AssistantError("The engine produced no answer.")
