"""The hybrid retriever as a LangChain `BaseRetriever`, in a real LCEL chain over a real
index built by ingest (the sample article plus one ORF article)."""

from __future__ import annotations

import json
import shutil

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough

from rag.langchain import HybridRetriever
from rag.retrieve import Filters, Retriever
from tests.conftest import SAMPLE_CORPUS
from tests.fixtures_llm import scripted

SAMPLE = next(SAMPLE_CORPUS.glob("*.txt"))
FLOOD = {
    "id": "hw-1",
    "title": "Hochwasser in Niederösterreich",
    "date": "2024-09-16",
    "source": "ORF",
    "url": "https://orf.example/hochwasser",
    "text": "Nach tagelangem Regen traten in Niederösterreich mehrere Flüsse über die Ufer. "
    "Im Bezirk Tulln wurden zweihundert Menschen in Sicherheit gebracht.",
}


@pytest.fixture(scope="module")
def index_settings(tmp_path_factory, embedder):
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    corpus = tmp_path_factory.mktemp("lc-corpus")
    shutil.copy(SAMPLE, corpus / SAMPLE.name)
    (corpus / "orf.jsonl").write_text(json.dumps(FLOOD, ensure_ascii=False), encoding="utf-8")
    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("lc-index"))
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert len(summary.added) == 2 and not summary.failed
    return settings


@pytest.fixture(scope="module")
def retriever(index_settings, embedder) -> HybridRetriever:
    from rag.store import Index

    return HybridRetriever(
        retriever=Retriever(index_settings, Index(index_settings), embedder), k=3
    )


def format_docs(docs) -> str:
    return "\n\n".join(
        f"[{n}] {d.metadata['title']} ({d.metadata['date']}): {d.page_content}"
        for n, d in enumerate(docs, 1)
    )


def test_is_a_langchain_retriever_returning_documents_with_provenance_and_scores(retriever):
    from rag.store import Index

    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Was sagte Peskow über NATO-Truppen?")
    assert 1 <= len(docs) <= 3
    top = docs[0]
    meta = top.metadata
    assert meta["article_id"] == SAMPLE.name and meta["date"] == "2025-09-05"
    assert {"title", "source", "url", "chunk_id", "start", "end", "score"} <= set(meta)
    assert {"score_dense", "score_bm25", "score_fused", "score_sentence"} <= set(meta)
    assert top.id == meta["chunk_id"]
    scores = [d.metadata["score"] for d in docs]  # the final ranking: fused + best sentence
    assert scores == sorted(scores, reverse=True)
    article = Index(retriever.retriever.settings).get_article(meta["article_id"])
    assert article.text[meta["start"] : meta["end"]] == top.page_content  # exact offsets


def test_filters_apply_on_the_retriever_and_per_call(retriever):
    query = "Peskow NATO Hochwasser Niederösterreich"
    per_call = retriever.invoke(query, filters=Filters(sources=("ORF",)))
    assert per_call and {d.metadata["article_id"] for d in per_call} == {"orf.jsonl:hw-1"}
    assert per_call[0].metadata["url"] == "https://orf.example/hochwasser"
    fixed = retriever.model_copy(update={"filters": Filters(date_from="2025-01-01")})
    assert {d.metadata["article_id"] for d in fixed.invoke(query)} == {SAMPLE.name}
    assert len(retriever.invoke(query, k=1)) == 1


def test_plugs_into_an_lcel_chain(retriever):
    model = scripted("Peskow nannte NATO-Truppen eine Gefahr [1].")
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer from the numbered sources only.\n\n{context}"),
            ("human", "{question}"),
        ]
    )
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    answer = chain.invoke("Was sagte Peskow über NATO-Truppen?")
    assert answer == "Peskow nannte NATO-Truppen eine Gefahr [1]."
    system, human = model.calls[0]
    assert "[1] " in system.content and "Peskow" in system.content
    assert human.content == "Was sagte Peskow über NATO-Truppen?"


async def _ainvoke(retriever, query):
    return await retriever.ainvoke(query)


def test_async_invoke_gives_the_same_documents(retriever):
    import asyncio

    query = "Hochwasser Tulln"
    assert asyncio.run(_ainvoke(retriever, query)) == retriever.invoke(query)


def test_from_settings_opens_the_index_the_settings_name(index_settings):
    docs = HybridRetriever.from_settings(index_settings, k=1).invoke("Hochwasser Tulln")
    assert [d.metadata["article_id"] for d in docs] == ["orf.jsonl:hw-1"]


def test_readme_snippet_runs(index_settings, monkeypatch, capsys):
    from tests.conftest import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use from LangChain", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_settings.index_dir))
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "[1] " in out and f"{SAMPLE.name} " in out
