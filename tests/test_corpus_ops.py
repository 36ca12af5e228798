"""Managing the archive without the browser (desk/corpus.py): upload, remove, refresh.

Real Chroma in temporary folders, the real ingest, the small English model (retrieval
quality is not under test here), and a real command-line ingest in another process for
the one-writer-at-a-time cases (tests/ingest_pause.py holds it open mid-write).
"""

from __future__ import annotations

import time

import pytest

from desk import corpus
from ingest.pipeline import run_ingest
from rag.settings import MINILM_MODEL
from rag.store import Index
from tests.test_concurrency import paused_ingest, write_articles
from tests.test_ingest import article_file, assert_consistent

ZOO = (
    " date 2025-09-09 Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien.<BR \\/><BR \\/>"
    "Die Tiere heißen Max und Moritz und leben im neuen Becken."
).encode()
ZOO_TITLE = "Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien"
TRAM = (
    " date 2025-09-06 Der Bürgermeister von Graz eröffnete die neue Straßenbahnlinie.<BR \\/>"
    "<BR \\/>Sie fährt vom Hauptplatz nach Puntigam."
)
ROWS = (
    b'{"id": "1", "title": "Wien baut", "text": "Wien baut eine neue U-Bahn-Linie."}\n'
    b'{"id": "2", "title": "Linz spart", "text": "Linz spart bei der Beleuchtung."}\n'
)


