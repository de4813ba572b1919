"""`assistant eval SUITE` runs a suite; `assistant eval import-squad|import-drop FILE` imports datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from assistant.errors import AssistantError
from assistant.evaluation.suite_assistant import make_suite_assistant as _assistant


class SuiteFirstGroup(typer.core.TyperGroup):
    """Routes `eval <suite-file> ...` to the hidden `run` command; named subcommands work as usual."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's click Context
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=SuiteFirstGroup,
    help="Run a suite: assistant eval SUITE.yaml [--output DIR] [--baseline prev.json] [--backend NAME] "
    "[--limit N] [--top-k N]; or import a dataset: import-squad / import-drop FILE --limit N.",
    no_args_is_help=True,
    add_completion=False,
)


@eval_app.command("run", hidden=True)
def run(
    suite_path: Annotated[Path, typer.Argument(help="Suite file (.yaml or .jsonl).")],
    output: Annotated[Path, typer.Option("--output", help="Where reports go.")] = Path("eval/out"),
    baseline: Annotated[Path | None, typer.Option("--baseline", help="A previous results.json to diff.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="llama_cpp | openai | extractive")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N cases.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Store for the suite's corpus.")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Allowed drop vs the baseline.")] = 0.02,
    quiet: Annotated[bool, typer.Option("--quiet", help="No per-case progress.")] = False,
) -> None:
    """Run a suite; exit 1 when a threshold or the baseline is missed."""
    from rich.console import Console

    from assistant.evaluation.harness import check_thresholds, compare_to_baseline, default_store_dir, run_suite
    from assistant.evaluation.reporting import print_table, write_all
    from assistant.evaluation.suite_file import load_suite

    console = Console(stderr=True)
    try:
        suite = load_suite(suite_path)
        previous = _read_baseline(baseline)
        assistant = _assistant(suite.settings, backend, data_dir or default_store_dir(output, suite))
        label = assistant.describe()["backend"] + (
            f":{assistant.describe()['model']}" if assistant.describe()["model"] else ""
        )

        def progress(done: int, total: int, case_id: str) -> None:
            if not quiet:
                console.print(f"[{done + 1}/{total}] {case_id}", highlight=False)

        result = run_suite(suite, assistant, backend=label, top_k=top_k, limit=limit, progress=progress)
    except AssistantError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    failures = check_thresholds(result.metrics, suite.thresholds)
    notes: list[str] = []
    extra: dict[str, Any] = {"thresholds": suite.thresholds, "threshold_failures": failures}
    if previous is not None:
        fixed, broke, drops = compare_to_baseline(result.to_dict(), previous, tolerance)
        failures += drops
        notes.append(f"Against the baseline: fixed {fixed or 'none'}; broke {broke or 'none'}.")
        extra |= {"baseline": {"fixed": fixed, "broke": broke, "drops": drops}}
    notes += [f"FAILED: {f}" for f in failures] or ["All thresholds met."]
    write_all(result, output, notes, extra)
    print_table(result, Console())
    for note in notes:
        typer.echo(note)
    typer.echo(f"reports: {output / 'report.md'}, {output / 'results.json'}, {output / 'junit.xml'}")
    if failures:
        raise typer.Exit(1)


def _read_baseline(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as err:
        raise AssistantError(f"cannot read the baseline {path}: {err}") from err


OFFSET_HELP = "Skip whole articles until this many questions are passed (a split sharing no article)."
SPLIT_HELP = "Only the articles of this split of the protocol: development, calibration, reserve or test."


@eval_app.command("import-squad")
def import_squad_command(
    file: Annotated[Path, typer.Argument(help="SQuAD v1.1 / v2.0 JSON file.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Most questions to import.")] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir")] = Path("eval/datasets/squad"),
    offset: Annotated[int, typer.Option("--offset", min=0, help=OFFSET_HELP)] = 0,
    split: Annotated[str | None, typer.Option("--split", help=SPLIT_HELP)] = None,
) -> None:
    """Write a corpus (.jsonl) and a suite from SQuAD JSON."""
    from assistant.evaluation.importing import import_squad

    _import(import_squad, file, out_dir, limit, offset, split)


@eval_app.command("import-drop")
def import_drop_command(
    file: Annotated[Path, typer.Argument(help="DROP JSON file.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Most questions to import.")] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir")] = Path("eval/datasets/drop"),
    offset: Annotated[int, typer.Option("--offset", min=0, help=OFFSET_HELP)] = 0,
    split: Annotated[str | None, typer.Option("--split", help=SPLIT_HELP)] = None,
) -> None:
    """Write a corpus (.jsonl) and a suite from DROP JSON."""
    from assistant.evaluation.importing import import_drop

    _import(import_drop, file, out_dir, limit, offset, split)


@eval_app.command("import-realtimeqa")
def import_realtimeqa_command(
    folder: Annotated[Path, typer.Argument(help="Folder of RealTime QA weeks (WEEK_qa.jsonl and WEEK_gcs.jsonl).")],
    weeks: Annotated[
        str | None, typer.Option("--weeks", help="Weeks to import, comma-separated (YYYYMMDD,...); default all.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir")] = Path("eval/datasets/realtimeqa"),
) -> None:
    """Write a dated news corpus (.md pages) and a suite whose cases carry their question date as as_of."""
    from assistant.evaluation.realtimeqa import import_realtimeqa

    chosen = [w.strip() for w in weeks.split(",") if w.strip()] if weeks else None
    try:
        suite = import_realtimeqa(folder, out_dir, chosen)
    except AssistantError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {suite} (run it with: assistant eval {suite})")


def _import(importer: Any, file: Path, out_dir: Path, limit: int | None, offset: int, split: str | None) -> None:
    try:
        suite = importer(file, out_dir, limit, offset, split)
    except AssistantError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {suite} (run it with: assistant eval {suite})")


@eval_app.command("calibrate")
def calibrate_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Suites to run uncalibrated (.yaml/.jsonl), or results.json files of such runs."),
    ],
    output: Annotated[Path, typer.Option("--output", help="Where runs and the report go.")] = Path("eval/calibration"),
    write: Annotated[
        Path | None, typer.Option("--write", help="Calibrator JSON to write; default: <output>/<model>.json.")
    ] = None,
    target_precision: Annotated[float, typer.Option("--target-precision", min=0.5, max=0.999)] = 0.9,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N cases of each suite.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="llama_cpp | openai | extractive")] = None,
    keep_weights: Annotated[
        Path | None,
        typer.Option(
            "--keep-weights",
            help="Keep this calibrator's weights; only pick the thresholds of each answer form (e.g. calculated) on"
            " the inputs, which must be answers it was not fitted on.",
        ),
    ] = None,
) -> None:
    """Fit the confidence calibrator: answer each suite with calibration off, then fit right/wrong on the signals."""
    from assistant.evaluation.calibrating import calibrate

    try:
        path, report = calibrate(
            inputs,
            output,
            write=write,
            target_precision=target_precision,
            limit=limit,
            backend=backend,
            keep_weights=keep_weights,
        )
    except AssistantError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report)
    typer.echo(f"wrote {path}; use it with ASSISTANT_TRUST__CALIBRATION_FILE={path}")
