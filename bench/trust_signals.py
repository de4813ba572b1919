"""Candidate trust signals for written answers, scored against a finished eval run (experiment, not shipped).

    python bench/trust_signals.py RESULTS.json [RESULTS.json ...] [--likelihood] [--detail-check] [--out FILE]

For every written answer of the runs (not abstained, not computed, with a citation; use calibration runs,
which withhold nothing) it prints each signal's AUROC against right/wrong, beside the shipped calibrator's
confidence:

- article ambiguity (always; retrieval only, on the store beside each results file, ``store-*``): how much more
  relevant the cited article's best sentence is than the best sentence of any other article, and how many
  articles supply evidence;
- question likelihood (``--likelihood``, loads the default model, about 2 s an answer on 2 cores): the
  log-probability of the question's tokens when the model is asked to write the question whose answer is the
  given one, with the cited sentences shown, minus the same without them (pointwise mutual information per token).
  A question that changes one detail of the sentence should have a token the sentence makes less likely;
- a few-shot detail check (``--detail-check``, about 0.7 s an answer): the model's P(yes) that the cited sentences
  state this answer to this exact question, after 8 made-up worked examples, half of them near misses.

Measured in the eighth session on squad-stage and drop-stage (docs/benchmarks.md): no signal separates.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def written_answers(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Cases answered in words by the model: not abstained, not computed, with a citation."""
    return [
        case
        for case in results["cases"]
        if case.get("status") != "abstained"
        and case.get("citations")
        and not (case.get("signals") or {}).get("calculated")
    ]


def answer_and_sentences(case: dict[str, Any]) -> tuple[str, str]:
    """The answer a case shows, without its markers, and the sentences it cites, joined."""
    from assistant.markers import without_markers

    answer = " ".join(without_markers(case["got"]).split()).rstrip(".")
    return answer, " ".join(c["quote"] for c in case["citations"])


def ambiguity(cases: list[dict[str, Any]], store: Path) -> list[dict[str, float]]:
    """Per case: the cited article's lead over the best other article, and the articles among the evidence."""
    from assistant.answer.evidence import select_evidence
    from assistant.engine import Assistant
    from assistant.question import analyse_question

    assistant = Assistant(Assistant.open(store).settings, llm=None)
    pipeline = assistant._pipeline()
    rows = []
    for case in cases:
        question = case["question"]
        vector = pipeline.embedder.embed([question])[0]
        passages = pipeline.retriever.retrieve(question, query_vector=vector)
        evidence, _ = select_evidence(
            analyse_question(question),
            passages,
            pipeline.embedder,
            limit=assistant.settings.retrieval.evidence_sentences,
            question_vector=vector,
        )
        best: dict[str, float] = {}
        for item in evidence:
            best[item.chunk.doc_id] = max(best.get(item.chunk.doc_id, -1.0), item.score)
        cited = {c["doc_id"] for c in case["citations"]}
        own = max((v for k, v in best.items() if k in cited), default=0.0)
        other = max((v for k, v in best.items() if k not in cited), default=None)
        rows.append({"article_lead": own - other if other is not None else 0.5, "articles": -float(len(best))})
    return rows


class QuestionLikelihood:
    """Per-token log-probabilities of a question written by the default model for a given answer."""

    def __init__(self) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from assistant.llm.models import resolve_gguf
        from assistant.settings import Settings

        settings = Settings()
        path = resolve_gguf(settings.llm.model, settings.model_cache_dir)
        self.llama = Llama(model_path=str(path), n_ctx=1024, n_threads=2, logits_all=True, verbose=False)
        eos = self.llama._model.token_get_text(self.llama.token_eos())
        self.formatter = Jinja2ChatFormatter(
            template=self.llama.metadata["tokenizer.chat_template"], eos_token=eos, bos_token=""
        )

    def logprobs(self, passage: str, answer: str, question: str) -> list[float]:
        """Log-probability of each question token after a prompt that shows ``passage`` (or none when empty)."""
        import numpy as np

        ask = f"Passage: {passage}\n\n" if passage else ""
        messages = [
            {"role": "system", "content": "You write the question that a reader asked about a passage."},
            {"role": "user", "content": f"{ask}Write the question whose answer is: {answer}"},
        ]
        prompt = self.formatter(messages=messages).prompt
        start = len(self.llama.tokenize(prompt.encode(), add_bos=False, special=True))
        tokens = self.llama.tokenize((prompt + question).encode(), add_bos=False, special=True)
        self.llama.reset()
        self.llama.eval(tokens)
        scores = np.asarray(self.llama.scores[: len(tokens)])
        out = []
        for index in range(start, len(tokens)):
            row = scores[index - 1]
            top = float(row.max())
            out.append(float(row[tokens[index]]) - top - math.log(float(np.exp(row - top).sum())))
        return out

    def signals(self, case: dict[str, Any]) -> dict[str, float]:
        """PMI of the question's tokens with the cited sentences: mean, least and second least."""
        answer, passage = answer_and_sentences(case)
        question = case["question"].strip()
        shown = self.logprobs(passage, answer, question)
        alone = self.logprobs("", answer, question)
        pmi = sorted(a - b for a, b in zip(shown, alone, strict=True))
        return {
            "question_logprob": sum(shown),
            "pmi_mean": sum(pmi) / len(pmi),
            "pmi_least": pmi[0],
            "pmi_second_least": pmi[min(1, len(pmi) - 1)],
        }


