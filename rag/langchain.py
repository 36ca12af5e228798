"""The hybrid retriever behind LangChain's `BaseRetriever` interface.

`HybridRetriever` plugs the product's search (dense + BM25, fused, filtered, duplicates
collapsed, optionally reranked; see rag.retrieve) into any LangChain chain:
`retriever | format_docs | prompt | llm`. Each `Document` is one passage: its
`page_content` is the chunk text exactly as stored, and its metadata says where it comes
from (article id, title, date, source, url, chunk id, `start`/`end` offsets into the
cleaned article text) and how it scored (`score` plus one `score_<signal>` per signal).

Filters and the number of passages are set on the retriever or per call:
`retriever.invoke("…", filters=Filters(date_from="2025-09-01"), k=3)`.

Shortcut: the async path is LangChain's default (the sync search in a worker thread).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieve import Filters, Retriever
from rag.schema import Passage
from rag.settings import Settings


def passage_document(passage: Passage) -> Document:
    """One retrieved passage as a LangChain Document (metadata: no None values)."""
    metadata: dict[str, Any] = {
        "article_id": passage.article_id,
        "title": passage.title,
        "date": passage.date or "",
        "source": passage.source,
        "url": passage.url,
        "chunk_id": passage.chunk_id,
        "start": passage.start,
        "end": passage.end,
        "score": passage.score,
    }
    metadata.update({f"score_{name}": value for name, value in passage.scores.items()})
    return Document(page_content=passage.text, metadata=metadata, id=passage.chunk_id)


class HybridRetriever(BaseRetriever):
    """The product's hybrid search as a LangChain retriever; see the module docstring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int | None = None  # passages per query; None = the top_k setting
    filters: Filters | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **fields: Any) -> HybridRetriever:
        """Open the index the settings name and load its embedding model."""
        from rag.embeddings import Embedder
        from rag.store import Index

        index = Index(settings)
        embedder = Embedder.from_settings(settings, built_with=index.embedding_model)
        index.check_model(embedder.model_id, embedder.dimension)
        return cls(retriever=Retriever(settings, index, embedder), **fields)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> list[Document]:
        passages = self.retriever.search(query, k or self.k, filters or self.filters)
        return [passage_document(p) for p in passages]
