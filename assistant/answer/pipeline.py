"""One question through the pipeline: retrieve, select evidence, generate, verify, fall back or abstain."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.answer.calculation_step import CalculationStep, articles_cited, route
from assistant.answer.dating import retrieve_dated
from assistant.answer.drafts import (
    Draft,
    answers_question,
    calculation_signals,
    echoes,
    extractive_draft,
    has_content,
    model_unavailable_draft,
    rejected_calculation,
    span_of_ends,
)
from assistant.answer.evidence import Support, select_evidence
from assistant.answer.freshness import with_freshness
from assistant.answer.leads import with_leads
from assistant.answer.prompting import (
    ABSTAIN_FIRST_WORD,
    ABSTAIN_TEXT,
    WITHHELD_TEXT,
    build_check_messages,
    build_follow_up_check,
    build_messages,
    fit_evidence,
    is_abstention,
    tidy_answer,
)
from assistant.answer.retrieval import HybridRetriever
from assistant.checks.calibration import Calibrator, load_calibrator, verifiable
from assistant.checks.consistency import agreement_share, sample_seeds
from assistant.checks.disagreement import side_by_side
from assistant.checks.grounding import (
    answers_kind,
    gives_a_new_name,
    recite,
    verify_answer,
)
from assistant.checks.signals import DraftFacts, compute_signals
from assistant.errors import LLMUnavailableError, ModelCorruptError, ModelNotFoundError
from assistant.llm.base import ChatLLM, Trace
from assistant.markers import MARKER, cited_numbers, without_markers
from assistant.question import QuestionAnalysis, analyse_question
from assistant.settings import Settings
from assistant.store.embedding import Embedder
from assistant.types import Answer, AnswerStatus, Citation, Evidence, Passage, RetrievedPassage, StreamEvent

_UNLOADED: Any = object()


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
        self._calibrator: Calibrator | Any | None = _UNLOADED

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
            _ = self.calibrator  # a configured file that cannot be used fails here, before any work is done
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
        judged = self._judge(asked, result, evidence, passages)
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

    def _calculation_signals(
        self, question: QuestionAnalysis, draft: Draft, evidence: Sequence[Evidence], passages: Sequence[Passage]
    ) -> dict[str, float]:
        """Signals of a computed answer: the usual ones, what its operands are and whether each is in its sentence,
        and the model's check of the calculation in a second role."""
        assert draft.calculation is not None and self.llm is not None
        calculation = draft.calculation
        facts = DraftFacts(text=draft.text, form=draft.form, token_logprobs=draft.logprobs)
        signals = compute_signals(question, facts, evidence, passages) | calculation_signals(calculation)
        signals["calc_articles"] = float(articles_cited(calculation, evidence))
        if self.settings.calculation.check:
            yes = CalculationStep(self.settings.calculation, self.llm).check(question, calculation, evidence)
            if yes is not None:
                signals["calc_check_yes"] = round(yes, 5)
        return signals

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

    # -- trust ---------------------------------------------------------------------------------------------------
    @property
    def calibrator(self) -> Calibrator | None:
        """The calibrator for this model (the configured file, else the shipped one), or None."""
        if self._calibrator is _UNLOADED:
            model = self.llm.name if self.llm is not None else "extractive"
            self._calibrator = load_calibrator(model, self.settings.trust.calibration_file)
        return self._calibrator

    def _judge(
        self, question: QuestionAnalysis, draft: Draft, evidence: Sequence[Evidence], passages: Sequence[Passage]
    ) -> _Judged:
        """Signals, confidence and status of a draft: verified only when the calibrated confidence is high."""
        if draft.form == "none":
            return _Judged(draft, "abstained", None, dict(draft.gate))
        if draft.calculation is not None:
            signals = self._calculation_signals(question, draft, evidence, passages)
        else:
            facts = DraftFacts(
                text=draft.text,
                form=draft.form,
                token_logprobs=draft.logprobs,
                abstain_logprob=draft.abstain_logprob,
                retried=draft.retried,
                yes_probability=self._ask_check(draft, evidence),
                follow_up_yes_probability=self._ask_follow_up_check(draft),
            )
            signals = compute_signals(question, facts, evidence, passages)
        trust = self.settings.trust
        calibrator = self.calibrator if trust.calibrated else None
        # A written answer (not computed, every claim checked) may be sampled again for self-consistency.
        samplable = (
            self.llm is not None
            and draft.form == "answer"
            and bool(draft.answer_messages)
            and trust.consistency_samples > 0
            and verifiable(signals)
        )
        if calibrator is None:
            if samplable and trust.sample_all:
                signals["sample_agreement"] = self._sample_agreement(question.text, draft)
            return _Judged(draft, "fallback" if draft.form == "quote" else "unconfirmed", None, signals)
        confidence = calibrator.probability(signals)
        floor = calibrator.abstain_below if trust.abstain_below is None else trust.abstain_below
        if confidence < floor:
            return _withheld(draft, confidence, signals)
        if draft.form == "quote":
            return _Judged(draft, "fallback", confidence, signals)
        threshold = calibrator.verified_threshold(signals)
        if samplable and (trust.sample_all or _at_or_above(confidence, calibrator.consistency_gate())):
            signals["sample_agreement"] = self._sample_agreement(question.text, draft)
            if calibrator.consistency_stage is not None:
                signals["first_confidence"] = round(confidence, 5)
                confidence = calibrator.with_consistency(confidence, signals["sample_agreement"])
                threshold = calibrator.consistency_stage.verified_at
                if confidence < floor:
                    return _withheld(draft, confidence, signals)
        # Part of a partial answer was invented, and a calculation with an operand its sentence lacks was not
        # checked, so neither is ever shown as verified; nor is a calculation whose operand the engine had to move
        # to another sentence, or whose operands come from several articles (see ``verifiable``).
        checked = draft.form in ("answer", "calculation") and verifiable(signals)
        status: AnswerStatus = "verified" if confidence >= threshold and checked else "unconfirmed"
        return _Judged(draft, status, confidence, signals)

    def _sample_agreement(self, question: str, draft: Draft) -> float:
        """Share of answers sampled to the draft's own prompt that say what the draft says (self-consistency)."""
        assert self.llm is not None
        trust = self.settings.trust
        samples = [
            self.llm.sample(
                list(draft.answer_messages),
                max_tokens=self.settings.llm.max_tokens,
                temperature=trust.consistency_temperature,
                seed=seed,
            )
            for seed in sample_seeds(question, trust.consistency_samples)
        ]
        return round(agreement_share(draft.text, samples, question), 5)

    def _ask_check(self, draft: Draft, evidence: Sequence[Evidence]) -> float | None:
        """The model in a second role: P(yes) that the cited sentences give this answer to the question."""
        if self.llm is None or not self.settings.trust.check or not draft.answer_messages or draft.form == "quote":
            return None
        numbers = {e.number for e in evidence}
        cited = [n for n in cited_numbers(draft.text) if n in numbers]
        if not cited:
            return None
        answer = " ".join(without_markers(draft.text).split())
        messages = build_check_messages(list(draft.answer_messages), draft.raw, answer, cited)
        return self.llm.yes_probability(messages)

    def _ask_follow_up_check(self, draft: Draft) -> float | None:
        if self.llm is None or not self.settings.trust.follow_up_check or draft.form == "quote":
            return None
        return self.llm.yes_probability(build_follow_up_check(list(draft.answer_messages), draft.raw))

    def _assemble(
        self,
        question: str,
        judged: _Judged,
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


@dataclass(frozen=True)
class _Judged:
    draft: Draft
    status: AnswerStatus
    confidence: float | None
    signals: dict[str, float]


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


def _at_or_above(confidence: float, gate: float | None) -> bool:
    """True when there is a gate and the confidence reaches it."""
    return gate is not None and confidence >= gate


def _withheld(draft: Draft, confidence: float, signals: dict[str, float]) -> _Judged:
    """An answer not shown because its confidence is below the floor (kept among the unsupported texts)."""
    dropped = Draft(form="none", text=WITHHELD_TEXT, unsupported=(*draft.unsupported, draft.text), shown=draft.shown)
    return _Judged(dropped, "abstained", confidence, signals)


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