DETAIL_SYSTEM = (
    "You check answers against a source sentence. Compare every detail of the question with the sentence: who, "
    "what action, which object, numbers, dates, places, and words such as not, first, only, private. Reply yes "
    "only if the sentence itself states the answer to this exact question; reply no if the question asks about "
    "something the sentence does not say, even when the answer's words appear in it."
)
DETAIL_EXAMPLES = (  # sentence, question, answer, reply: made up, half of them near misses
    (
        "The company opened its first store in Denver in 1998.",
        "When did the company open its first store in Denver?",
        "1998",
        "yes",
    ),
    (
        "The company opened its first store in Denver in 1998.",
        "When did the company close its first store in Denver?",
        "1998",
        "no",
    ),
    (
        "Officials said about 2,500 soldiers remain in the region after the withdrawal.",
        "How many troops are still in the region?",
        "about 2,500",
        "yes",
    ),
    (
        "The museum received paintings from dozens of private collectors in Europe.",
        "Who gave the museum sculptures?",
        "private collectors",
        "no",
    ),
    (
        "Rain fell on the city for three days before the river flooded.",
        "How many days did rain fall before the river flooded?",
        "three",
        "yes",
    ),
    (
        "The bill was not signed by the governor, who vetoed it in May.",
        "When did the governor sign the bill?",
        "May",
        "no",
    ),
    (
        "The bridge, designed by Anna Berg, was completed in 1932 after four years of work.",
        "Who designed the bridge?",
        "Anna Berg",
        "yes",
    ),
    (
        "The bridge, designed by Anna Berg, was completed in 1932 after four years of work.",
        "Who designed the tunnel completed in 1932?",
        "Anna Berg",
        "no",
    ),
)


def detail_check_messages(sentence: str, question: str, answer: str) -> list[dict[str, str]]:
    """The detail check's chat: system, the worked examples as turns, then the answer to check."""

    def asked(s: str, q: str, a: str) -> str:
        return f"Sentence: {s}\nQuestion: {q}\nAnswer: {a}\nDoes the sentence state this answer to this exact question?"

    messages = [{"role": "system", "content": DETAIL_SYSTEM}]
    for s, q, a, reply in DETAIL_EXAMPLES:
        messages += [{"role": "user", "content": asked(s, q, a)}, {"role": "assistant", "content": reply}]
    return [*messages, {"role": "user", "content": asked(sentence, question, answer)}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--likelihood", action="store_true", help="also the question-likelihood signal (slow)")
    parser.add_argument("--detail-check", action="store_true", help="also the few-shot detail check (slow)")
    parser.add_argument("--out", type=Path, help="write every answer's signals here as JSON")
    args = parser.parse_args()
    from assistant.checks.calibration import auroc, load_calibrator
    from assistant.settings import Settings

    calibrator = load_calibrator(Settings().llm.model)
    likelihood = QuestionLikelihood() if args.likelihood else None
    checker = None
    if args.detail_check:
        from assistant.llm.registry import make_llm

        checker = make_llm(Settings())
    everything = []
    for path in args.results:
        cases = written_answers(json.loads(path.read_text(encoding="utf-8")))
        stores = sorted(path.parent.glob("store-*"))
        rows = ambiguity(cases, stores[0]) if stores else [{} for _ in cases]
        for case, row in zip(cases, rows, strict=True):
            if calibrator is not None:
                row["confidence"] = calibrator.probability(case["signals"] or {})
            if likelihood is not None:
                row.update(likelihood.signals(case))
            if checker is not None:
                answer, sentence = answer_and_sentences(case)
                messages = detail_check_messages(sentence, case["question"].strip(), answer)
                row["detail_check_yes"] = checker.yes_probability(messages)  # type: ignore[arg-type]
        correct = [bool(c["correct"]) for c in cases]
        print(f"{path}: {len(cases)} written answers, {sum(correct)} right")
        for name in rows[0] if rows else ():
            print(f"  {name:18s} AUROC {auroc([r[name] for r in rows], correct):.3f}")
        everything += [{"id": c["id"], "correct": c["correct"], **r} for c, r in zip(cases, rows, strict=True)]
    if args.out:
        args.out.write_text(json.dumps(everything, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
