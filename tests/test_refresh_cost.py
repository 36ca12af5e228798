"""A refresh costs what it writes, not what the index holds, without losing crash safety.

The dirty mark (rag.store `DIRTY_KEY`) is set by a writer's first write and cleared when
it has finished; `Index.reconcile()` scans chunks and side indexes only when the mark is
set or a cheap count disagrees. The statement index deletes by id, and not at all for
new articles; the ingest's folder scope compares strings. Real Chroma, the real model,
a real SIGKILL (tests/ingest_pause.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import _Prefixes, run_ingest
from rag.store import DIRTY_KEY, Index
from tests.test_concurrency import Proc, paused_ingest, write_articles
from tests.test_ingest import article_file, assert_consistent


def _mark(settings) -> str | None:
    """The dirty mark as another process sees it."""
    return Index(settings)._meta().get(DIRTY_KEY)


def _statement_versions(index: Index) -> set[tuple[str, str]]:
    return index.side("statements").versions()


def _record_deletes(monkeypatch, names: list[str]) -> None:
    """Append the collection name of every Chroma delete call to `names`."""
    from chromadb.api.models.Collection import Collection

    delete = Collection.delete

    def recorded(self, *args, **kwargs):
        names.append(self.name)
        return delete(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "delete", recorded)


def _committed(index: Index) -> set[tuple[str, str]]:
    return {(aid, rec.version) for aid, rec in index.records().items()}


@pytest.fixture
def news(tmp_path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    article_file(
        folder,
        "graz.txt",
        "2025-09-06",
        "Der Bürgermeister von Graz eröffnete am Samstag die neue Straßenbahnlinie.",
        "„Das ist ein großer Tag für die Stadt“, sagte Bürgermeisterin Elke Kahr.",
    )
    article_file(
        folder,
        "linz.txt",
        "2025-09-07",
        "Der Gemeinderat von Linz beschloss ein Budget für Schulen.",
        "„Wir investieren in die Zukunft“, sagte Bürgermeister Klaus Luger.",
    )
    return folder


def test_the_mark_is_set_while_a_run_writes_and_cleared_when_it_ends(news, make_settings, embedder):
    settings = make_settings()
    seen = []
    summary = run_ingest(
        [news], settings, embedder=embedder, on_written=lambda n: seen.append(_mark(settings))
    )
    assert summary.added and seen == ["1"]  # one write batch, written under the mark
    assert _mark(settings) == "0"
    assert Index(settings).is_clean()


def test_a_clean_index_is_refreshed_without_scanning_chunks_or_side_indexes(
    news, make_settings, embedder, monkeypatch
):
    from rag.keyword import KeywordIndex
    from rag.quotes.store import StatementIndex

    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    scans, deletes = [], []
    for cls, name in (
        (Index, "chunk_versions"),
        (KeywordIndex, "versions"),
        (StatementIndex, "versions"),
    ):
        original = getattr(cls, name)
        monkeypatch.setattr(
            cls,
            name,
            lambda self, _o=original, _n=f"{cls.__name__}.{name}": scans.append(_n) or _o(self),
        )
    _record_deletes(monkeypatch, deletes)
    # One new article and one changed article: the changed one's old chunks, keyword
    # entries and statements are found from the record alone.
    article_file(
        news,
        "wien.txt",
        "2025-09-08",
        "In Wien wurde ein neues Bad eröffnet.",
        "„Endlich“, sagte Bürgermeister Michael Ludwig.",
    )
    article_file(
        news,
        "linz.txt",
        "2025-09-07",
        "Der Gemeinderat von Linz beschloss ein größeres Budget für Schulen.",
        "„Wir investieren in die Zukunft“, sagte Bürgermeister Klaus Luger.",
    )
    summary = run_ingest([news], settings, embedder=embedder)
    assert summary.added == ["wien.txt"] and summary.updated == ["linz.txt"]
    assert scans == []
    # Statement rows are deleted by id, only for the replaced version (markers, then rows).
    assert deletes.count(f"{Index(settings).current}-quotes") <= 2
    monkeypatch.undo()
    index = Index(settings)
    assert_consistent(index)
    assert _statement_versions(index) == _committed(index)
    rows = index.side("statements").rows()
    assert rows and {(s.article_id, s.version) for s in rows} <= _committed(index)
    assert index.is_clean()


def test_new_articles_delete_no_statement_rows(news, make_settings, embedder, monkeypatch):
    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    write_articles(news, "neu", 2)
    deletes = []
    _record_deletes(monkeypatch, deletes)
    summary = run_ingest([news], settings, embedder=embedder)
    assert sorted(summary.added) == ["neu0.txt", "neu1.txt"]
    assert deletes == []


def test_a_side_index_missing_from_a_clean_index_is_back_filled(news, make_settings, embedder):
    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    index = Index(settings)
    for side in index.sidecars:  # as if the side indexes were new to this index
        side.drop()
    assert index.is_clean() and _statement_versions(Index(settings)) == set()
    summary = run_ingest([news], settings, embedder=embedder)
    assert summary.unchanged == 2 and not summary.added
    index = Index(settings)
    assert_consistent(index)  # the keyword index holds every committed version again
    assert _statement_versions(index) == _committed(index)
    assert index.is_clean()


def test_an_index_from_before_the_mark_is_scanned_once(news, make_settings, embedder):
    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    index = Index(settings)
    meta = index._meta()
    meta.pop(DIRTY_KEY)
    meta.pop("hnsw:space", None)
    index.chunks.modify(metadata=meta)
    assert _mark(settings) is None and not index.is_clean()
    run_ingest([news], settings, embedder=embedder)
    assert _mark(settings) == "0"


def test_a_remove_on_its_own_clears_the_mark_and_one_inside_a_run_does_not(
    news, make_settings, embedder
):
    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    index = Index(settings)
    rec = index.records()["graz.txt"]
    groups = index.chunk_versions()
    index.remove_article("graz.txt", groups[("graz.txt", rec.version)], rec.version)
    assert _mark(settings) == "0"
    assert_consistent(index)

    index.begin_write()  # a writer (an ingest run) already at work
    rec = index.records()["linz.txt"]
    index.remove_article("linz.txt", index.chunk_versions()[("linz.txt", rec.version)])
    assert _mark(settings) == "1"  # the run clears it when it has finished
    index.mark_refreshed()
    assert _mark(settings) == "0"


@pytest.mark.slow
def test_a_run_killed_mid_write_leaves_the_mark_and_the_next_run_repairs(tmp_path, make_settings):
    index_dir = tmp_path / "idx"
    env = {"RAG_INDEX_DIR": str(index_dir)}
    settings = make_settings(index_dir=index_dir)
    write_articles(tmp_path / "c", "c", 2)
    first = Proc(["ingest", str(tmp_path / "c"), "-q"], env)
    assert first.finish() == 0, first.stderr
    assert _mark(settings) == "0"

    # Chunks of changed and new articles written, their records not: killed there.
    write_articles(tmp_path / "c", "c", 3, variant=" (neu)")
    killed = paused_ingest("records", tmp_path / "flags", [str(tmp_path / "c"), "-q"], env)
    killed.kill()
    index = Index(settings)
    assert _mark(settings) == "1"
    assert index.chunks.count() > sum(r.n_chunks for r in index.records().values())

    again = Proc(["ingest", str(tmp_path / "c"), "-q"], env)
    assert again.finish() == 0, again.stderr
    index = Index(settings)
    assert_consistent(index)
    assert sorted(index.records()) == ["c0.txt", "c1.txt", "c2.txt"]
    assert _statement_versions(index) == _committed(index)
    assert _mark(settings) == "0"


def test_folder_scope_compares_whole_path_components():
    scope = _Prefixes([Path("/data/corpus"), Path("/data/one.txt")])
    assert scope.holds("/data/corpus/a.txt")
    assert scope.holds("/data/corpus/sub/b.json")
    assert scope.holds("/data/corpus")
    assert scope.holds("/data/one.txt")
    assert not scope.holds("/data/corpus2/a.txt")
    assert not scope.holds("/data/one.txt.bak")
    assert not scope.holds("/data/other/a.txt")
    assert not scope.holds("")
    assert _Prefixes([Path("/")]).holds("/anything/at/all.txt")
    assert not _Prefixes([]).holds("/data/corpus/a.txt")


def test_a_run_that_only_removes_ends_clean_and_consistent(news, make_settings, embedder):
    settings = make_settings()
    run_ingest([news], settings, embedder=embedder)
    (news / "graz.txt").unlink()
    summary = run_ingest([news], settings, embedder=embedder)
    assert summary.removed == ["graz.txt"] and _mark(settings) == "0"
    index = Index(settings)
    assert_consistent(index)
    assert (
        _statement_versions(index)
        == _committed(index)
        == {("linz.txt", index.records()["linz.txt"].version)}
    )
