"""One question through the pipeline: retrieve, select evidence, generate, verify, fall back or abstain."""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.embedding import Embedder
from assistant.errors import LLMUnavailableError, ModelCorruptError, ModelNotFoundError
from assistant.evidence import select_evidence
from assistant.grounding import (
    answers_kind,
    counts_what_was_asked,
    names_the_kind_asked,
    recite,
    verify_answer,
)
from assistant.llm.base import ChatLLM, complete
from assistant.prompting import ABSTAIN_TEXT, build_messages, fit_evidence, is_abstention, tidy_answer
from assistant.question import expected_answer_kind, is_choice_question
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import terms
from assistant.types import Answer, AnswerStatus, Citation, Evidence, Passage, RetrievedPassage, StreamEvent

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Turn:
    """What the pipeline needs to answer one question."""

    question: str
    retrieval_query: str
    previous_question: str | None = None
    top_k: int | None = None
    filters: dict[str, Any] | None = None


class AnswerPipeline:
    """Turns a question into a checked Answer; streams the model's tokens on the way."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, embedder: Embedder, llm: ChatLLM | None):
        self.settings = settings
        self.retriever = retriever
        self.embedder = embedder
        self.llm = llm

    @property
    def backend(self) -> str:
        """Name of what writes the answers."""
        return "extractive" if self.llm is None else f"{self.settings.llm.backend}:{self.llm.name}"

    def run(self, turn: Turn, numbering: MutableMapping[tuple[str, int], int]) -> Iterator[StreamEvent]:
        """Yield text deltas while generating, then the final Answer."""
        began = time.perf_counter()
        timings: dict[str, float] = {}
        query_vector = self.embedder.embed([turn.retrieval_query])[0]
        passages = self.retriever.retrieve(
            turn.retrieval_query, top_k=turn.top_k, filters=turn.filters, query_vector=query_vector
        )
        evidence, support = select_evidence(
            turn.retrieval_query,
            passages,
            self.embedder,
            limit=self.settings.retrieval.evidence_sentences,
            question_vector=query_vector,
        )
        timings["retrieve"] = time.perf_counter() - began
        result = _Draft(status="abstained", text=ABSTAIN_TEXT)
        if evidence and not support.is_weak(self.settings.retrieval.min_relevance):
            if self.llm is None:
                result = extractive_draft(evidence)
            else:
                try:
                    result = yield from self._generate_and_verify(turn, evidence, timings)
                except (LLMUnavailableError, ModelNotFoundError, ModelCorruptError) as err:
                    result = model_unavailable_draft(evidence, err)
        timings.setdefault("generate", 0.0)
        timings.setdefault("verify", 0.0)
        timings["total"] = time.perf_counter() - began
        yield StreamEvent(answer=self._assemble(turn.question, result, evidence, passages, numbering, timings))

    def _generate_and_verify(
        self, turn: Turn, evidence: list[Evidence], timings: dict[str, float]
    ) -> Generator[StreamEvent, None, _Draft]:
        assert self.llm is not None
        max_tokens = self.settings.llm.max_tokens
        original = evidence
        evidence = fit_evidence(turn.question, evidence, self.llm.count_tokens, self.llm.context_window - max_tokens)
        if not evidence:
            return extractive_draft(original, unsupported=("(the prompt did not fit the model's context window)",))
        started = time.perf_counter()
        pieces: list[str] = []
        for delta in self.llm.stream(
            build_messages(turn.question, evidence, previous_question=turn.previous_question), max_tokens=max_tokens
        ):
            pieces.append(delta)
            yield StreamEvent(delta=delta)
        timings["generate"] = time.perf_counter() - started
        checked = time.perf_counter()
        draft = self._check("".join(pieces), evidence, turn.question)
        timings["verify"] = time.perf_counter() - checked
        if draft is None:
            started = time.perf_counter()
            retry = complete(
                self.llm,
                build_messages(turn.question, evidence, previous_question=turn.previous_question, strict=True),
                max_tokens=max_tokens,
            )
            timings["generate"] += time.perf_counter() - started
            checked = time.perf_counter()
            draft = self._check(retry, evidence, turn.question) or self._fallback(
                turn.question, evidence, (tidy_answer("".join(pieces)), tidy_answer(retry))
            )
            timings["verify"] += time.perf_counter() - checked
        return draft

    def _check(self, raw: str, evidence: Sequence[Evidence], question: str) -> _Draft | None:
        """A verified or partly verified draft, an abstention, or None when nothing survives."""
        text = tidy_answer(raw)
        if is_abstention(text):
            best = evidence[0]
            if best.coverage >= self.settings.retrieval.quote_min_coverage:
                return extractive_draft(evidence, unsupported=(text,))
            return _Draft(status="abstained", text=ABSTAIN_TEXT)
        sources = {e.number: e.quote for e in evidence}
        if not _has_content(text) or _echoes(text, question) or not _answers_question(text, question):
            return None
        text = recite(text, sources)
        verification = verify_answer(text, sources)
        if verification.ok and _MARKER.search(text):
            return _Draft(status="verified", text=text)
        kept = verification.supported_text.strip()
        if kept and _MARKER.search(kept) and _has_content(kept):
            return _Draft(status="partial", text=kept, unsupported=tuple(verification.unsupported))
        return None

    def _fallback(self, question: str, evidence: Sequence[Evidence], rejected: tuple[str, ...]) -> _Draft:
        """Quote the best sentence when it is clearly on topic and holds the kind of thing asked for (a count
        for "how many", a date for "when"); otherwise say the articles don't say."""
        best = evidence[0] if evidence else None
        if (
            best is not None
            and best.score >= self.settings.retrieval.fallback_min_relevance
            and answers_kind(best.quote, expected_answer_kind(question))
        ):
            return extractive_draft(evidence, unsupported=rejected)
        return _Draft(status="abstained", text=ABSTAIN_TEXT, unsupported=rejected)

    def _assemble(
        self,
        question: str,
        draft: _Draft,
        evidence: Sequence[Evidence],
        passages: Sequence[Passage],
        numbering: MutableMapping[tuple[str, int], int],
        timings: dict[str, float],
    ) -> Answer:
        by_number = {e.number: e for e in evidence}
        local_to_display: dict[int, int] = {}
        for match in _MARKER.finditer(draft.text):
            local = int(match.group(1))
            item = by_number.get(local)
            if item is None or local in local_to_display:
                continue
            key = (item.chunk.doc_id, item.start)
            if key not in numbering:
                numbering[key] = len(numbering) + 1
            local_to_display[local] = numbering[key]
        text = _MARKER.sub(lambda m: f"[{local_to_display.get(int(m.group(1)), m.group(1))}]", draft.text)
        citations = tuple(
            sorted(
                (_citation(display, by_number[local]) for local, display in local_to_display.items()),
                key=lambda c: c.number,
            )
        )
        return Answer(
            question=question,
            text=text,
            citations=citations,
            status=draft.status,
            unsupported=draft.unsupported,
            passages=tuple(_retrieved(p) for p in passages),
            timings={k: round(v, 4) for k, v in timings.items()},
            backend=self.backend,
        )


