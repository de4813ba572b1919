"""`assistant` command line: a thin layer over the Assistant API."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from assistant.errors import AssistantError, as_user_error, one_line
from assistant.times import parse_as_of

app = typer.Typer(
    name="assistant",
    help="Ask questions about news articles and get answers with checkable citations (offline).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
F = TypeVar("F", bound=Callable[..., Any])
BACKENDS = ("llama_cpp", "openai", "extractive")


def _one_line_errors(func: F) -> F:
    """Show user errors as one line on stderr with exit code 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as err:  # the engine raises AssistantError; anything else is still one line here
            typer.echo(f"error: {as_user_error(err)}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _assistant(backend: str | None = None, data_dir: Path | None = None) -> Any:
    from assistant.engine import Assistant, _default_settings
    from assistant.errors import SettingsError

    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = _default_settings(**overrides)
    if backend:
        if backend not in BACKENDS:
            raise SettingsError(f"Unknown backend {backend!r}: use {', '.join(BACKENDS)}.")
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": backend})})
    return Assistant(settings)


def _warn_if_no_model(assistant: Any) -> None:
    """Say once, at start, when the chat model cannot be loaded and answers will quote the articles instead."""
    problem = assistant.check_llm()
    if problem:
        typer.echo(f"warning: {problem} Answering by quoting the articles (status: fallback).", err=True)


def _load_model_meanwhile(assistant: Any) -> threading.Thread:
    """Load the chat model in a thread while the store opens and retrieves: llama.cpp loads without holding the
    GIL, so the two overlap. The answer waits for the load (``check_llm`` does); errors surface there too."""

    def load() -> None:
        with contextlib.suppress(AssistantError):  # raised again, as one line, where the answer needs the model
            _warn_if_no_model(assistant)

    thread = threading.Thread(target=load, name="load-model", daemon=True)
    thread.start()
    return thread


DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Store location (default: settings).")]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The day the question is asked on, YYYY-MM-DD (default today): later articles are never evidence, "
        "and 'this week' or 'yesterday' are read against it.",
    ),
]
Backend = Annotated[str | None, typer.Option("--backend", help="llama_cpp | openai | extractive (default: settings).")]


@app.command()
@_one_line_errors
def ingest(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files, folders or http(s) URLs of pages (default: corpus/).")
    ] = None,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="RSS or Atom feed URL whose items to ingest (repeatable).")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the store and ingest from scratch.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove articles whose files are gone.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Add new and changed articles to the store (unchanged ones cost nothing)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    assistant = _assistant(data_dir=data_dir)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TextColumn("[dim]{task.fields[rate]}[/]"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )
    began = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=None, rate="")

        def report(done: int, total: int, path: str) -> None:
            rate = done / max(time.perf_counter() - began, 1e-9)
            progress.update(
                task,
                total=total,
                completed=done,
                description=f"ingesting {escape(Path(path).name)}",
                rate=f"{rate:.1f} files/s" if done else "",
            )

        result = assistant.ingest(paths or None, feeds=feed or (), rebuild=rebuild, prune=prune, progress=report)
    for path, reason in result.errors:  # file names and reasons are data, never rich markup
        reason = one_line(reason.removeprefix(f"{path}: "))
        console.print(f"[yellow]{escape(path)}[/]: {escape(reason)}", highlight=False, soft_wrap=True)
    for message in result.messages:
        console.print(escape(one_line(message, 1000)), highlight=False, soft_wrap=True)
    if result.wrote_nothing and not result.errors:
        typer.echo("Store is up to date: nothing to write.")
    typer.echo(
        f"documents: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.skipped} skipped, {result.removed} removed; chunks written: {result.chunks_written}; "
        f"{result.seconds:.1f} s"
    )
    if result.errors and not (result.added or result.updated or result.unchanged or result.skipped):
        from assistant.errors import DocumentError

        raise DocumentError(f"No readable article: none of the {len(result.errors)} file(s) could be read (see above).")


@app.command()
@_one_line_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the answer as Markdown with numbered references.")
    ] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50, help="Passages to retrieve.")] = None,
    as_of: AsOfOption = None,
    backend: Backend = None,
    data_dir: DataDir = None,
) -> None:
    """Answer one question, then list each source with its quote."""
    day = parse_as_of(as_of)
    assistant = _assistant(backend, data_dir)
    loading = _load_model_meanwhile(assistant)
    try:
        if as_json:
            answered = assistant.ask(question, top_k=top_k, as_of=day)
        else:
            answer = None
            for event in assistant.stream(question, top_k=top_k, as_of=day):
                if event.answer is not None:
                    answer = event.answer
    finally:
        # Nothing is printed before the load ends, an error included: while llama.cpp loads it points stdout and
        # stderr at /dev/null, and a process that ended meanwhile would have lost its message.
        loading.join()
    if as_json:
        typer.echo(answered.to_json(indent=2))
        return
    assert answer is not None
    if markdown:
        from assistant.answer.export import answer_markdown

        typer.echo(answer_markdown(answer), nl=False)
        return
    typer.echo(str(answer))
    confidence = "" if answer.confidence is None else f", {answer.confidence:.0%} likely right"
    typer.echo(f"\n[{answer.status}{confidence}] {answer.status_meaning}", err=True)
    typer.echo(f"{answer.timings.get('total', 0):.1f} s, {answer.backend}", err=True)


