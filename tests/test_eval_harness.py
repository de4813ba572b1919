"""Eval suites, runner, reports, thresholds, baseline, importers and the `assistant eval` command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assistant.evaluation.harness import check_thresholds, compare_to_baseline, run_suite
from assistant.evaluation.importing import import_drop, import_squad
from assistant.evaluation.suite_file import SuiteError, load_suite
from assistant.types import Answer, IngestReport
from tests.conftest import REPO, make_citation

SHARED = REPO.parent / "shared" / "data"
SUITE = """
name: mini
corpus: {corpus}
thresholds: {{min_accuracy: 0.99, min_abstention_recall: 1.0}}
cases:
  - {{id: troops, question: "How many troops are in Syria?", answers: [{troops}], kind: number, tags: [figure]}}
  - {{id: town, question: "Which town?", answers: [Zummar], tags: [place]}}
  - {{id: none, question: "What did Russia say?", kind: unanswerable, tags: [unanswerable]}}
"""
QUOTES = {"troops": "The U.S. has 900 troops in eastern Syria.", "town": "Rockets came from Zummar."}


class FakeAssistant:
    """Scripted answers through the same public API the harness uses."""

    def __init__(self) -> None:
        self.ingested: list[Any] = []

    def ingest(self, paths: Any = None, **kwargs: Any) -> IngestReport:
        self.ingested.append(paths)
        return IngestReport()

    def describe(self) -> dict[str, str]:
        return {"backend": "fake", "model": "", "embedder": "fake"}

    def ask(self, question: str, *, top_k: int | None = None, filters: Any = None) -> Answer:
        key = "troops" if "troops" in question else "town" if "town" in question else None
        if key is None:
            return Answer(question=question, text="The articles don't say.", status="abstained", timings={"total": 0.1})
        quote = QUOTES[key]
        citation = make_citation(quote)
        text = "900 troops [1]." if key == "troops" else "Zummar [1]."
        return Answer(
            question=question,
            text=text,
            citations=(citation,),
            status="verified",
            timings={"retrieve": 0.1, "generate": 0.2, "verify": 0.0, "total": 0.3},
        )


def write_suite(tmp_path: Path, troops: int = 900) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    path = tmp_path / "mini.yaml"
    path.write_text(SUITE.format(corpus=corpus, troops=troops), encoding="utf-8")
    return path


def cli() -> typer.Typer:
    from assistant.evaluation.eval_cli import eval_app

    app = typer.Typer()
    app.add_typer(eval_app, name="eval")

    @app.command()
    def other() -> None:
        """Keeps `eval` a subcommand group, as in the real CLI."""

    return app


def test_suite_loads_and_scores_a_right_run(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    result = run_suite(suite, FakeAssistant())
    assert result.metrics["accuracy"] == 1.0 and result.metrics["abstention_recall"] == 1.0
    assert result.metrics["citation_precision"] == 1.0 and result.by_tag["figure"]["accuracy"] == 1.0
    assert check_thresholds(result.metrics, suite.thresholds) == []


def test_a_wrong_expected_answer_fails_the_gate(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, troops=250))
    result = run_suite(suite, FakeAssistant())
    assert [c.id for c in result.cases if not c.correct] == ["troops"]
    assert any("accuracy" in f for f in check_thresholds(result.metrics, suite.thresholds))


def test_cli_exit_codes_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.evaluation.eval_cli._assistant", lambda *a: FakeAssistant())
    runner = CliRunner()
    good = runner.invoke(cli(), ["eval", str(write_suite(tmp_path)), "--output", str(tmp_path / "ok"), "--quiet"])
    assert good.exit_code == 0, good.output
    for name in ("results.json", "junit.xml", "report.md", "chart.png"):
        assert (tmp_path / "ok" / name).stat().st_size > 0
    bad_dir = tmp_path / "bad"
    (tmp_path / "b").mkdir()
    bad_suite = write_suite(tmp_path / "b", troops=250)
    bad = runner.invoke(cli(), ["eval", str(bad_suite), "--output", str(bad_dir), "--quiet"])
    assert bad.exit_code == 1 and "FAILED" in bad.output
    junit = ET.parse(bad_dir / "junit.xml").getroot()
    failures = junit.findall(".//testcase/failure")
    assert len(failures) == 1 and "expected [250]" in failures[0].get("message", "")
    assert "900 troops in eastern Syria" in (failures[0].text or ""), "the failure shows the citations"


def test_baseline_diff_reports_fixed_and_broken_cases_and_fails_on_a_drop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("assistant.evaluation.eval_cli._assistant", lambda *a: FakeAssistant())
    good = json.loads(json.dumps(run_suite(load_suite(write_suite(tmp_path)), FakeAssistant()).to_dict()))
    bad = run_suite(load_suite(write_suite(tmp_path, troops=250)), FakeAssistant()).to_dict()
    fixed, broke, drops = compare_to_baseline(bad, good)
    assert (fixed, broke) == ([], ["troops"]) and any("accuracy dropped" in d for d in drops)
    assert compare_to_baseline(good, bad)[0] == ["troops"]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(good))
    suite = tmp_path / "s2"
    suite.mkdir()
    path = write_suite(suite, troops=250)
    path.write_text(path.read_text().replace("min_accuracy: 0.99", "min_accuracy: 0.1"))
    result = CliRunner().invoke(
        cli(), ["eval", str(path), "--baseline", str(baseline), "--output", str(tmp_path / "o"), "--quiet"]
    )
    assert result.exit_code == 1 and "dropped" in result.output and "broke ['troops']" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: x\ncases: []\n", "no cases"),
        ("just a string", "mapping"),
        ("name: x\ncases:\n  - {id: a}\n", "question"),
        ("name: x\ncases:\n  - {id: a, question: q, kind: essay}\n", "kind"),
        ("name: x\ncases: [\n", "invalid YAML"),
    ],
)
def test_bad_suite_files_give_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content)
    with pytest.raises(SuiteError, match=message):
        load_suite(path)
    result = CliRunner().invoke(cli(), ["eval", str(path)])
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output


def test_jsonl_suite_with_metadata_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"suite": {"name": "j", "thresholds": {"min_accuracy": 0.5}}}\n'
        '{"id": "a", "question": "How many?", "answers": [5], "kind": "number"}\n'
    )
    suite = load_suite(path)
    assert suite.name == "j" and suite.cases[0].answers == [5] and suite.thresholds == {"min_accuracy": 0.5}


def test_unknown_threshold_is_reported() -> None:
    assert "unknown threshold" in check_thresholds({"accuracy": 1.0}, {"min_accuracy_typo": 0.5})[0]


def test_squad_importer_writes_a_corpus_and_a_suite(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "title": "Normans",
                "paragraphs": [
                    {
                        "context": "The Normans were in Normandy in 911.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Where were the Normans?",
                                "answers": [{"text": "Normandy", "answer_start": 19}],
                            },
                            {"id": "q2", "question": "When?", "answers": [{"text": "911", "answer_start": 31}]},
                            {"id": "q3", "question": "Who was king?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ]
    }
    source = tmp_path / "squad.json"
    source.write_text(json.dumps(data))
    suite = load_suite(import_squad(source, tmp_path / "out", limit=None))
    assert [c.kind for c in suite.cases] == ["span", "number", "unanswerable"]
    assert suite.corpus_path().joinpath("squad.jsonl").read_text().count("\n") == 1
    assert suite.thresholds["min_f1"] >= 0.5 and suite.thresholds["min_abstention_recall"] >= 0.45  # real gates


def test_drop_importer_types_numbers_dates_and_spans(tmp_path: Path) -> None:
    data = {
        "p1": {
            "passage": "Brown kicked 3 field goals.",
            "qa_pairs": [
                {"query_id": "a", "question": "How many?", "answer": {"number": "3", "date": {}, "spans": []}},
                {
                    "query_id": "b",
                    "question": "When?",
                    "answer": {"number": "", "date": {"day": "5", "month": "May", "year": "2001"}, "spans": []},
                },
                {"query_id": "c", "question": "Who?", "answer": {"number": "", "date": {}, "spans": ["Brown"]}},
            ],
        }
    }
    source = tmp_path / "drop.json"
    source.write_text(json.dumps(data))
    suite = load_suite(import_drop(source, tmp_path / "out", limit=2))
    assert [(c.kind, c.answers) for c in suite.cases] == [("number", [3.0]), ("date", ["5 May 2001"])]
    assert suite.thresholds["min_numeric_accuracy"] > 0 and suite.thresholds["min_precision_verified"] >= 0.85
    metrics = {"accuracy": 0.6, "numeric_accuracy": 0.2, "precision_verified": 0.9}
    assert check_thresholds(metrics, suite.thresholds) == ["numeric_accuracy = 0.200 < 0.38 (min_numeric_accuracy)"], (
        "a drop in numeric accuracy fails the imported suite"
    )


@pytest.mark.skipif(not (SHARED / "squad2-dev-sample.json").exists(), reason="shared sample data absent")
def test_importers_read_the_public_samples_through_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    for command, name in (("import-squad", "squad2-dev-sample.json"), ("import-drop", "drop-dev-sample.json")):
        out = tmp_path / command
        result = runner.invoke(cli(), ["eval", command, str(SHARED / name), "--limit", "50", "--out-dir", str(out)])
        assert result.exit_code == 0, result.output
        suite = load_suite(out / "suite.yaml")
        assert 1 <= len(suite.cases) <= 50


@pytest.mark.integration
def test_mini_suite_against_the_real_engine(tmp_path: Path) -> None:
    path = tmp_path / "real.yaml"
    path.write_text(f"""name: real
