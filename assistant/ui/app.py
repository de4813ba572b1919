"""The Gradio chat UI: ``build_app(assistant)`` builds the page from its parts, ``serve()`` launches it; nothing
runs on import."""

from __future__ import annotations

import logging
import threading
from html import escape
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError
from assistant.settings import Settings, UISettings
from assistant.ui.assets import CSS
from assistant.ui.chat_tab import ChatSession, add_ask_api, add_chat_tab
from assistant.ui.inert import inert_markdown

if TYPE_CHECKING:
    import gradio as gr

    from assistant.engine import Assistant

__all__ = ["ChatSession", "build_app", "inert_markdown", "launch_app", "serve", "warm_up_in_background"]
log = logging.getLogger(__name__)


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat and corpus pages for ``assistant``, with the queue configured; does not launch."""
    import gradio as gr

    from assistant.ui.corpus_tab import add_corpus_tab

    settings: Settings = assistant.settings
    described = assistant.describe()
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news articles\nAnswers cite the sentence they come from: click a citation to check it.")
        if described.get("problem"):
            gr.Markdown(
                f"⚠️ {escape(inert_markdown(described['problem']), quote=False)} Answers quote the articles instead.",
                elem_id="model-problem",
            )
        add_chat_tab(assistant, described)
        add_corpus_tab(assistant)
        add_ask_api(assistant)

    demo.queue(default_concurrency_limit=settings.ui.concurrency, max_size=settings.ui.concurrency * 50)
    return demo


def launch_app(
    demo: gr.Blocks,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> tuple[Any, str, str | None]:
    """Start the server: loopback by default, no share link unless asked, files limited to Gradio's own cache."""
    ui: UISettings = settings.ui
    return demo.launch(
        server_name=host or ui.host,
        server_port=port or ui.port,
        share=ui.share,
        auth=_auth(ui),
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        allowed_paths=[],
        blocked_paths=[str(settings.data_dir.resolve())],
        max_file_size=settings.max_file_bytes,
        theme=_theme(),
        css=CSS,
        footer_links=["api", "settings"],
    )


def serve(
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Build the UI for ``assistant`` (built from ``settings`` when not given) and serve it until interrupted."""
    if assistant is None:
        from assistant.engine import Assistant

        assistant = Assistant(settings)
    warm_up_in_background(assistant)
    problem = assistant.check_llm()  # say at once when the model cannot be loaded
    if problem:
        log.warning("%s Answering by quoting the articles (status: fallback).", problem)
    launch_app(build_app(assistant), settings or assistant.settings, host=host, port=port)


def warm_up_in_background(assistant: Assistant) -> threading.Thread:
    """Load the embedder, the store and the model while the page starts, so the first question is not slower."""

    def warm() -> None:
        try:
            assistant.warm_up()
        except AssistantError as err:  # shown to the user on their first question instead
            log.warning("warm-up failed: %s", err)
        except Exception:
            log.exception("warm-up failed")

    thread = threading.Thread(target=warm, name="assistant-warm-up", daemon=True)
    thread.start()
    return thread


def _auth(ui: UISettings) -> tuple[str, str] | None:
    if not ui.auth_user:
        return None
    if not ui.auth_password:
        raise AssistantError("ui.auth_user is set but ui.auth_password is not: set ASSISTANT_UI__AUTH_PASSWORD.")
    return (ui.auth_user, ui.auth_password)


def _theme() -> Any:
    import gradio as gr

    # System fonts: the default theme fetches Google Fonts, which an offline machine cannot reach.
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
