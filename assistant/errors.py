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


class ModelNotFoundError(AssistantError):
    """A model file or package is missing."""


class ModelCorruptError(AssistantError):
    """A model file does not match its expected hash."""


class LLMUnavailableError(AssistantError):
    """The language model server is down or answered with an error."""
