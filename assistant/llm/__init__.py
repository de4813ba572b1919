"""Language-model backends behind one small protocol, built by name from settings."""

from __future__ import annotations

from assistant.llm.base import ChatLLM, ChatMessage
from assistant.llm.registry import make_llm

__all__ = ["ChatLLM", "ChatMessage", "make_llm"]