@app.command()
@_one_line_errors
def chat(as_of: AsOfOption = None, backend: Backend = None, data_dir: DataDir = None) -> None:
    """Interactive chat with history (empty line or Ctrl-D quits)."""
    day = parse_as_of(as_of)
    assistant = _assistant(backend, data_dir)
    _warn_if_no_model(assistant)
    conversation = assistant.conversation()
    typer.echo("Ask about the articles; an empty line quits.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            typer.echo(str(conversation.ask(question, as_of=day)))
        except AssistantError as err:
            typer.echo(f"error: {one_line(str(err))}", err=True)


@app.command("list")
@_one_line_errors
def list_articles(
    query: Annotated[str | None, typer.Argument(help="Words the title, outlet, author or URL must hold.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this outlet.")] = None,
    published_from: Annotated[str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")] = None,
    published_to: Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """List the stored articles, newest first: id, date, outlet, title, author, chunks, URL."""
    import json

    entries = _assistant(data_dir=data_dir).articles(query, source, published_from, published_to)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    for e in entries:
        byline = f" — {e.author}" if e.author else ""
        where = e.url or e.source_path
        typer.echo(
            f"{e.doc_id}  {e.published or '----------'}  {one_line(e.source or '-', 40)}  "
            f"{one_line(e.title, 100)}{one_line(byline, 60)}  ({e.chunks} chunks)  {where}"
        )
    typer.echo(f"{len(entries)} article(s)", err=True)


@app.command()
@_one_line_errors
def remove(
    doc_id: Annotated[str, typer.Argument(help="Id of the article to remove (see `assistant list`).")],
    data_dir: DataDir = None,
) -> None:
    """Remove one article from the store."""
    removed = _assistant(data_dir=data_dir).remove(doc_id)
    typer.echo(f"removed {removed.doc_id}: {one_line(removed.title, 200)} ({removed.chunks} chunks)")


@app.command()
@_one_line_errors
def stats(data_dir: DataDir = None) -> None:
    """Show what is stored."""
    for key, value in _assistant(data_dir=data_dir).stats().items():
        typer.echo(f"{key}: {value}")


@app.command()
@_one_line_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the chat UI in the browser."""
    from assistant.ui.app import serve as serve_ui

    assistant = _assistant(data_dir=data_dir)
    ui = assistant.settings.ui
    _check_can_serve(host or ui.host, port or ui.port, ui.auth_user, ui.auth_password)
    serve_ui(assistant, assistant.settings, host=host, port=port)


def _check_can_serve(host: str, port: int, user: str | None, password: str | None) -> None:
    """Refuse, in one line, what would stop the UI after the models loaded: a port in use, half-set basic auth."""
    import errno
    import socket

    from assistant.errors import SettingsError

    if password and not user:
        raise SettingsError("ui.auth_password is set but ui.auth_user is not: set ASSISTANT_UI__AUTH_USER too.")
    if user and not password:
        raise SettingsError("ui.auth_user is set but ui.auth_password is not: set ASSISTANT_UI__AUTH_PASSWORD.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise SettingsError(f"Cannot serve on host {host!r} ({err}): set --host or ASSISTANT_UI__HOST.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if hasattr(socket, "SO_REUSEADDR"):
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise SettingsError(
                    f"Port {port} on {host} is in use (another server?): stop it, or pass --port "
                    "(ASSISTANT_UI__PORT) with a free one."
                ) from None
            raise SettingsError(f"Cannot serve on {host}:{port} ({err.strerror or err}).") from None


def _mount_eval() -> None:
    try:
        from assistant.evaluation.eval_cli import eval_app
    except ImportError:  # pragma: no cover - the harness is part of the package
        return
    app.add_typer(eval_app, name="eval")


_mount_eval()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except Exception as err:  # a command without its own guard (eval's): still one line, never a traceback
        sys.stderr.write(f"error: {as_user_error(err)}\n")
        raise SystemExit(1) from None
    except SystemExit as done:
        if len(sys.argv) > 1 and sys.argv[1] in _EXIT_AT_ONCE:
            _exit_now(done.code)
        raise


_EXIT_AT_ONCE = {"ask"}
"""Commands that write nothing to the store: once their output is flushed, the process ends without tearing down
the model and the store (a quarter of a second of a one-shot ``assistant ask``)."""


def _exit_now(code: object) -> None:
    import logging

    status = code if isinstance(code, int) else 0 if code is None else 1
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    main()