@pytest.fixture
def desk(tmp_path, make_settings, minilm):
    """Settings with an empty index and a corpus folder holding one article."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "tram.txt").write_text(TRAM, encoding="utf-8")
    settings = make_settings(corpus_dir=folder, embedding_model=MINILM_MODEL)
    report = corpus.refresh(settings, minilm)
    assert [e.article_id for e in report.added] == ["tram.txt"]
    return settings


def ids(settings) -> list[str]:
    return sorted(Index(settings).records())


# --- upload -------------------------------------------------------------------------------
REFUSED = [
    ("notes.pdf", b"%PDF-1.4 binary", "unknown file type .pdf"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n  ", "empty article"),
    ("utf16.txt", "Wien baut".encode("utf-16-le"), "binary file"),
    ("broken.json", b'{"title": "x", "text": ', "malformed JSON"),
    ("../escape.txt", ZOO, "contains a folder"),
    ("sub/inner.txt", ZOO, "contains a folder"),
    (".hidden.txt", ZOO, "hidden"),
    ("tram.txt", ZOO, "a different file named 'tram.txt' is already in the archive"),
]


@pytest.mark.parametrize(("name", "data", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_file_says_why_and_the_others_are_stored_and_indexed(
    desk, minilm, name, data, reason
):
    tram_before = (desk.corpus_dir / "tram.txt").read_bytes()
    report = corpus.upload(desk, [("zoo.txt", ZOO), (name, data)], embedder=minilm)

    good, bad = report.files
    assert good.accepted and good.article_ids == ["zoo.txt"]
    assert not bad.accepted and reason in bad.reason, bad.reason
    assert [e.title for e in report.ingest.added] == [
        "Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien"
    ]
    assert ids(desk) == ["tram.txt", "zoo.txt"]
    assert (desk.corpus_dir / "zoo.txt").read_bytes() == ZOO
    assert (desk.corpus_dir / "tram.txt").read_bytes() == tram_before
    stored = sorted(p.relative_to(desk.corpus_dir).as_posix() for p in desk.corpus_dir.rglob("*"))
    assert stored == ["tram.txt", "zoo.txt"], "a refused file or a staging copy was left"
    assert not (desk.corpus_dir.parent / "escape.txt").exists()


def test_a_file_over_the_upload_limit_is_refused_with_the_setting_to_raise_it(
    tmp_path, make_settings, minilm
):
    settings = make_settings(
        corpus_dir=tmp_path / "corpus", embedding_model=MINILM_MODEL, upload_max_mb=0.01
    )
    big = b" date 2025-09-01 " + b"Sehr langer Bericht. " * 1000  # about 21 KB
    report = corpus.upload(settings, [("big.txt", big), ("zoo.txt", ZOO)], embedder=minilm)
    big_result, zoo = report.files
    assert not big_result.accepted
    assert "over the upload limit of 0.01 MB (RAG_UPLOAD_MAX_MB)" in big_result.reason
    assert zoo.accepted and ids(settings) == ["zoo.txt"]
    assert not (settings.corpus_dir / "big.txt").exists()


def test_refusals_are_said_in_german_when_the_desk_speaks_german(desk, minilm):
    from desk.i18n import set_language

    set_language("de")
    try:
        report = corpus.upload(desk, [("tram.txt", ZOO), ("../x.txt", ZOO)], embedder=minilm)
    finally:
        set_language("en")
    assert "im Archiv liegt schon eine andere Datei namens 'tram.txt'" in report.files[0].reason
    assert "enthält einen Ordner" in report.files[1].reason


def test_records_with_problems_are_skipped_and_reported_while_the_file_is_kept(desk, minilm):
    data = ROWS + b"this line is not JSON\n"
    latin = "Die Straße in München wurde wegen eines Wasserrohrbruchs gesperrt.".encode("cp1252")
    report = corpus.upload(desk, [("feed.jsonl", data), ("latin.txt", latin)], embedder=minilm)
    feed, legacy = report.files
    assert feed.accepted and feed.article_ids == ["feed.jsonl:1", "feed.jsonl:2"]
    assert feed.warnings == ["line 3: malformed JSON: Expecting value (column 1)"]
    assert legacy.accepted and any("not valid UTF-8; read as cp1252" in w for w in legacy.warnings)
    assert {e.title for e in report.ingest.added} == {
        "Wien baut",
        "Linz spart",
        "Die Straße in München wurde wegen eines Wasserrohrbruchs gesperrt",
    }


def test_the_same_file_again_is_accepted_as_already_there_and_changes_nothing(desk, minilm):
    corpus.upload(desk, [("zoo.txt", ZOO)], embedder=minilm)
    again = corpus.upload(desk, [("zoo.txt", ZOO), ("zoo.txt", ZOO)], embedder=minilm)
    assert [f.accepted for f in again.files] == [True, True]
    assert again.files[0].reason == "already in the archive (same file)"
    assert not again.ingest.changed and again.ingest.unchanged == 1


def test_one_name_twice_with_different_contents_keeps_the_first(desk, minilm):
    other = ZOO.replace(b"Pinguine", b"Robben")
    report = corpus.upload(desk, [("zoo.txt", ZOO), ("zoo.txt", other)], embedder=minilm)
    assert [f.accepted for f in report.files] == [True, False]
    assert "uploaded twice with different contents" in report.files[1].reason
    assert (desk.corpus_dir / "zoo.txt").read_bytes() == ZOO


def test_a_duplicate_text_is_stored_once_and_the_file_says_so(desk, minilm):
    report = corpus.upload(desk, [("tram-copy.txt", TRAM.encode())], embedder=minilm)
    (result,) = report.files
    assert result.accepted
    assert any("same text as" in w and "Straßenbahnlinie" in w for w in result.warnings)
    assert ids(desk) == ["tram.txt"]


def test_uploaded_files_are_what_the_command_line_ingest_sees(desk, minilm):
    corpus.upload(desk, [("zoo.txt", ZOO), ("feed.jsonl", ROWS)], embedder=minilm)
    summary = run_ingest([desk.corpus_dir], desk, embedder=minilm)
    assert summary.unchanged == 4 and not summary.changed  # same ids, same versions


def test_an_unusable_corpus_folder_is_one_clear_error(tmp_path, make_settings, minilm):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings = make_settings(corpus_dir=blocker / "corpus", embedding_model=MINILM_MODEL)
    with pytest.raises(corpus.CorpusError, match="Set RAG_CORPUS_DIR to a writable folder"):
        corpus.upload(settings, [("zoo.txt", ZOO)], embedder=minilm)


# --- remove -------------------------------------------------------------------------------
def test_removing_an_article_moves_its_file_aside_so_no_refresh_brings_it_back(desk, minilm):
    corpus.upload(desk, [("zoo.txt", ZOO)], embedder=minilm)
    report = corpus.remove(desk, "zoo.txt")
    assert [e.title for e in report.removed] == [ZOO_TITLE]
    assert report.moved_to == desk.corpus_dir / ".removed" / "zoo.txt"
    assert report.moved_to.read_bytes() == ZOO
    assert ids(desk) == ["tram.txt"]
    again = corpus.refresh(desk, minilm)
    assert not again.changed and ids(desk) == ["tram.txt"]
    summary = run_ingest([desk.corpus_dir], desk, embedder=minilm)  # the command line too
    assert not summary.changed
    assert_consistent(Index(desk))


def test_a_second_removal_of_the_same_name_keeps_both_files(desk, minilm):
    corpus.upload(desk, [("zoo.txt", ZOO)], embedder=minilm)
    corpus.remove(desk, "zoo.txt")
    corpus.upload(desk, [("zoo.txt", ZOO.replace(b"Pinguine", b"Robben"))], embedder=minilm)
    report = corpus.remove(desk, "zoo.txt")
    assert report.moved_to == desk.corpus_dir / ".removed" / "zoo-2.txt"
    assert b"Robben" in report.moved_to.read_bytes()
    assert b"Pinguine" in (desk.corpus_dir / ".removed" / "zoo.txt").read_bytes()


def test_one_article_of_a_file_with_several_is_not_removed_alone(desk, minilm):
    corpus.upload(desk, [("feed.jsonl", ROWS)], embedder=minilm)
    refused = corpus.remove(desk, "feed.jsonl:1")
    assert not refused.removed and refused.file_articles == 2
    assert "feed.jsonl holds 2 articles" in refused.refused
    assert "Remove all 2 articles of the file" in refused.refused
    assert ids(desk) == ["feed.jsonl:1", "feed.jsonl:2", "tram.txt"]

    whole = corpus.remove(desk, "feed.jsonl:1", whole_file=True)
    assert sorted(e.title for e in whole.removed) == ["Linz spart", "Wien baut"]
    assert ids(desk) == ["tram.txt"]
    assert not corpus.refresh(desk, minilm).changed


def test_removing_an_article_whose_file_is_gone_removes_it_from_the_index(desk):
    (desk.corpus_dir / "tram.txt").unlink()
    report = corpus.remove(desk, "tram.txt")
    assert report.moved_to is None and [e.article_id for e in report.removed] == ["tram.txt"]
    assert ids(desk) == []
    assert corpus.remove(desk, "tram.txt").refused == "This article is no longer in the archive."


# --- refresh ------------------------------------------------------------------------------
def test_refresh_reports_titles_added_changed_and_removed(desk, minilm):
    folder = desk.corpus_dir
    (folder / "zoo.txt").write_bytes(ZOO)
    article_file(
        folder, "fire.txt", "2025-09-07", "Die Feuerwehr von Salzburg löschte einen Brand."
    )
    corpus.refresh(desk, minilm)

    article_file(folder, "tram.txt", "2025-09-08", "Die Straßenbahnlinie in Graz wurde gesperrt.")
    (folder / "fire.txt").unlink()
    article_file(folder, "bus.txt", "2025-09-10", "Ein neuer Bus fährt in Klagenfurt.")
    (folder / "broken.json").write_text("[{")
    report = corpus.refresh(desk, minilm)
    assert [e.title for e in report.added] == ["Ein neuer Bus fährt in Klagenfurt"]
    assert [e.title for e in report.updated] == ["Die Straßenbahnlinie in Graz wurde gesperrt"]
    assert [e.title for e in report.removed] == ["Die Feuerwehr von Salzburg löschte einen Brand"]
    assert report.unchanged == 1 and report.failed == 1
    assert any("broken.json" in p and "malformed JSON" in p for p in report.problems)


def test_the_listing_names_each_article_and_the_folder_it_came_from(desk, minilm):
    corpus.upload(desk, [("feed.jsonl", ROWS)], embedder=minilm)
    rows = {r.article_id: r for r in corpus.articles(Index(desk))}
    assert rows["tram.txt"].date == "2025-09-06" and rows["tram.txt"].passages == 1
    assert rows["feed.jsonl:2"].title == "Linz spart"
    assert corpus.folders(Index(desk), list(rows.values())) == [str(desk.corpus_dir.resolve())]


# --- one writer at a time -----------------------------------------------------------------
@pytest.mark.slow
def test_while_a_command_line_ingest_writes_nothing_waits_and_uploads_are_kept(
    tmp_path, desk, minilm
):
    other = tmp_path / "other"
    write_articles(other, "cli", 2)
    env = {"RAG_INDEX_DIR": str(desk.index_dir)}
    writer = paused_ingest("records", tmp_path / "flags", [str(other), "-q"], env)
    try:
        started = time.monotonic()
        uploaded = corpus.upload(desk, [("zoo.txt", ZOO), ("x.pdf", b"%PDF")], embedder=minilm)
        refreshed = corpus.refresh(desk, minilm)
        removed = corpus.remove(desk, "tram.txt")
        assert time.monotonic() - started < 30, "an action waited for the other writer"

        holder = f"pid {writer.proc.pid}, started"
        assert uploaded.files[0].accepted and not uploaded.files[1].accepted
        assert holder in uploaded.ingest.busy  # stored, not indexed: said so
        assert (desk.corpus_dir / "zoo.txt").read_bytes() == ZOO
        assert holder in refreshed.busy and not refreshed.changed
        assert holder in removed.busy and not removed.removed
        assert (desk.corpus_dir / "tram.txt").exists()
    finally:
        (tmp_path / "flags" / "go").touch()
    assert writer.finish() == 0, writer.stderr

    report = corpus.refresh(desk, minilm)  # the next refresh indexes the stored upload
    assert [e.article_id for e in report.added] == ["zoo.txt"]
    assert ids(desk) == ["cli0.txt", "cli1.txt", "tram.txt", "zoo.txt"]
    assert_consistent(Index(desk))


def test_no_staging_folder_is_left_and_a_killed_upload_s_is_cleared_later(desk, minilm):
    import os

    killed = desk.corpus_dir / ".upload-killed"
    killed.mkdir()
    (killed / "half.txt").write_bytes(ZOO[:20])
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    running = desk.corpus_dir / ".upload-running"  # another upload, right now
    running.mkdir()
    corpus.upload(desk, [("zoo.txt", ZOO), ("bad.pdf", b"x")], embedder=minilm)
    left = sorted(p.name for p in desk.corpus_dir.iterdir() if p.name.startswith(".upload-"))
    assert left == [".upload-running"]
