"""The Chat tab: the conversation, the citation chips, the sources panel and the settings, wired to the engine."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, QuestionError, as_user_error, one_line
from assistant.types import Answer, Citation
from assistant.ui import render
from assistant.ui.assets import CITATIONS_JS, CLICK_HINT, COPY_MARKDOWN_JS, EXAMPLE_QUESTIONS, SEARCHING, SOURCES_JS
from assistant.ui.inert import inert_markdown
from assistant.ui.messages import user_message

if TYPE_CHECKING:
    import gradio as gr

    from assistant.engine import Assistant

log = logging.getLogger("assistant.ui.app")


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


@dataclass(frozen=True)
class ChatTab:
    """The components of the Chat tab that other parts of the page use."""

    session: Any
    chatbot: Any
    citations: Any
    sources: Any
    question: Any


def add_chat_tab(assistant: Assistant, described: dict[str, str]) -> ChatTab:
    """Lay out the Chat tab inside the current Blocks and wire its events."""
    import gradio as gr

    settings = assistant.settings

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
                question, top_k=int_or_none(top_k), filters=filters or None, as_of=(as_of or "").strip() or None
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
            message = user_message(err, "showing a citation")
            return render.message_html(message, error=True) + render.sources_panel(citation, None, answer.passages)
        return render.sources_panel(citation, article, answer.passages)

    # Gradio finds EventData by type hint; the postponed annotation cannot see the lazily imported module.
    show_citation.__annotations__["evt"] = gr.EventData

    def last_answer_markdown(session: ChatSession | None) -> str:
        """The latest answer as Markdown with its references, for "Copy as Markdown" ("" before any answer)."""
        from assistant.answer.export import answer_markdown

        return answer_markdown(session.last) if session is not None and session.last is not None else ""

    def clear_chat() -> tuple[Any, ...]:
        return [], None, render.citation_bar(None), render.sources_panel(None, None, note=CLICK_HINT), ""

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
                    copy_markdown = gr.Button("Copy as Markdown", size="sm", elem_id="copy-markdown", scale=0)
                    markdown = gr.Textbox(visible="hidden", elem_id="answer-markdown", show_label=False)
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
                    gr.Markdown(describe_markdown(described))
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(
                    render.sources_panel(None, None, note=CLICK_HINT), elem_id="sources", js_on_load=SOURCES_JS
                )

    chat_inputs = [question, chatbot, session, top_k, published_from, published_to, as_of]
    chat_outputs = [question, chatbot, session, citations, sources]
    question.submit(respond, chat_inputs, chat_outputs, api_name="chat").then(
        last_answer_markdown, [session], [markdown], api_visibility="private"
    )
    send.click(respond, chat_inputs, chat_outputs, api_visibility="undocumented", api_name="chat_click").then(
        last_answer_markdown, [session], [markdown], api_visibility="private"
    )
    copy_markdown.click(None, [markdown], None, js=COPY_MARKDOWN_JS, api_visibility="private")
    citations.click(show_citation, [session], [sources], api_visibility="private", queue=False)
    clear_outputs = [chatbot, session, citations, sources, question]
    clear.click(clear_chat, None, clear_outputs, api_visibility="private").then(
        last_answer_markdown, [session], [markdown], api_visibility="private"
    )
    chatbot.clear(clear_chat, None, clear_outputs, api_visibility="private").then(
        last_answer_markdown, [session], [markdown], api_visibility="private"
    )
    return ChatTab(session=session, chatbot=chatbot, citations=citations, sources=sources, question=question)


def add_ask_api(assistant: Assistant) -> None:
    """The ``/ask`` endpoint: one question, no history, the answer as a JSON-able dict."""
    import gradio as gr

    def ask(question: str, top_k: int | None = None, published_from: str = "", published_to: str = "") -> dict:
        """Answer one question (no history) and return the answer as a JSON-able dict."""
        try:
            filters = render.date_filters(published_from, published_to)
            return assistant.ask(question, top_k=int_or_none(top_k), filters=filters or None).to_dict()
        except ValueError as err:  # a malformed date filter
            raise gr.Error(one_line(str(err))) from None
        except Exception as err:
            raise gr.Error(user_message(err, "answering")) from None

    gr.api(ask, api_name="ask")


def describe_markdown(described: dict[str, str]) -> str:
    """Backend, model and embedder in one line."""
    backend = described.get("backend", "")
    model = described.get("model") or "—"
    embedder = described.get("embedder", "")
    return f"Backend: `{backend}` · model: `{model}` · embedder: `{embedder}`"


def int_or_none(value: float | None) -> int | None:
    """A slider's value as an int, or None when unset."""
    return int(value) if value else None
