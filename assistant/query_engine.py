"""The assistant as a llama-index QueryEngine, for code that already speaks llama-index."""

from __future__ import annotations

from typing import Any, Protocol

from assistant.types import Answer


class Asker(Protocol):
    """What the query engine needs of an assistant: one checked answer per question."""

    def ask(self, question: str) -> Answer: ...


def make_query_engine(assistant: Asker) -> Any:
    """A CustomQueryEngine whose Response text is the checked answer and whose source nodes are its citations."""
    from llama_index.core.base.response.schema import Response
    from llama_index.core.query_engine import CustomQueryEngine
    from llama_index.core.schema import NodeWithScore, TextNode

    class AssistantQueryEngine(CustomQueryEngine):
        """Answers through Assistant.ask."""

        assistant: Any

        def custom_query(self, query_str: str) -> Response:
            answer = self.assistant.ask(query_str)
            nodes = [
                NodeWithScore(
                    node=TextNode(
                        id_=f"{c.chunk_id}:{c.start}",
                        text=c.quote,
                        metadata={
                            "citation": c.number,
                            "doc_id": c.doc_id,
                            "title": c.title,
                            "source": c.source,
                            "published": c.published,
                            "start": c.start,
                            "end": c.end,
                        },
                    ),
                    score=c.score,
                )
                for c in answer.citations
            ]
            return Response(response=answer.text, source_nodes=nodes, metadata={"status": answer.status})

    return AssistantQueryEngine(assistant=assistant)
