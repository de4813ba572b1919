"""The Corpus tab: what the store holds, and adding articles to it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.ui import render
from assistant.ui.assets import UPLOAD_TYPES
from assistant.ui.messages import user_message

if TYPE_CHECKING:
    import gradio as gr

    from assistant.engine import Assistant


def add_corpus_tab(assistant: Assistant) -> None:
    """Lay out the Corpus tab inside the current Blocks and wire its events."""
    import gradio as gr

    settings = assistant.settings

    def show_stats() -> str:
        try:
            return render.stats_html(assistant.stats())
        except Exception as err:
            return render.message_html(user_message(err, "reading the statistics"), error=True)

    def ingest_files(files: list[Any] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        """Copy uploads into the data dir and ingest them; one error line per file that failed."""
        try:
            paths = stage_uploads(files or [], settings.data_dir / "uploads")
        except Exception as err:  # disk full, permissions: say so, keep the app running
            return render.message_html(user_message(err, "saving the uploads"), error=True), show_stats()
        if not paths:
            return render.message_html("Choose one or more .md, .txt, .html, .pdf or .jsonl files first."), show_stats()

        def report_progress(done: int, total: int, current: str) -> None:
            name = Path(current).name if current else "done"
            progress((done, max(total, 1)), desc=f"Ingesting {name}", unit="files")

        try:
            report = assistant.ingest(paths, progress=report_progress)
        except Exception as err:
            return render.message_html(user_message(err, "ingesting"), error=True), show_stats()
        return render.ingest_html(report), show_stats()

    with gr.Tab("Corpus") as corpus_tab:
        stats = gr.HTML(render.message_html("Open this tab to load the store's statistics."), elem_id="stats")
        refresh = gr.Button("Refresh statistics", size="sm")
        uploads = gr.File(
            label="Add articles (.md, .txt, .html, .pdf, .jsonl)",
            file_count="multiple",
            file_types=UPLOAD_TYPES,
            type="filepath",
        )
        ingest_button = gr.Button("Ingest files", variant="primary", elem_id="ingest")
        ingest_result = gr.HTML(elem_id="ingest-result")

    corpus_tab.select(show_stats, None, [stats], api_visibility="private")
    refresh.click(show_stats, None, [stats], api_name="stats")
    ingest_button.click(ingest_files, [uploads], [ingest_result, stats], api_visibility="private")


def stage_uploads(files: list[Any], folder: Path) -> list[Path]:
    """Copy uploaded temp files (keeping their names) to ``folder`` so re-ingests see stable paths."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = []
    for item in files:
        source = Path(item if isinstance(item, str | Path) else getattr(item, "name", str(item)))
        target = folder / source.name
        shutil.copyfile(source, target)
        staged.append(target)
    return staged
