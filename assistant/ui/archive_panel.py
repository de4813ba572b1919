"""The archive on the Corpus tab: search the stored articles, open one, remove one after a confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.ui import render
from assistant.ui.archive_view import LIST_LIMIT, article_label, article_list_html, opened_article_html
from assistant.ui.messages import user_message

if TYPE_CHECKING:
    from assistant.engine import Assistant


@dataclass(frozen=True)
class ArchivePanel:
    """What the rest of the tab needs to refresh the list: the search box and the list's outputs."""

    search: Any
    outputs: list[Any]
    refresh: Any


def add_archive_panel(assistant: Assistant) -> ArchivePanel:
    """Lay out the archive inside the current tab and wire its events."""
    import gradio as gr

    def refresh(query: str | None) -> tuple[Any, Any]:
        """The list for ``query`` and the picker's choices (the first match chosen)."""
        try:
            entries = assistant.articles(query or None)
        except Exception as err:
            return render.message_html(user_message(err, "listing the articles"), error=True), gr.Dropdown(choices=[])
        choices = [(article_label(e), e.doc_id) for e in entries[:LIST_LIMIT]]
        return article_list_html(entries, query or ""), gr.Dropdown(
            choices=choices, value=choices[0][1] if choices else None
        )

    def open_article(doc_id: str | None) -> str:
        if not doc_id:
            return render.message_html("Choose an article first.")
        try:
            article = assistant.get_article(doc_id)
        except Exception as err:
            return render.message_html(user_message(err, "opening an article"), error=True)
        if article is None:
            return render.message_html(f"No stored article has the id {doc_id}.", error=True)
        return opened_article_html(article)

    def ask_to_remove(doc_id: str | None) -> tuple[Any, str]:
        if not doc_id:
            return gr.Row(visible=False), render.message_html("Choose an article first.")
        title = next((label for label, value in _choices(doc_id) if value == doc_id), doc_id)
        return gr.Row(visible=True), render.message_html(f"Remove “{title}” from the store? This cannot be undone.")

    def _choices(doc_id: str) -> list[tuple[str, str]]:
        try:
            return [(article_label(e), e.doc_id) for e in assistant.articles() if e.doc_id == doc_id]
        except Exception:
            return []

    def remove(doc_id: str | None, query: str | None) -> tuple[Any, ...]:
        hidden = gr.Row(visible=False)
        if not doc_id:
            return (hidden, render.message_html("Choose an article first."), "", *refresh(query))
        try:
            removed = assistant.remove(doc_id)
        except Exception as err:
            return (hidden, render.message_html(user_message(err, "removing"), error=True), "", *refresh(query))
        said = f"Removed “{removed.title or removed.doc_id}” ({removed.chunks} chunks)."
        return (hidden, render.message_html(said), "", *refresh(query))

    def cancel() -> tuple[Any, str]:
        return gr.Row(visible=False), render.message_html("Nothing was removed.")

    gr.Markdown("### Articles")
    search = gr.Textbox(
        label="Search the archive (title, outlet, author or URL)", elem_id="article-search", placeholder="e.g. ferry"
    )
    listing = gr.HTML(render.message_html("Open this tab to list the stored articles."), elem_id="article-list")
    with gr.Row():
        chosen = gr.Dropdown(label="Article", choices=[], elem_id="article-choice", scale=4, interactive=True)
        open_button = gr.Button("Open", elem_id="open-article", scale=1)
        remove_button = gr.Button("Remove…", variant="stop", elem_id="remove-article", scale=1)
    with gr.Row(visible=False, elem_id="confirm-row") as confirm_row:
        confirm_yes = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove")
        confirm_no = gr.Button("Cancel", elem_id="cancel-remove")
    archive_message = gr.HTML(elem_id="archive-message")
    opened = gr.HTML(elem_id="opened-article")

    outputs = [listing, chosen]
    search.submit(refresh, [search], outputs, api_visibility="private")
    search.change(refresh, [search], outputs, api_visibility="private", trigger_mode="always_last")
    open_button.click(open_article, [chosen], [opened], api_visibility="private")
    remove_button.click(ask_to_remove, [chosen], [confirm_row, archive_message], api_visibility="private")
    confirm_no.click(cancel, None, [confirm_row, archive_message], api_visibility="private")
    confirm_yes.click(
        remove, [chosen, search], [confirm_row, archive_message, opened, *outputs], api_visibility="private"
    )
    return ArchivePanel(search=search, outputs=outputs, refresh=refresh)
