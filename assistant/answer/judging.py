"""Judging a draft: its signals, the calibrated confidence, and the status a reader sees (verified only when the
calibrated confidence is high; withheld below the floor), with the model's checks in a second role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer.calculation_step import CalculationStep, articles_cited
from assistant.answer.drafts import Draft, calculation_signals
from assistant.answer.prompting import WITHHELD_TEXT, build_check_messages, build_follow_up_check
from assistant.checks.calibration import Calibrator, load_calibrator, verifiable
from assistant.checks.consistency import agreement_share, sample_seeds
from assistant.checks.signals import DraftFacts, compute_signals
from assistant.llm.base import ChatLLM
from assistant.markers import cited_numbers, without_markers
from assistant.question import QuestionAnalysis
from assistant.settings import Settings
from assistant.types import AnswerStatus, Evidence, Passage

_UNLOADED: Any = object()


@dataclass(frozen=True)
class Judged:
    """A draft with its signals, confidence and status."""

    draft: Draft
    status: AnswerStatus
    confidence: float | None
    signals: dict[str, float]


class Judge:
    """Signals, confidence and status of each draft, for one model and its calibrator."""

    def __init__(self, settings: Settings, llm: ChatLLM | None):
        self.settings = settings
        self.llm = llm
        self._calibrator: Calibrator | Any | None = _UNLOADED

    @property
    def calibrator(self) -> Calibrator | None:
        """The calibrator for this model (the configured file, else the shipped one), or None."""
        if self._calibrator is _UNLOADED:
            model = self.llm.name if self.llm is not None else "extractive"
            self._calibrator = load_calibrator(model, self.settings.trust.calibration_file)
        return self._calibrator

    def judge(
        self, question: QuestionAnalysis, draft: Draft, evidence: Sequence[Evidence], passages: Sequence[Passage]
    ) -> Judged:
        """Signals, confidence and status of a draft: verified only when the calibrated confidence is high."""
        if draft.form == "none":
            return Judged(draft, "abstained", None, dict(draft.gate))
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
            return Judged(draft, "fallback" if draft.form == "quote" else "unconfirmed", None, signals)
        confidence = calibrator.probability(signals)
        floor = calibrator.abstain_below if trust.abstain_below is None else trust.abstain_below
        threshold = calibrator.verified_threshold(signals)
        if (
            samplable
            and confidence >= floor
            and (trust.sample_all or _at_or_above(confidence, calibrator.consistency_gate()))
        ):
            signals["sample_agreement"] = self._sample_agreement(question.text, draft)
            if calibrator.consistency_stage is not None:
                signals["first_confidence"] = round(confidence, 5)
                confidence = calibrator.with_consistency(confidence, signals["sample_agreement"])
                threshold = calibrator.consistency_stage.verified_at
        status = settle(draft.form, confidence, floor, threshold, signals)
        if status == "abstained":
            return _withheld(draft, confidence, signals)
        return Judged(draft, status, confidence, signals)

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


def _at_or_above(confidence: float, gate: float | None) -> bool:
    """True when there is a gate and the confidence reaches it."""
    return gate is not None and confidence >= gate


def settle(form: str, confidence: float, floor: float, threshold: float, signals: dict[str, float]) -> AnswerStatus:
    """The status a calibrated ``confidence`` gives a draft of ``form``: abstained below ``floor``, fallback for a
    copied sentence, verified at or above ``threshold`` when every claim could be checked, else unconfirmed.

    Part of a partial answer was invented, and a calculation with an operand its sentence lacks was not checked,
    so neither is ever verified; nor is a calculation whose operand the engine had to move to another sentence,
    or whose operands come from several articles (see ``verifiable``)."""
    if confidence < floor:
        return "abstained"
    if form == "quote":
        return "fallback"
    checked = form in ("answer", "calculation") and verifiable(signals)
    return "verified" if confidence >= threshold and checked else "unconfirmed"


def _withheld(draft: Draft, confidence: float, signals: dict[str, float]) -> Judged:
    """An answer not shown because its confidence is below the floor (kept among the unsupported texts)."""
    dropped = Draft(form="none", text=WITHHELD_TEXT, unsupported=(*draft.unsupported, draft.text), shown=draft.shown)
    return Judged(dropped, "abstained", confidence, signals)
