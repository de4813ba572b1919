"""One question through the pipeline: retrieve, select evidence, generate, verify, fall back or abstain."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.answer.calculation_step import CalculationStep, route
from assistant.answer.dating import retrieve_dated
from assistant.answer.drafts import (
    Draft,
    answers_question,
    echoes,
    extractive_draft,
    has_content,
    model_unavailable_draft,
    rejected_calculation,
    span_of_ends,
)
from assistant.answer.evidence import Support, select_evidence
from assistant.answer.freshness import with_freshness
from assistant.answer.judging import Judge, Judged
from assistant.answer.leads import with_leads
from assistant.answer.prompting import (
    ABSTAIN_FIRST_WORD,
    ABSTAIN_TEXT,
    build_messages,
    fit_evidence,
    is_abstention,
    tidy_answer,
)
from assistant.answer.retrieval import HybridRetriever
from assistant.checks.disagreement import side_by_side
from assistant.checks.grounding import (
    answers_kind,
    gives_a_new_name,
    recite,
    verify_answer,
)
from assistant.errors import LLMUnavailableError, ModelCorruptError, ModelNotFoundError
from assistant.llm.base import ChatLLM, Trace
from assistant.markers import MARKER
from assistant.question import QuestionAnalysis, analyse_question
from assistant.settings import Settings
from assistant.store.embedding import Embedder
from assistant.types import Answer, Citation, Evidence, Passage, RetrievedPassage, StreamEvent


@dataclass(frozen=True)
class Turn:
    """What the pipeline needs to answer one question."""

    question: str
    retrieval_query: str
    previous_question: str | None = None
    top_k: int | None = None
    filters: dict[str, Any] | None = None
    as_of: date | None = None
    """The day the question is asked on: articles published after it are never evidence."""


class AnswerPipeline:
    """Turns a question into a checked Answer; streams the model's tokens on the way."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, embedder: Embedder, llm: ChatLLM | None):
        self.settings = settings
        self.retriever = retriever
        self.embedder = embedder
        self.llm = llm
        self.judging = Judge(settings, llm)

    @property
    def backend(self) -> str:
        """Name of what writes the answers."""
        return "extractive" if self.llm is None else f"{self.settings.llm.backend}:{self.llm.name}"

    def run(self, turn: Turn, numbering: MutableMapping[tuple[str, int], int]) -> Iterator[StreamEvent]:
        """Yield text deltas while generating, then the final Answer."""
        began = time.perf_counter()
        timings: dict[str, float] = {}
        asked = analyse_question(turn.question, turn.as_of)
        searched = (
            asked if turn.retrieval_query == turn.question else analyse_question(turn.retrieval_query, turn.as_of)
        )
        if self.settings.trust.calibrated:
            _ = self.judging.calibrator  # a configured file that cannot be used fails here, before any work is done
        query_vector = self.embedder.embed([turn.retrieval_query])[0]
        dated = retrieve_dated(
            self.retriever,
            turn.retrieval_query,
            settings=self.settings.retrieval,
            top_k=turn.top_k,
            filters=turn.filters,
            query_vector=query_vector,
            as_of=turn.as_of,
            window=searched.window,
        )
        passages = dated.passages
        retrieval = self.settings.retrieval
        readable, weights = (
            with_leads(self.retriever.store, passages, dated.weights)
            if retrieval.article_leads
            else (passages, dated.weights)
        )
        evidence, support = select_evidence(
            searched,
            readable,
            self.embedder,
            limit=self._evidence_limit(asked),
            question_vector=query_vector,
            weights=weights,
            per_article=retrieval.sentences_per_article,
        )
        timings["retrieve"] = time.perf_counter() - began
        result = Draft(form="none", text=ABSTAIN_TEXT)
        if not passages and turn.as_of is not None and self._archive_is_later(turn, query_vector):
            result = Draft(form="none", text=f"No article in the archive is dated on or before {turn.as_of}.")
        elif dated.window_is_empty and searched.window is not None:
            result = Draft(form="none", text=f"No article from {searched.window.label()} is in the archive.")
        elif evidence and support.is_weak(retrieval.min_relevance, retrieval.missing_terms_share):
            result = Draft(form="none", text=ABSTAIN_TEXT, gate=_gate_signals(support, retrieval.min_relevance))
        elif evidence:
            if self.llm is None:
                result = extractive_draft(evidence)
            else:
                try:
                    if self._calculates(asked):
                        result, evidence = yield from self._calculate(turn, asked, evidence, timings)
                    else:
                        result = yield from self._generate_and_verify(turn, asked, evidence, timings)
                except (LLMUnavailableError, ModelNotFoundError, ModelCorruptError) as err:
                    result = model_unavailable_draft(evidence, err)
        timings.setdefault("generate", 0.0)
        timings.setdefault("verify", 0.0)
        started = time.perf_counter()
        judged = self.judging.judge(asked, result, evidence, passages)
        timings["check"] = time.perf_counter() - started
        timings["total"] = time.perf_counter() - began
        answer = self._assemble(turn.question, judged, evidence, passages, numbering, timings)
        answer = side_by_side(answer, evidence, numbering)  # reports that differ, each cited with outlet and date
        answer = with_freshness(dated_answer(answer, searched), turn.as_of, self.settings.trust.stale_after_days)
        yield StreamEvent(answer=answer)

    def _archive_is_later(self, turn: Turn, query_vector: list[float]) -> bool:
        """True when nothing was found by the as_of date but the archive holds later articles."""
        found = self.retriever.retrieve(turn.retrieval_query, top_k=1, filters=turn.filters, query_vector=query_vector)
        return bool(found)

    def _generate_and_verify(
        self, turn: Turn, asked: QuestionAnalysis, evidence: list[Evidence], timings: dict[str, float]
    ) -> Generator[StreamEvent, None, Draft]:
        assert self.llm is not None
        max_tokens = self.settings.llm.max_tokens
        original = evidence
        # The asking day goes into the prompt only when the question names a time ("this week"): on other
        # questions it made the small model doubt sources written before it (injection suite: 5 of 10 withheld).
        asked_on = turn.as_of if asked.window is not None else None
        evidence = fit_evidence(
            turn.question, evidence, self.llm.count_tokens, self.llm.context_window - max_tokens, as_of=asked_on
        )
        if not evidence:
            return extractive_draft(original, unsupported=("(the prompt did not fit the model's context window)",))
        started = time.perf_counter()
        pieces: list[str] = []
        messages = build_messages(turn.question, evidence, previous_question=turn.previous_question, as_of=asked_on)
        trace = Trace(watch=(ABSTAIN_FIRST_WORD,))
        for delta in self.llm.stream(messages, max_tokens=max_tokens, trace=trace, fixed_messages=len(messages) - 1):
            pieces.append(delta)
            yield StreamEvent(delta=delta)
        timings["generate"] = time.perf_counter() - started
        checked = time.perf_counter()
        raw = "".join(pieces)
        draft = self._check(raw, evidence, asked)
        timings["verify"] = time.perf_counter() - checked
        if draft is None:
            started = time.perf_counter()
            messages = build_messages(
                turn.question, evidence, previous_question=turn.previous_question, strict=True, as_of=asked_on
            )
            trace = Trace(watch=(ABSTAIN_FIRST_WORD,))
            retry = "".join(
                self.llm.stream(messages, max_tokens=max_tokens, trace=trace, fixed_messages=len(messages) - 1)
            )
            timings["generate"] += time.perf_counter() - started
            checked = time.perf_counter()
            draft = self._check(retry, evidence, asked)
            if draft is not None:
                draft = dataclasses.replace(draft, retried=True)
            else:
                draft = self._fallback(asked, evidence, (tidy_answer(raw), tidy_answer(retry)))
            raw = retry
            timings["verify"] += time.perf_counter() - checked
        return dataclasses.replace(
            draft,
            logprobs=tuple(trace.token_logprobs),
            abstain_logprob=trace.first_token_logprobs.get(ABSTAIN_FIRST_WORD),
            answer_messages=tuple(messages),
            raw=raw,
            shown=tuple(e.quote for e in evidence),
        )

    # -- calculation: questions that ask for arithmetic (the model writes it, the engine computes it) -------------
    def _calculates(self, asked: QuestionAnalysis) -> bool:
        """True when the question asks for a computation and a model is there to write it."""
        return self.llm is not None and self.settings.calculation.enabled and route(asked) is not None

    def _evidence_limit(self, asked: QuestionAnalysis) -> int:
        """Sentences to select: more for a calculation, whose operands may sit in sentences far apart."""
        limit = self.settings.retrieval.evidence_sentences
        return max(limit, self.settings.calculation.evidence_sentences) if self._calculates(asked) else limit

    def _calculate(
        self, turn: Turn, asked: QuestionAnalysis, evidence: list[Evidence], timings: dict[str, float]
    ) -> Generator[StreamEvent, None, tuple[Draft, list[Evidence]]]:
        """A computed answer with its working; when no calculation holds up, today's path on today's evidence."""
        assert self.llm is not None
        routed = route(asked, evidence, self.embedder.embed)
        written = None
        if routed is not None:
            written = CalculationStep(self.settings.calculation, self.llm).write(asked, evidence, routed)
            timings["generate"] = written.seconds
        if written is None or not written.calculation.ok:
            evidence = evidence[: self.settings.retrieval.evidence_sentences]
            draft = yield from self._generate_and_verify(turn, asked, evidence, timings)
            if written is not None:
                timings["generate"] += written.seconds
                draft = dataclasses.replace(
                    draft, unsupported=(*draft.unsupported, rejected_calculation(written.calculation))
                )
            if routed is not None and "YEARS_BETWEEN" in routed.operations:
                draft = span_of_ends(draft, evidence)
            return draft, evidence
        text = written.calculation.render()
        yield StreamEvent(delta=text)
        draft = Draft(
            form="calculation",
            text=text,
            logprobs=written.token_logprobs,
            answer_messages=written.messages,
            raw=written.raw,
            calculation=written.calculation,
            shown=tuple(e.quote for e in evidence),
        )
        return draft, evidence

    def _check(self, raw: str, evidence: Sequence[Evidence], question: QuestionAnalysis) -> Draft | None:
        """A verified or partly verified draft, an abstention, or None when nothing survives."""
        text = tidy_answer(raw)
        if is_abstention(text):
            best = evidence[0]
            if best.coverage >= self.settings.retrieval.quote_min_coverage:
                return extractive_draft(evidence, unsupported=(text,))
            return Draft(form="none", text=ABSTAIN_TEXT, gate={"model_abstained": 1.0})
        sources = {e.number: e.quote for e in evidence}
        if not has_content(text) or echoes(text, question) or not answers_question(text, question):
            return None
        text = recite(text, sources)
        verification = verify_answer(text, sources)
        if verification.ok and MARKER.search(text):
            return Draft(form="answer", text=text)
        kept = verification.supported_text.strip()
        if kept and MARKER.search(kept) and has_content(kept):
            return Draft(form="partial", text=kept, unsupported=tuple(verification.unsupported))
        return None

    def _fallback(self, question: QuestionAnalysis, evidence: Sequence[Evidence], rejected: tuple[str, ...]) -> Draft:
        """Quote the best sentence when it is clearly on topic and holds the kind of thing asked for (a count
        for "how many", a date for "when"); otherwise say the articles don't say."""
        best = evidence[0] if evidence else None
        if (
            best is not None
            and best.score >= self.settings.retrieval.fallback_min_relevance
            and answers_kind(best.quote, question.expects)
            and gives_a_new_name(best.quote, question)
        ):
            return extractive_draft(evidence, unsupported=rejected)
        return Draft(form="none", text=ABSTAIN_TEXT, unsupported=rejected, gate={"no_checked_answer": 1.0})

    def _assemble(
        self,
        question: str,
        judged: Judged,
        evidence: Sequence[Evidence],
        passages: Sequence[Passage],
        numbering: MutableMapping[tuple[str, int], int],
        timings: dict[str, float],
    ) -> Answer:
        draft = judged.draft
        by_number = {e.number: e for e in evidence}
        local_to_display: dict[int, int] = {}
        for match in MARKER.finditer(draft.text):
            local = int(match.group(1))
            item = by_number.get(local)
            if item is None or local in local_to_display:
                continue
            key = (item.chunk.doc_id, item.start)
            if key not in numbering:
                numbering[key] = len(numbering) + 1
            local_to_display[local] = numbering[key]
        text = MARKER.sub(lambda m: f"[{local_to_display.get(int(m.group(1)), m.group(1))}]", draft.text)
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
            status=judged.status,
            confidence=None if judged.confidence is None else round(judged.confidence, 4),
            signals=judged.signals,
            unsupported=draft.unsupported,
            passages=tuple(_retrieved(p) for p in passages),
            timings={k: round(v, 4) for k, v in timings.items()},
            backend=self.backend,
            evidence=draft.shown,
        )


def dated_answer(answer: Answer, question: QuestionAnalysis) -> Answer:
    """The answer with the day it was asked on, and the days it read when the question named a time."""
    if question.as_of is None:
        return answer
    read = question.window.label() if question.window is not None else ""
    return dataclasses.replace(answer, as_of=question.as_of.isoformat(), dates_read=read)


def _gate_signals(support: Support, min_relevance: float) -> dict[str, float]:
    """What made the pre-model gate abstain: a best sentence below the relevance floor, or missing names."""
    return {
        "gate_relevance": round(support.best_relevance, 4),
        "gate_below_relevance": float(support.best_relevance < min_relevance),
        "gate_missing_share": round(support.missing_share, 4),
    }


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
        source=chunk.source,
        published=chunk.published,
    )
