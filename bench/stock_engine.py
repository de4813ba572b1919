"""The baseline to beat: llama-index's stock CitationQueryEngine on the same store and the same local model.

It answers through the same `ask()` shape as Assistant so the eval harness can run it side by side.
"""

from __future__ import annotations

import re
import time
from typing import Any

from assistant.engine import Assistant
from assistant.types import Answer, Citation, RetrievedPassage


def _llama_index_llm(chat_llm: Any) -> Any:
    """Wrap our ChatLLM (same GGUF, same chat template, temperature 0) as a llama-index CustomLLM."""
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata

    class WrappedLLM(CustomLLM):
        inner: Any = None

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=chat_llm.context_window, num_output=256, model_name=chat_llm.name)

        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            text = "".join(chat_llm.stream([{"role": "user", "content": prompt}], max_tokens=256))
            return CompletionResponse(text=text)

        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            def gen() -> Any:
                text = ""
                for delta in chat_llm.stream([{"role": "user", "content": prompt}], max_tokens=256):
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

    return WrappedLLM(inner=chat_llm)


def _retriever(assistant: Assistant, top_k: int) -> Any:
    """Dense retrieval from the same Chroma collection, as a llama-index retriever."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    class StoreRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            vector = assistant.embedder.embed([query_bundle.query_str])[0]
            return [
                NodeWithScore(
                    node=TextNode(
                        id_=chunk.id,
                        text=chunk.text,
                        metadata={"doc_id": chunk.doc_id, "start": chunk.start, "title": chunk.title},
                    ),
                    score=score,
                )
                for chunk, score in assistant.store.query(vector, top_k)
            ]

    return StoreRetriever()


class StockCitationEngine:
    """CitationQueryEngine(retriever over our store, llm = our local model), answering like Assistant."""

    def __init__(self, assistant: Assistant, top_k: int = 3) -> None:
        from llama_index.core.query_engine import CitationQueryEngine

        self.assistant = assistant
        self.settings = assistant.settings
        llm = assistant.llm
        if llm is None:
            raise ValueError("the stock engine needs a generative backend")
        self.engine = CitationQueryEngine(
            _retriever(assistant, top_k), llm=_llama_index_llm(llm), citation_chunk_size=512
        )

    def ingest(self, paths: Any = None, **kwargs: Any) -> Any:
        return self.assistant.ingest(paths, **kwargs)

    def ask(self, question: str, *, top_k: int | None = None, filters: Any = None) -> Answer:
        began = time.perf_counter()
        response = self.engine.query(question)
        text = str(response).strip()
        citations = []
        for number, node in enumerate(response.source_nodes, start=1):
            if f"[{number}]" not in text:
                continue
            quote = node.node.get_content()
            body = re.sub(r"^Source \d+:\s*", "", quote)
            citations.append(
                Citation(
                    number=number,
                    doc_id=str(node.node.metadata.get("doc_id", "")),
                    title=str(node.node.metadata.get("title", "")),
                    source="",
                    published="",
                    url="",
                    chunk_id=node.node.node_id,
                    start=0,
                    end=0,
                    quote=body,
                    score=float(node.score or 0.0),
                )
            )
        passages = tuple(
            RetrievedPassage(
                doc_id=str(n.node.metadata.get("doc_id", "")),
                title="",
                chunk_id=n.node.node_id,
                start=0,
                end=0,
                text=n.node.get_content(),
                score=float(n.score or 0.0),
            )
            for n in response.source_nodes
        )
        abstained = bool(re.search(r"(not|no) (provide|mention|information|say)", text, re.I))
        total = time.perf_counter() - began
        return Answer(
            question=question,
            text=text,
            citations=tuple(citations),
            status="abstained" if abstained else "verified",
            passages=passages,
            timings={"retrieve": 0.0, "generate": total, "verify": 0.0, "total": total},
            backend="llama-index CitationQueryEngine",
        )
