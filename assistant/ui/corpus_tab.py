"""The Corpus tab: what the store holds, adding articles to it (files, page and feed URLs), and the archive."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.ui import render
from assistant.ui.archive_panel import add_archive_panel
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

    def ingest_urls(text: str | None, as_feeds: bool, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        """Fetch the pages (or the feeds' items) named in the box and ingest them; one error line per URL."""
        urls = [u for u in (text or "").split() if u]
        if not urls:
            return render.message_html("Paste one or more page or feed URLs first."), show_stats()

        def report_progress(done: int, total: int, current: str) -> None:
            progress((done, max(total, 1)), desc=f"Fetching {current}" if current else "Ingesting", unit="pages")

        try:
            if as_feeds:
                report = assistant.ingest(feeds=urls, progress=report_progress)
            else:
                report = assistant.ingest(urls, progress=report_progress)
        except Exception as err:
            return render.message_html(user_message(err, "ingesting URLs"), error=True), show_stats()
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
        with gr.Row():
            url_box = gr.Textbox(
                label="Or add pages by URL (http or https; one or more, separated by spaces or lines)",
                placeholder="https://example.org/news/story.html",
                elem_id="url-box",
                lines=1,
                scale=4,
            )
            as_feeds = gr.Checkbox(label="RSS/Atom feeds: ingest their items", elem_id="url-feed", scale=1)
            url_button = gr.Button("Fetch and ingest", variant="primary", elem_id="add-url", scale=1)
        ingest_result = gr.HTML(elem_id="ingest-result")
        archive = add_archive_panel(assistant)

    corpus_tab.select(show_stats, None, [stats], api_visibility="private").then(
        archive.refresh, [archive.search], archive.outputs, api_visibility="private"
    )
    refresh.click(show_stats, None, [stats], api_name="stats")
    ingest_button.click(ingest_files, [uploads], [ingest_result, stats], api_visibility="private").then(
        archive.refresh, [archive.search], archive.outputs, api_visibility="private"
    )
    url_button.click(ingest_urls, [url_box, as_feeds], [ingest_result, stats], api_visibility="private").then(
        archive.refresh, [archive.search], archive.outputs, api_visibility="private"
    )


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
