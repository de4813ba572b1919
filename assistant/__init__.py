"""Question answering over news articles with citations a reader can check, offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.settings import Settings
from assistant.types import Answer, Article, Citation, IngestReport, StreamEvent

if TYPE_CHECKING:
    from assistant.engine import Assistant, Conversation

__all__ = ["Answer", "Article", "Assistant", "Citation", "Conversation", "IngestReport", "Settings", "StreamEvent"]


def __getattr__(name: str) -> Any:
    """Import the engine on first use, so `import assistant` stays light."""
    if name in {"Assistant", "Conversation"}:
        from assistant import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
