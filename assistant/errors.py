"""One exception type per kind of user error; each message says what to do."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error a user can meet; the CLI and UI show its message as one line."""


class DocumentError(AssistantError):
    """A file could not be read as an article."""


class StoreMissingError(AssistantError):
    """No store exists yet."""


class StoreMismatchError(AssistantError):
    """The store was built with another embedder."""


class StoreLockedError(AssistantError):
    """Another process is writing to the store."""


class StoreUnavailableError(AssistantError):
    """The Chroma server cannot be reached."""


class StoreError(AssistantError):
    """The store failed on a call (a Chroma or lexical-index error); the message is one line."""


class QuestionError(AssistantError):
    """The question is empty or too long."""


class ArticleNotFoundError(AssistantError):
    """No stored article has the id given (to remove or open)."""


class ModelNotFoundError(AssistantError):
    """A model file or package is missing."""


class ModelCorruptError(AssistantError):
    """A model file does not match its expected hash."""


class LLMUnavailableError(AssistantError):
    """The language model server is down or answered with an error."""


class SettingsError(AssistantError):
    """A setting (argument, ASSISTANT_* variable or assistant.toml) has an invalid value."""


class UnexpectedError(AssistantError):
    """A fault that is not a user error (a bug or a library failure); the message names it, the log has the trace."""


def one_line(message: str, limit: int = 300) -> str:
    """``message`` on one line, cut to ``limit`` characters."""
    flat = " ".join(str(message).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def as_user_error(err: BaseException) -> AssistantError:
    """A user error with a one-line message: ``err`` itself when it is one, else an UnexpectedError naming it."""
    if isinstance(err, AssistantError):
        message = str(err)
        if "\n" not in message and "\r" not in message:
            return err
        try:
            return type(err)(one_line(message, 1000))
        except TypeError:  # a subclass with another constructor
            return UnexpectedError(one_line(message, 1000))
    if isinstance(err, MemoryError):
        return UnexpectedError("The assistant ran out of memory; close other programs or ingest smaller files.")
    module = type(err).__module__.split(".")[0]
    what = _COMPONENTS.get(module, "The assistant")
    detail = one_line(str(err), 200)
    return UnexpectedError(
        f"{what} failed unexpectedly ({type(err).__name__}{': ' + detail if detail else ''}); "
        "try again, and report it if it keeps happening."
    )


_COMPONENTS = {
    "chromadb": "The store (Chroma)",
    "sqlite3": "The store (SQLite)",
    "llama_cpp": "The local language model",
    "httpx": "The connection to the language model server",
    "torch": "The embedder",
    "sentence_transformers": "The embedder",
    "tokenizers": "The embedder",
}
