"""The keyword index as a side index of the Chroma index: written and deleted in the
crash-safe order, repaired and back-filled by the next ingest, switched with a rebuild,
and read without scanning the corpus. Real Chroma in temporary folders, ingest's own core.

The embedder is `HashingEmbedder` (predictable, instant): the model is not under test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest, sync_articles
from rag import keyword, sidecar
from rag.embeddings import HashingEmbedder
from rag.retrieve import Filters, Retriever
from rag.schema import Article
from rag.store import Index
from tests import test_ingest
from tests.conftest import PROJECT_ROOT
from tests.test_ingest import article_file, assert_consistent

ARTICLES = [
    Article(
        id="kreml.txt",
        title="Kreml",
        date="2025-09-05",
        source="Kurier",
        text="Kremlsprecher Dmitri Peskow lehnte die Entsendung von NATO-Truppen ab.",
    ),
    Article(
        id="tulln.txt",
        title="Hochwasser",
        date="2024-09-16",
        source="ORF",
        text="Im Bezirk Tulln wurden zweihundert Menschen vor dem Hochwasser in Sicherheit "
        "gebracht.",
    ),
    Article(
        id="wahl.txt",
        title="Wahl",
        date="2024-09-30",
        source="Der Standard",
        text="Bei der Nationalratswahl lag die Wahlbeteiligung bei knapp achtzig Prozent.",
    ),
]


chroma_server = test_ingest.chroma_server  # a real `chroma run` (fixture)


@pytest.fixture
def embedder():
    return HashingEmbedder()


def sync(settings, embedder, articles, **kwargs) -> Index:
    index = kwargs.pop("index", None) or Index(settings)
    summary = sync_articles(
        lambda _summary: articles, settings, index=index, embedder=embedder, **kwargs
    )
    assert not summary.failed, summary
    return index


def top(retriever: Retriever, query: str, **filters) -> list[str]:
    return [p.article_id for p in retriever.search(query, k=3, filters=Filters(**filters))]


# --- the contract: order of writes and deletes --------------------------------------------


class Recorder:
    """A side index that records each call and whether the article records existed then."""

    name = "recorder"
    calls: list[tuple[str, list, list[bool]]] = []
    held: set[tuple[str, str]] = set()

    def __init__(self, index: Index) -> None:
        self.index = index

    def _committed(self, keys) -> list[bool]:
        got = self.index.articles.get(ids=[aid for aid, _ in keys], include=["metadatas"])
        have = {aid: m["content_hash"] for aid, m in zip(got["ids"], got["metadatas"], strict=True)}
        return [have.get(aid) == version for aid, version in keys]

    def write(self, items, embed) -> None:
        keys = [(i.article.id, i.version) for i in items]
        vectors = embed([i.article.text for i in items]) if embed else None
        assert vectors is None or len(vectors) == len(items)
        assert all(len(i.chunk_ids) == len(i.spans) == len(i.chunk_meta) for i in items)
        Recorder.calls.append(("write", keys, self._committed(keys)))
        Recorder.held |= set(keys)

    def delete(self, keys) -> None:
        Recorder.calls.append(("delete", list(keys), self._committed(keys)))
        Recorder.held -= set(keys)

    def versions(self) -> set:
        return set(Recorder.held)

    def drop(self) -> None:
        Recorder.calls.append(("drop", [self.index.current], []))


@pytest.fixture
def recorder(monkeypatch):
    Recorder.calls, Recorder.held = [], set()
    monkeypatch.setattr(sidecar, "FACTORIES", [*sidecar.FACTORIES, f"{__name__}:Recorder"])
    return Recorder


def test_side_indexes_are_written_before_and_deleted_before_the_record(
    make_settings, embedder, recorder
):
    settings = make_settings()
    sync(settings, embedder, ARTICLES[:2])
    writes = [c for c in recorder.calls if c[0] == "write"]
    assert writes and all(committed == [False] * len(keys) for _, keys, committed in writes)

    changed = Article(**{**ARTICLES[0].__dict__, "text": "Peskow sprach in Moskau."})
    recorder.calls.clear()
    sync(settings, embedder, [changed])  # tulln.txt removed, kreml.txt changed
    kinds = [c[0] for c in recorder.calls]
    assert kinds == ["write", "delete", "delete"], recorder.calls
    assert recorder.calls[0][2] == [False]  # the new version, before its record
    # the replaced version, once the new record is in; the removed article, before its
    # record is deleted
    replaced, removed = recorder.calls[1], recorder.calls[2]
    assert replaced[1][0][0] == "kreml.txt" and replaced[2] == [False]
    assert removed[1][0][0] == "tulln.txt" and removed[2] == [True]
    assert Index(settings).records().keys() == {"kreml.txt"}


def test_every_side_index_is_asked_to_repair_with_the_embed_function(
    make_settings, embedder, recorder
):
    settings = make_settings()
    sync(settings, embedder, ARTICLES)
    recorder.calls.clear()
    recorder.held.clear()  # as a side index added to an existing index
    sync(settings, embedder, ARTICLES)  # every committed version is written to it
    rewritten = {k for c in recorder.calls if c[0] == "write" for k in c[1]}
    assert {aid for aid, _ in rewritten} == {a.id for a in ARTICLES}


# --- the keyword index in step with the chunks ----------------------------------------------


def test_keyword_index_follows_add_change_and_delete(make_settings, embedder):
    settings = make_settings()
    index = sync(settings, embedder, ARTICLES)
    assert_consistent(index)
    retriever = Retriever(settings, index, embedder, signals=("bm25",))
    assert top(retriever, "Nationalratswahl Wahlbeteiligung") == ["wahl.txt"]

    changed = Article(**{**ARTICLES[1].__dict__, "text": "Ein Waldbrand bei Hirschwang."})
    sync(settings, embedder, [ARTICLES[0], changed], index=index)
    assert_consistent(index)
    assert top(retriever, "Waldbrand Hirschwang") == ["tulln.txt"]
    assert top(retriever, "zweihundert Menschen Sicherheit") == []
    assert top(retriever, "Nationalratswahl Wahlbeteiligung") == []


def test_filters_are_applied_by_the_keyword_index(make_settings, embedder):
    settings = make_settings()
    retriever = Retriever(settings, sync(settings, embedder, ARTICLES), embedder, signals=("bm25",))
    query = "Peskow Tulln Nationalratswahl"
    assert set(top(retriever, query)) == {a.id for a in ARTICLES}
    assert top(retriever, query, date_from="2025-01-01") == ["kreml.txt"]
    assert top(retriever, query, sources=("ORF",)) == ["tulln.txt"]


def test_an_index_without_keyword_index_is_back_filled_by_the_next_ingest(make_settings, embedder):
    settings = make_settings()
    index = sync(settings, embedder, ARTICLES)
    path = keyword.path_for(settings, index.current)
    index.side("keyword").drop()  # as an index built before the keyword index existed
    assert not path.exists()
    fresh = Index(settings)
    assert fresh.stats().articles == 3 and fresh.sources() == ["Der Standard", "Kurier", "ORF"]

    summary = sync(settings, embedder, ARTICLES, index=fresh) and None
    assert path.exists() and summary is None
    assert_consistent(Index(settings))
    retriever = Retriever(settings, Index(settings), embedder, signals=("bm25",))
    assert top(retriever, "Peskow NATO-Truppen") == ["kreml.txt"]


def test_entries_of_versions_no_record_names_are_removed_by_the_next_ingest(
    make_settings, embedder
):
    settings = make_settings()
    index = sync(settings, embedder, ARTICLES)
    ghost = Article(id="ghost.txt", text="Gespenster in der Hofburg.", source="ORF")
    index.side("keyword").write(
        [sidecar.ArticleVersion(ghost, "v0", ["ghost.txt#v0-0000"], [(0, len(ghost.text))])],
        None,
    )
    assert ("ghost.txt", "v0") in index.side("keyword").versions()
    sync(settings, embedder, ARTICLES, index=index)
    assert_consistent(index)


def test_a_rebuild_switches_the_keyword_index_with_the_chunks(make_settings, embedder):
    settings = make_settings()
    index = sync(settings, embedder, ARTICLES)
    old_path = keyword.path_for(settings, index.current)
    reader = Retriever(settings, Index(settings), embedder, signals=("bm25",))
    assert top(reader, "Peskow") == ["kreml.txt"]

    sync(settings, embedder, ARTICLES[:2], rebuild=True)
    new = Index(settings)
    assert new.current != settings.collection
    assert keyword.path_for(settings, new.current).exists() and not old_path.exists()
    assert_consistent(new)
    assert top(reader, "Nationalratswahl") == []  # the reader followed the switch
    assert top(reader, "Peskow") == ["kreml.txt"]


def test_an_abandoned_generation_loses_its_keyword_index_at_the_next_run(make_settings, embedder):
    settings = make_settings()
    index = sync(settings, embedder, ARTICLES[:1])
    aside = index.aside()  # a rebuild killed before its switch
    aside.write_articles(
        [(ARTICLES[1], "v1", [(0, 20)], embedder.encode_passages([ARTICLES[1].text[:20]]), "h")]
    )
    orphan = keyword.path_for(settings, aside.current)
    assert orphan.exists()
    sync(settings, embedder, ARTICLES[:1])
    assert not orphan.exists()
    assert keyword.path_for(settings, Index(settings).current).exists()


def test_a_write_outside_an_ingest_leaves_the_keyword_index_free_for_the_next_writer(
    make_settings, embedder
):
    settings = make_settings()
    sync(settings, embedder, ARTICLES)
    app_index = Index(settings)  # e.g. the app removing one article from its archive view
    version = app_index.records()["wahl.txt"].version
    app_index.remove_article("wahl.txt", app_index.chunk_versions()[("wahl.txt", version)])
    sync(settings, embedder, ARTICLES[:2])  # then a command-line ingest writes
    assert_consistent(Index(settings))
    assert set(Index(settings).records()) == {"kreml.txt", "tulln.txt"}


# --- opening does not depend on the corpus size ---------------------------------------------


def test_search_stats_and_sources_read_no_chunk_or_record_scan(
    make_settings, embedder, monkeypatch
):
    settings = make_settings()
    sync(settings, embedder, ARTICLES)

    def scan(*_args, **_kwargs):
        raise AssertionError("a reader scanned the whole index")

    for name in ("iter_chunks", "chunk_versions", "records", "_scan", "truncated_chunks"):
        monkeypatch.setattr(Index, name, scan)
    index = Index(settings)
    retriever = Retriever(settings, index, embedder)
    assert retriever.search("Peskow NATO-Truppen", k=1)[0].article_id == "kreml.txt"
    stats = index.stats()
    assert (stats.articles, stats.incomplete_articles, stats.truncated_chunks) == (3, 0, 0)
    assert (stats.date_min, stats.date_max) == ("2024-09-16", "2025-09-05")
    assert index.sources() == ["Der Standard", "Kurier", "ORF"]


def test_ingest_records_its_corpus_folders(tmp_path, make_settings, embedder):
    settings = make_settings()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        article_file(tmp_path / name, f"{name}.txt", "2025-09-01", f"Meldung {name} aus Linz.")
    run_ingest([tmp_path / "a"], settings, embedder=embedder)
    run_ingest([tmp_path / "b"], settings, embedder=embedder)
    assert Index(settings).roots() == sorted([str(tmp_path / "a"), str(tmp_path / "b")])


# --- other processes ------------------------------------------------------------------------

READER = """
import json, sys
from rag.embeddings import HashingEmbedder
from rag.retrieve import Retriever
from rag.settings import load_settings
from rag.store import Index
settings = load_settings()
retriever = Retriever(settings, Index(settings), HashingEmbedder(), signals=("bm25",))
print("ready", flush=True)
for line in sys.stdin:
    print(json.dumps([p.article_id for p in retriever.search(line.strip(), k=3)]), flush=True)
