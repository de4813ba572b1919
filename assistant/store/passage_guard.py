"""What may become evidence: retrieved passages minus text written to a model and minus half-written articles."""

from __future__ import annotations

from typing import Any

from assistant.store import injection
from assistant.types import Article, Passage


class PassageGuard:
    """Wraps a retriever so that no answer quotes an injected instruction or an article whose write is unfinished.

    A chunk is kept only when the article's stored record holds exactly the chunk's text at the chunk's offsets:
    chunks of an article still being written (no record yet) or re-written (record of the old text) wait until
    the ingest finishes, so a question asked during an upload never cites a half-written article.
    """

    def __init__(self, retriever: Any, store: Any) -> None:
        self.retriever = retriever
        self.store = store

    def retrieve(self, query: str, **kwargs: Any) -> list[Passage]:
        """The wrapped retriever's passages that may be quoted."""
        passages = injection.without_instructions(self.retriever.retrieve(query, **kwargs))
        articles = self.store.get_articles([p.chunk.doc_id for p in passages]) if passages else {}
        return [p for p in passages if _recorded(p, articles.get(p.chunk.doc_id))]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.retriever, name)


def _recorded(passage: Passage, article: Article | None) -> bool:
    chunk = passage.chunk
    return article is not None and article.text[chunk.start : chunk.end] == chunk.text
