"""The Gradio chat UI: ``build_app(assistant)`` builds the page, ``serve()`` launches it; nothing runs on import."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, QuestionError, as_user_error, one_line
from assistant.markers import MARKER
from assistant.settings import Settings, UISettings
from assistant.types import Answer, Citation
from assistant.ui import render

if TYPE_CHECKING:
    import gradio as gr

    from assistant.engine import Assistant

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "How many U.S. troops are in eastern Syria?",
    "How many rockets were launched from Zummar?",
    "Near which air base were the drones shot down?",
]
UPLOAD_TYPES = [".md", ".txt", ".html", ".pdf", ".jsonl"]
SEARCHING = "_Searching the articles…_"
CLICK_HINT = "Click a citation to see the cited sentence highlighted in its article."

# Chips and [n] links both call trigger('click', {number}); the document listener catches links in the chat.
CITATIONS_JS = """
const pick = (node) => {
  const n = Number(node.dataset.cite || (node.getAttribute('href') || '').replace(/\\D/g, ''));
  if (!n) return;
  document.querySelectorAll('#citations .chip').forEach(c => c.classList.toggle('active', c.dataset.cite == n));
  trigger('click', {number: n});
};
element.addEventListener('click', (e) => {
  const chip = e.target.closest('.chip[data-cite]');
  if (chip) pick(chip);
});
window.__assistantPickCitation = pick;
if (!window.__assistantCiteLinks) {
  window.__assistantCiteLinks = true;
  document.addEventListener('click', (e) => {
    const link = e.target.closest && e.target.closest('#chat a.cite-link, #chat a[href^="#cite-"]');
    if (!link) return;
    e.preventDefault();
    e.stopPropagation();
    window.__assistantPickCitation(link);
  }, true);
}
"""
SOURCES_JS = """
watch('value', () => {
  const mark = element.querySelector('mark.cited');
  const box = element.querySelector('.article-text');
  if (mark && box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - box.clientHeight / 3);
});
"""
CSS = """
#citations .answer-meta { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.status-badge { padding: .15rem .6rem; border-radius: 999px; font-weight: 600; font-size: .85rem; }
.status-verified { background: #dcfce7; color: #166534; }
.status-unconfirmed { background: #fef3c7; color: #92400e; }
.status-fallback { background: #e0e7ff; color: #3730a3; }
.status-abstained { background: #f3f4f6; color: #374151; }
.chip { border: 1px solid #94a3b8; border-radius: 999px; padding: .15rem .6rem; margin: .1rem; cursor: pointer;
        background: #f8fafc; font-size: .85rem; }
.chip:hover, .chip.active { background: #fde68a; border-color: #d97706; }
.timing, .hint { color: #6b7280; font-size: .85rem; }
.ui-error { color: #b91c1c; font-weight: 600; }
a.cite-link { text-decoration: none; font-weight: 600; cursor: pointer; }
.article-head { margin-bottom: .4rem; }
.article-source, .article-date { color: #4b5563; }
.article-text { position: relative; white-space: pre-wrap; max-height: 26rem; overflow-y: auto; line-height: 1.5;
                border: 1px solid #e5e7eb; border-radius: .4rem; padding: .6rem; font-size: .9rem; }
mark.cited { background: #fde047; padding: 0 .1rem; border-radius: .15rem; }
.passages ol { padding-left: 1.2rem; }
.passage { margin-bottom: .4rem; font-size: .85rem; }
.passage .rank { font-family: monospace; color: #2563eb; margin-right: .3rem; }
.confidence { color: #4b5563; font-size: .85rem; }
.ingest-errors { color: #b91c1c; }
table.stats th { text-align: left; padding-right: 1rem; }
"""


@dataclass
class ChatSession:
    """What one browser session keeps: its conversation and every citation shown so far (by number)."""

    conversation: Any
    citations: dict[int, tuple[Citation, Answer]] = field(default_factory=dict)
    last: Answer | None = None

    def remember(self, answer: Answer) -> None:
        self.last = answer
        for citation in answer.citations:
            self.citations[citation.number] = (citation, answer)


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat and corpus pages for ``assistant``, with the queue configured; does not launch."""
    import gradio as gr

    settings: Settings = assistant.settings
    described = assistant.describe()

    def respond(
        question: str | None,
        history: list[dict[str, Any]] | None,
        session: ChatSession | None,
        top_k: float | None,
        published_from: str | None,
        published_to: str | None,
        as_of: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one chat turn: deltas into the last message, then the checked answer and its citations."""
        question = question or ""
        history = list(history or [])
        if session is None:
            session = ChatSession(assistant.conversation())
        shown = " ".join(question.split())
        if shown:
            history.append(
                {"role": "user", "content": escape(inert_markdown(render.shorten(shown, 2000)), quote=False)}
            )
        history.append({"role": "assistant", "content": SEARCHING})
        panel = render.sources_panel(None, None, note=CLICK_HINT)
        yield "", history, session, render.citation_bar(None), panel

        def failed(message: str, keep_question: bool) -> tuple[Any, ...]:
            message = one_line(message)
            history[-1] = {"role": "assistant", "content": render.error_markdown(inert_markdown(message))}
            box = question if keep_question else ""
            return box, history, session, render.citation_bar(None, error=message), panel

        try:
            filters = render.date_filters(published_from, published_to)
        except ValueError as err:
            yield failed(str(err), keep_question=True)
            return
        text = ""
        answer: Answer | None = None
        try:
            events = session.conversation.stream(
                question, top_k=_int_or_none(top_k), filters=filters or None, as_of=(as_of or "").strip() or None
            )
            for event in events:
                if event.answer is not None:
                    answer = event.answer
                    break
                if event.delta:
                    text += event.delta
                    history[-1] = {"role": "assistant", "content": escape(inert_markdown(text), quote=False) + " ▌"}
                    yield "", history, session, render.citation_bar(None), panel
        except QuestionError as err:
            yield failed(str(err), keep_question=True)
            return
        except AssistantError as err:
            yield failed(str(err), keep_question=False)
            return
        except Exception as err:  # a bug or an unexpected library error: one line for the user, trace in the log
            log.exception("chat turn failed")
            yield failed(str(as_user_error(err)), keep_question=False)
            return
        if answer is None:
            yield failed("The engine produced no answer.", keep_question=False)
            return
        session.remember(answer)
        shown_answer = dataclasses.replace(answer, text=inert_markdown(answer.text))
        history[-1] = {"role": "assistant", "content": render.chat_markdown(shown_answer)}
        note = CLICK_HINT if answer.citations else "No checked answer was found; the closest passages follow."
        panel = render.sources_panel(None, None, answer.passages, note=note)
        yield "", history, session, render.citation_bar(answer), panel

    def show_citation(session: ChatSession | None, evt: gr.EventData) -> str:
        """The sources panel for the citation the reader clicked."""
        try:
            number = int((evt._data or {}).get("number", 0))
        except (TypeError, ValueError, AttributeError):
            number = 0
        if session is None or number not in session.citations:
            return render.sources_panel(None, None, note=f"Citation [{number}] is not part of this conversation.")
        citation, answer = session.citations[number]
        try:
            article = assistant.get_article(citation.doc_id)
        except Exception as err:
            message = _user_message(err, "showing a citation")
            return render.message_html(message, error=True) + render.sources_panel(citation, None, answer.passages)
        return render.sources_panel(citation, article, answer.passages)

    # Gradio finds EventData by type hint; the postponed annotation cannot see the lazily imported module.
    show_citation.__annotations__["evt"] = gr.EventData

    def clear_chat() -> tuple[Any, ...]:
        return [], None, render.citation_bar(None), render.sources_panel(None, None, note=CLICK_HINT), ""

    def ask(question: str, top_k: int | None = None, published_from: str = "", published_to: str = "") -> dict:
        """Answer one question (no history) and return the answer as a JSON-able dict."""
        try:
            filters = render.date_filters(published_from, published_to)
            return assistant.ask(question, top_k=_int_or_none(top_k), filters=filters or None).to_dict()
        except ValueError as err:  # a malformed date filter
            raise gr.Error(one_line(str(err))) from None
        except Exception as err:
            raise gr.Error(_user_message(err, "answering")) from None

    def show_stats() -> str:
        try:
            return render.stats_html(assistant.stats())
        except Exception as err:
            return render.message_html(_user_message(err, "reading the statistics"), error=True)

    def ingest_files(files: list[Any] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        """Copy uploads into the data dir and ingest them; one error line per file that failed."""
        try:
            paths = _stage_uploads(files or [], settings.data_dir / "uploads")
        except Exception as err:  # disk full, permissions: say so, keep the app running
            return render.message_html(_user_message(err, "saving the uploads"), error=True), show_stats()
        if not paths:
            return render.message_html("Choose one or more .md, .txt, .html, .pdf or .jsonl files first."), show_stats()

        def report_progress(done: int, total: int, current: str) -> None:
            name = Path(current).name if current else "done"
            progress((done, max(total, 1)), desc=f"Ingesting {name}", unit="files")

        try:
            report = assistant.ingest(paths, progress=report_progress)
        except Exception as err:
            return render.message_html(_user_message(err, "ingesting"), error=True), show_stats()
        return render.ingest_html(report), show_stats()

    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news articles\nAnswers cite the sentence they come from: click a citation to check it.")
        if described.get("problem"):
            gr.Markdown(
                f"⚠️ {escape(inert_markdown(described['problem']), quote=False)} Answers quote the articles instead.",
                elem_id="model-problem",
            )
        with gr.Tab("Chat"):
            session = gr.State(None)
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        elem_id="chat",
                        height=420,
                        feedback_options=None,
                        buttons=["copy", "copy_all"],
                        latex_delimiters=[],  # article text is never typeset: no KaTeX \href from a quote
                    )
                    citations = gr.HTML(render.citation_bar(None), elem_id="citations", js_on_load=CITATIONS_JS)
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask about the articles, e.g. How many rockets were launched from Zummar?",
                            show_label=False,
                            elem_id="question",
                            scale=5,
                            lines=1,
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                    gr.Examples(EXAMPLE_QUESTIONS, inputs=[question], label="Try")
                    clear = gr.Button("New conversation", size="sm")
                    as_of = gr.Textbox(
                        value=lambda: date.today().isoformat(),
                        label="As of (YYYY-MM-DD): no later article is evidence; 'this week' is read against it",
                        elem_id="as-of",
                        max_lines=1,
                    )
                    with gr.Accordion("Settings", open=False):
                        top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages retrieved")
                        with gr.Row():
                            published_from = gr.Textbox(label="Published from (YYYY-MM-DD)", placeholder="2024-01-01")
                            published_to = gr.Textbox(label="Published to (YYYY-MM-DD)", placeholder="2024-12-31")
                        gr.Markdown(_describe_markdown(described))
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(
                        render.sources_panel(None, None, note=CLICK_HINT), elem_id="sources", js_on_load=SOURCES_JS
                    )
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

        chat_inputs = [question, chatbot, session, top_k, published_from, published_to, as_of]
        chat_outputs = [question, chatbot, session, citations, sources]
        question.submit(respond, chat_inputs, chat_outputs, api_name="chat")
        send.click(respond, chat_inputs, chat_outputs, api_visibility="undocumented", api_name="chat_click")
        citations.click(show_citation, [session], [sources], api_visibility="private", queue=False)
        clear_outputs = [chatbot, session, citations, sources, question]
        clear.click(clear_chat, None, clear_outputs, api_visibility="private")
        chatbot.clear(clear_chat, None, clear_outputs, api_visibility="private")
        corpus_tab.select(show_stats, None, [stats], api_visibility="private")
        refresh.click(show_stats, None, [stats], api_name="stats")
        ingest_button.click(ingest_files, [uploads], [ingest_result, stats], api_visibility="private")
        gr.api(ask, api_name="ask")

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


def _stage_uploads(files: list[Any], folder: Path) -> list[Path]:
    """Copy uploaded temp files (keeping their names) to ``folder`` so re-ingests see stable paths."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = []
    for item in files:
        source = Path(item if isinstance(item, str | Path) else getattr(item, "name", str(item)))
        target = folder / source.name
        shutil.copyfile(source, target)
        staged.append(target)
    return staged


def _user_message(err: Exception, doing: str) -> str:
    """One line for the reader; a fault that is not a user error also goes to the log with its trace."""
    if not isinstance(err, AssistantError):
        log.exception("failed while %s", doing)
    return one_line(str(as_user_error(err)))


_LINK_PUNCTUATION = re.compile(r"[\[\]]|(?<=[A-Za-z])://|(?<=\bwww)\.|@")


def inert_markdown(text: str) -> str:
    """Text the chat's markdown renderer shows as written: no link, image or autolinked URL can come out of it.

    Answers quote articles, and an article may carry ``![x](https://evil.example/?q=...)`` or a bare URL; the
    chat renders markdown, so those would fetch or link an outside address. Brackets (other than the ``[n]``
    citation markers), ``://``, ``www.`` and ``@`` are backslash-escaped (shown unchanged, never linked), and
    line breaks are folded so no reference definition (``[1]: https://...``) can start a line.
    """
    pieces = []
    last = 0
    for match in MARKER.finditer(text):
        pieces.append(_escape_links(text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_escape_links(text[last:]))
    return " ".join("".join(pieces).split())


def _escape_links(text: str) -> str:
    return _LINK_PUNCTUATION.sub(lambda m: "".join("\\" + ch if ch in "[]:@." else ch for ch in m.group(0)), text)


def _describe_markdown(described: dict[str, str]) -> str:
    backend = described.get("backend", "")
    model = described.get("model") or "—"
    embedder = described.get("embedder", "")
    return f"Backend: `{backend}` · model: `{model}` · embedder: `{embedder}`"


def _int_or_none(value: float | None) -> int | None:
    return int(value) if value else None