"""


def test_a_reader_process_sees_another_process_s_ingest_at_its_next_question(
    tmp_path, make_settings, embedder
):
    import json

    settings = make_settings(index_dir=tmp_path / "idx")
    sync(settings, embedder, ARTICLES[:1])
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "idx")}
    reader = subprocess.Popen(
        [sys.executable, "-c", READER],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"

        def ask(question: str) -> list[str]:
            reader.stdin.write(question + "\n")
            reader.stdin.flush()
            return json.loads(reader.stdout.readline())

        assert ask("Nationalratswahl Wahlbeteiligung") == []
        sync(settings, embedder, ARTICLES)  # this process writes
        assert ask("Nationalratswahl Wahlbeteiligung") == ["wahl.txt"]
        sync(settings, embedder, ARTICLES[1:])
        assert ask("Peskow NATO-Truppen") == []
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)


def test_server_mode_without_a_reachable_keyword_index_says_which_setting_to_set(
    tmp_path, make_settings
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    kw = keyword.KeywordIndex(Path(blocker) / "articles.keyword", server_mode=True)
    from rag.store import StoreError

    with pytest.raises(StoreError, match="RAG_KEYWORD_DIR"):
        kw.write(
            [sidecar.ArticleVersion(ARTICLES[0], "v1", ["k#1"], [(0, 5)])],
            None,
        )
    with pytest.raises(StoreError, match="RAG_KEYWORD_DIR"):
        kw.search(["peskow"], k=3)


@pytest.mark.server
@pytest.mark.slow
def test_server_mode_keeps_the_keyword_index_where_RAG_KEYWORD_DIR_says(
    chroma_server, tmp_path, make_settings, embedder
):
    shared = tmp_path / "keyword"
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server, keyword_dir=shared)
    index = sync(settings, embedder, ARTICLES)
    assert keyword.path_for(settings, index.current).is_dir()
    assert_consistent(index)
    reader = Retriever(settings, Index(settings), embedder)
    assert top(reader, "Peskow NATO-Truppen")[0] == "kreml.txt"

    elsewhere = settings.model_copy(update={"keyword_dir": tmp_path / "other-machine"})
    from rag.store import StoreError

    with pytest.raises(StoreError, match="RAG_KEYWORD_DIR"):
        Retriever(elsewhere, Index(elsewhere), embedder).search("Peskow NATO-Truppen")