@dataclass(frozen=True)
class _Draft:
    status: AnswerStatus
    text: str
    unsupported: tuple[str, ...] = ()


def extractive_draft(evidence: Sequence[Evidence], unsupported: tuple[str, ...] = ()) -> _Draft:
    """The best supporting sentence, quoted and cited."""
    best = evidence[0]
    status: AnswerStatus = "fallback" if unsupported else "verified"
    return _Draft(status=status, text=f"\u201c{best.quote}\u201d [{best.number}]", unsupported=unsupported)


def model_unavailable_draft(evidence: Sequence[Evidence], err: Exception) -> _Draft:
    """The extractive answer, marked fallback with why, when the model is down, too slow, missing or corrupt."""
    reason = " ".join(str(err).split())
    return extractive_draft(
        evidence, unsupported=(f"(no model answer: {reason} The best sentence is quoted instead.)",)
    )


def _answers_question(text: str, question: str) -> bool:
    """True when the answer holds the kind of thing asked for, counts what a "how many" question counts and
    names the kind of place a "which" question asks for."""
    return (
        answers_kind(text, expected_answer_kind(question))
        and counts_what_was_asked(text, question)
        and names_the_kind_asked(text, question)
    )


def _has_content(text: str) -> bool:
    """True when the answer says something besides its [n] markers."""
    return bool(re.search(r"[A-Za-z0-9]", _MARKER.sub("", text)))


def _echoes(text: str, question: str) -> bool:
    """True when every content word of the answer is already in the question ("Normandy" for "Where is Normandy?").

    A choice question ("Which came first, the siege or the truce?") is answered with words of the question, so
    it never counts as an echo.
    """
    if is_choice_question(question):
        return False
    words = set(terms(_MARKER.sub(" ", text)))
    return bool(words) and words <= set(terms(question))


def _citation(number: int, evidence: Evidence) -> Citation:
    chunk = evidence.chunk
    return Citation(
        number=number,
        doc_id=chunk.doc_id,
        title=chunk.title,
        source=chunk.source,
        published=chunk.published,
        url=chunk.url,
        chunk_id=chunk.id,
        start=evidence.start,
        end=evidence.end,
        quote=evidence.quote,
        score=evidence.score,
    )


def _retrieved(passage: Passage) -> RetrievedPassage:
    chunk = passage.chunk
    return RetrievedPassage(
        doc_id=chunk.doc_id,
        title=chunk.title,
        chunk_id=chunk.id,
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
        score=round(passage.score, 5),
    )