corpus: {REPO / "corpus"}
settings: {{llm: {{backend: extractive}}}}
thresholds: {{min_accuracy: 0.6}}
cases:
  - {{id: syria, question: "How many U.S. troops are in eastern Syria?", answers: [900], kind: number}}
  - {{id: town, question: "From which town were the rockets launched?", answers: [Zummar]}}
  - {{id: none, question: "How many U.S. soldiers were killed in Jordan?", kind: unanswerable}}
""")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["eval", str(path), "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert {c["id"]: c["correct"] for c in data["cases"]} == {"syria": True, "town": True, "none": True}


def test_offset_split_shares_no_article_with_the_first_questions(tmp_path: Path) -> None:
    data = {
        f"p{i}": {
            "passage": f"Passage {i}: Brown kicked {i} field goals.",
            "qa_pairs": [
                {"query_id": f"{i}-{j}", "question": "How many?", "answer": {"number": str(i), "date": {}, "spans": []}}
                for j in range(3)
            ],
        }
        for i in range(1, 6)
    }
    source = tmp_path / "drop.json"
    source.write_text(json.dumps(data))
    first = load_suite(import_drop(source, tmp_path / "test", limit=4))
    rest = load_suite(import_drop(source, tmp_path / "cal", offset=4))
    assert [c.id for c in first.cases] == ["1-0", "1-1", "1-2", "2-0"]
    assert [c.id for c in rest.cases][:1] == ["3-0"], "the article that held question 4 is skipped whole"
    first_text = first.corpus_path().joinpath("drop.jsonl").read_text()
    assert not any(json.loads(line)["id"] in first_text for line in rest.corpus_path().joinpath("drop.jsonl").open())


def record(status: str, correct: bool, confidence: float | None, kind: str = "span") -> Any:
    from assistant.evaluation.harness import CaseRecord

    return CaseRecord(
        id="x", question="q", kind=kind, tags=[], expected=[], got="a", status=status, correct=correct, em=0, f1=0,
        citations=[], citation_precision=None, citation_recall=None, hit_rank=None, timings={},
        confidence=confidence,
    )  # fmt: skip


def test_trust_metrics_measure_each_status_against_the_truth() -> None:
    from assistant.evaluation.harness import trust_metrics

    records = [
        record("verified", True, 0.95),
        record("verified", True, 0.92),
        record("verified", False, 0.91),
        record("unconfirmed", True, 0.6),
        record("unconfirmed", False, 0.4),
        record("abstained", False, None),
        record("abstained", True, None, kind="unanswerable"),
    ]
    metrics = trust_metrics(records)
    assert metrics["precision_verified"] == pytest.approx(2 / 3)
    assert metrics["coverage_verified"] == pytest.approx(3 / 6)
    assert metrics["precision_unconfirmed"] == pytest.approx(0.5)
    assert metrics["verified_answers"] == 3
    assert 0 < metrics["auroc"] < 1 and 0 < metrics["aurc"] < 1 and metrics["ece"] > 0


def test_calibrate_fits_from_results_files_and_writes_a_calibrator(tmp_path: Path) -> None:
    import random

    from assistant.checks.calibration import load_calibrator

    rng = random.Random(0)
    cases = []
    for i in range(120):
        doubt = rng.random()  # P(the model's first word is "NOT")
        right = rng.random() > doubt
        cases.append(
            {"id": str(i), "kind": "span", "status": "unconfirmed", "correct": right, "error": "",
             "signals": {"abstain_first": doubt, "form_answer": 1.0}}
        )  # fmt: skip
    cases.append({"id": "gate", "kind": "span", "status": "abstained", "correct": False, "signals": {}})
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"suite": "s", "backend": "llama_cpp:m", "cases": cases}))
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(cli(), ["eval", "calibrate", str(results), "--write", str(out)])
    assert result.exit_code == 0, result.output
    assert "verified at confidence >=" in result.output and "abstain_log" in result.output
    calibrator = load_calibrator("m", out)
    assert calibrator is not None and calibrator.info["model"] == "m"
    assert calibrator.probability({"abstain_log": -9.0, "form_answer": 1.0}) > calibrator.probability(
        {"abstain_log": -0.1, "form_answer": 1.0}
    ), "abstain_log is derived from the abstain_first of older results"


def test_calibrate_without_enough_answers_gives_one_clear_error(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"suite": "s", "backend": "x:m", "cases": []}))
    result = CliRunner().invoke(cli(), ["eval", "calibrate", str(results), "--write", str(tmp_path / "c.json")])
    assert result.exit_code == 2 and "at least 20 answers" in result.output


def test_calibrate_keep_weights_picks_the_threshold_of_computed_answers_on_a_newer_run(tmp_path: Path) -> None:
    """A newer run of the same questions replaces the older answers; the weights stay, only the threshold of the
    computed form is picked, on computed answers alone."""
    import random

    from assistant.checks.calibration import Calibrator, load_calibrator

    kept = Calibrator(("calc_check_yes",), (0.5,), (1.0,), (10.0,), 0.0, verified_at=1.0, abstain_below=0.2)
    kept_path = tmp_path / "kept.json"
    kept_path.write_text(kept.to_json())
    rng = random.Random(1)

    def run(right_when: float) -> Path:
        cases = []
        for i in range(80):
            yes = rng.random()
            cases.append(
                {"id": str(i), "kind": "number", "status": "unconfirmed", "correct": yes > right_when, "error": "",
                 "signals": {"calculated": 1.0 if i % 2 else 0.0, "calc_check_yes": yes}}
            )  # fmt: skip
        path = tmp_path / f"run-{right_when}.json"
        path.write_text(json.dumps({"suite": "s", "backend": "llama_cpp:m", "cases": cases}))
        return path

    older, newer = run(2.0), run(0.3)  # every older answer wrong: were they counted, nothing would reach 0.9
    out = tmp_path / "cal.json"
    args = ["eval", "calibrate", str(older), str(newer), "--keep-weights", str(kept_path), "--write", str(out)]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    assert "calculated answers: verified at confidence >=" in result.output
    calibrator = load_calibrator("m", out)
    assert calibrator is not None and calibrator.weights == kept.weights and calibrator.verified_at == 1.0
    assert 0.0 < calibrator.verified_at_by_form["calculated"] < 1.0
    assert calibrator.info["forms"]["calculated"]["answers"] == 40
    assert calibrator.info["forms"]["calculated"]["precision_at_verified"] >= 0.9
    missing = CliRunner().invoke(cli(), [*args[:4], "--keep-weights", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read the calibrator" in missing.output


def test_an_importer_keeps_only_the_articles_of_the_split_asked_for(tmp_path: Path) -> None:
    def qa(query_id: str) -> dict[str, Any]:
        return {"query_id": query_id, "question": "How many?", "answer": {"number": "2", "date": {}, "spans": []}}

    drop = {"nfl_802": {"passage": "The Otters scored 2 goals.", "qa_pairs": [qa("t")]}}
    drop["history_1"] = {"passage": "The mill had 2 wheels.", "qa_pairs": [qa("d")]}
    (tmp_path / "drop.json").write_text(json.dumps(drop))
    test = load_suite(import_drop(tmp_path / "drop.json", tmp_path / "test", split="test"))
    development = load_suite(import_drop(tmp_path / "drop.json", tmp_path / "dev", split="development"))
    assert [c.id for c in test.cases] == ["t"] and [c.id for c in development.cases] == ["d"]
    squad = {"data": []}
    for title, qid in (("Normans", "d"), ("Imperialism", "t")):
        paragraph = {"context": "The mill had two wheels.", "qas": [{"id": qid, "question": "What?", "answers": []}]}
        squad["data"].append({"title": title, "paragraphs": [paragraph]})
    (tmp_path / "squad.json").write_text(json.dumps(squad))
    assert [c.id for c in load_suite(import_squad(tmp_path / "squad.json", tmp_path / "sq", split="test")).cases] == [
        "t"
    ]
    with pytest.raises(SuiteError, match="unknown split"):
        import_squad(tmp_path / "squad.json", tmp_path / "bad", split="holdout")
