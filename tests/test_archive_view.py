"""The Archive view (desk/archive.py) in Streamlit's AppTest: list, search, sort, pages,
remove with confirmation, upload, refresh, a busy index, German, hostile metadata.

The script under test is `archive_script` below: what app.py's navigation runs for the
Archive page. Real Chroma in a temporary folder, the real ingest, the small English model.
"""

from __future__ import annotations

import html
import json

import pytest

from desk import corpus
from rag.settings import MINILM_MODEL, Settings
from tests.test_ingest import article_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def archive_script():
    """The Archive page as the app runs it (AppTest runs this function's body)."""
    import os

    from desk import archive
    from desk.i18n import set_language
    from rag.settings import load_settings

    set_language(os.environ.get("ARCHIVE_TEST_LANGUAGE", "en"))
    settings = load_settings()
    archive.page(settings, settings.model_dump_json())


RECORDS = [
    {
        "id": "1",
        "title": "Wien baut eine neue U-Bahn",
        "date": "2025-09-03",
        "source": "ORF",
        "url": "https://orf.at/stories/1/",
        "text": "Wien baut eine neue U-Bahn-Linie vom Karlsplatz bis nach Favoriten.",
    },
    {
        "id": "2",
        "title": "[Klick](javascript:alert(1)) Linz spart",
        "date": "2025-09-01",
        "source": "Der Standard",
        "url": "javascript:alert(1)",
        "text": "Linz spart bei der Straßenbeleuchtung und schaltet nachts ab.",
    },
]


@pytest.fixture
def archive(tmp_path, monkeypatch, minilm):
    """A corpus folder with one plain article and one file of two records, indexed."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    article_file(folder, "tram.txt", "2025-09-06", "Graz eröffnet eine neue Straßenbahnlinie.")
    (folder / "feed.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n", encoding="utf-8"
    )
    settings = Settings(
        _env_file=None,
        index_dir=tmp_path / "index",
        corpus_dir=folder,
        embedding_model=MINILM_MODEL,
    )
    corpus.refresh(settings, minilm)
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(folder))
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", MINILM_MODEL)
    monkeypatch.setenv("RAG_LLM_BACKEND", "extractive")
    monkeypatch.chdir(tmp_path)  # no developer .env
    return settings


def run_view():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_function(archive_script, default_timeout=180).run()


def rows(at, raw: bool = False) -> list[str]:
    """The article rows' main lines, in order, as read (or as the Markdown source)."""
    found = [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]
    return found if raw else [html.unescape(r) for r in found]


def texts(elements) -> str:
    """The elements' text as read: character references of escaped text decoded."""
    return html.unescape(" | ".join(e.value for e in elements))


def test_the_list_shows_title_date_outlet_link_and_passages_and_the_folders(archive):
    at = run_view()
    assert not at.exception, at.exception
    assert at.title[0].value == "Archive"
    shown = rows(at)
    assert len(shown) == 3
    first = shown[0]  # newest first
    assert first.startswith("**Graz eröffnet eine neue Straßenbahnlinie**")
    assert "6 September 2025" in first and "outlet unknown" in first and "· 1 passage" in first
    wien = next(r for r in shown if "Wien baut" in r)
    assert "ORF" in wien and "[original](<https://orf.at/stories/1/>)" in wien
    overview = texts(at.caption)
    assert "3 articles, 3 passages." in overview
    assert "Indexed from: corpus" in overview  # below the working folder: relative
    assert "Uploads and refresh use: corpus" in overview


def test_hostile_titles_and_urls_render_as_text_without_links(archive):
    at = run_view()
    linz = next(r for r in rows(at, raw=True) if "Linz spart" in r)
    assert "&#91;Klick&#93;&#40;javascript&#58;alert" in linz  # the title, as text
    assert "](" not in linz and "original" not in linz  # a javascript: URL is no link


def test_search_sort_and_pages(archive, minilm):
    for i in range(30):
        article_file(
            archive.corpus_dir, f"meldung{i:02d}.txt", f"2025-08-{1 + i % 28:02d}",
            f"Meldung {i}: Der Gemeinderat von Steyr beschloss Projekt {i}.",
        )  # fmt: skip
    corpus.refresh(archive, minilm)
    at = run_view()
    assert "1–25 of 33 articles" in texts(at.caption)
    at.number_input(key="archive-page").set_value(2).run()
    assert "26–33 of 33 articles" in texts(at.caption) and len(rows(at)) == 8

    at.text_input(key="archive-search").input("orf wien").run()
    assert [r.split("**")[1] for r in rows(at)] == ["Wien baut eine neue U-Bahn"]
    assert "1–1 of 1 articles" in texts(at.caption)  # back on a page that exists

    at.text_input(key="archive-search").input("steyr").run()
    at.selectbox(key="archive-sort").set_value("oldest").run()
    assert rows(at)[0].startswith("**Meldung 0: Der Gemeinderat")
    at.text_input(key="archive-search").input("nichts dergleichen").run()
    assert "No article matches" in texts(at.info)


def test_remove_asks_first_then_removes_and_moves_the_file_aside(archive):
    from desk.archive import _widget_id

    at = run_view()
    wid = _widget_id("tram.txt")
    at.button(key=f"archive-remove-{wid}").click().run()
    assert "Remove **Graz eröffnet eine neue Straßenbahnlinie** from the archive?" in texts(
        at.warning
    )
    at.button(key=f"archive-no-{wid}").click().run()
    assert not at.warning and len(rows(at)) == 3

    at.button(key=f"archive-remove-{wid}").click().run()
    at.button(key=f"archive-yes-{wid}").click().run()
    assert not at.exception, at.exception
    assert "Removed: “Graz eröffnet eine neue Straßenbahnlinie”" in texts(at.success)
    assert len(rows(at)) == 2 and not any("Graz" in r for r in rows(at))
    assert (archive.corpus_dir / ".removed" / "tram.txt").exists()
    assert not (archive.corpus_dir / "tram.txt").exists()


def test_an_article_of_a_file_with_several_offers_to_remove_the_whole_file(archive):
    from desk.archive import _widget_id

    at = run_view()
    wid = _widget_id("feed.jsonl:1")
    at.button(key=f"archive-remove-{wid}").click().run()
    at.button(key=f"archive-yes-{wid}").click().run()
    assert "feed.jsonl holds 2 articles" in texts(at.warning)
    assert len(rows(at)) == 3
    at.button(key="archive-remove-all").click().run()
    assert not at.exception, at.exception
    assert [r.split("**")[1] for r in rows(at)] == ["Graz eröffnet eine neue Straßenbahnlinie"]
    assert (archive.corpus_dir / ".removed" / "feed.jsonl").exists()


def test_upload_shows_each_file_stored_or_refused_and_lists_the_new_article(archive):
    at = run_view()
    zoo = b" date 2025-09-09 Der Alpenzoo in Innsbruck bekam zwei Pinguine."
    at.file_uploader[0].set_value(
        [
            ("zoo.txt", zoo, "text/plain"),
            ("scan.pdf", b"%PDF-1.4", "application/pdf"),
            ("empty.md", b"", "text/markdown"),
        ]
    ).run()
    at.button(key="archive-upload-go").click().run()
    assert not at.exception, at.exception
    assert "1 file(s) stored, 2 refused." in texts(at.warning)
    report = texts(at.markdown)
    assert "zoo.txt: stored, 1 article(s)" in report
    assert "scan.pdf: refused — unknown file type .pdf" in report
    assert "empty.md: refused — empty file" in report
    assert "**Added (1)**" in report and "Der Alpenzoo in Innsbruck bekam zwei Pinguine" in report
    assert any(r.startswith("**Der Alpenzoo") for r in rows(at))
    assert (archive.corpus_dir / "zoo.txt").read_bytes() == zoo


def test_refresh_names_what_it_added_changed_and_removed(archive):
    at = run_view()
    article_file(archive.corpus_dir, "bus.txt", "2025-09-10", "Ein neuer Bus fährt in Villach.")
    article_file(archive.corpus_dir, "tram.txt", "2025-09-07", "Graz sperrt die Straßenbahn.")
    (archive.corpus_dir / "feed.jsonl").unlink()
    at.button(key="archive-refresh-page").click().run()
    assert not at.exception, at.exception
    assert "1 added, 1 changed, 2 removed, 0 unchanged" in texts(at.success)
    report = texts(at.markdown)
    assert "**Added (1)**\n\n- Ein neuer Bus fährt in Villach" in report
    assert "**Changed (1)**\n\n- Graz sperrt die Straßenbahn" in report
    assert "**Removed (2)**" in report and "Wien baut eine neue U-Bahn" in report


def test_while_another_ingest_writes_nothing_waits_and_uploads_are_stored(archive):
    from rag.lock import writer_lock

    at = run_view()
    zoo = b" date 2025-09-09 Der Alpenzoo in Innsbruck bekam zwei Pinguine."
    with writer_lock(archive, wait=False):  # as a command-line ingest would hold it
        at.button(key="archive-refresh-page").click().run()
        assert "Another ingest (pid" in texts(at.warning) and "nothing was changed" in texts(
            at.warning
        )
        at.file_uploader[0].set_value(("zoo.txt", zoo, "text/plain")).run()
        at.button(key="archive-upload-go").click().run()
        warned = texts(at.warning)
        assert "will be indexed by the next refresh" in warned
        wid = __import__("desk.archive").archive._widget_id("tram.txt")
        at.button(key=f"archive-remove-{wid}").click().run()
        at.button(key=f"archive-yes-{wid}").click().run()
        assert "nothing was changed" in texts(at.warning)
    assert (archive.corpus_dir / "zoo.txt").exists() and (archive.corpus_dir / "tram.txt").exists()
    assert len(rows(at)) == 3  # nothing indexed meanwhile
    at.button(key="archive-refresh-page").click().run()
    assert "1 added" in texts(at.success)


def test_the_view_speaks_german(archive, monkeypatch):
    monkeypatch.setenv("ARCHIVE_TEST_LANGUAGE", "de")
    at = run_view()
    assert at.title[0].value == "Archiv"
    assert "3 Artikel, 3 Textstellen." in texts(at.caption)
    first = rows(at)[0]
    assert "6. September 2025" in first and "Medium unbekannt" in first
    assert "· 1 Textstelle" in first
    assert at.button(key="archive-refresh-page").label == "Archiv aktualisieren"
    assert at.selectbox(key="archive-sort").options[0] == "neueste zuerst"


def test_an_empty_archive_says_how_to_fill_it_and_takes_a_first_upload(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", MINILM_MODEL)
    monkeypatch.chdir(tmp_path)
    at = run_view()
    assert not at.exception, at.exception
    assert "The archive is empty" in texts(at.info)
    assert "0 articles" in texts(at.caption)
    zoo = b" date 2025-09-09 Der Alpenzoo in Innsbruck bekam zwei Pinguine."
    at.file_uploader[0].set_value(("zoo.txt", zoo, "text/plain")).run()
    at.button(key="archive-upload-go").click().run()
    assert not at.exception, at.exception
    assert "1 file(s) stored, 0 refused." in texts(at.success)
    assert [r.split("**")[1] for r in rows(at)] == ["Der Alpenzoo in Innsbruck bekam zwei Pinguine"]
    assert (tmp_path / "corpus" / "zoo.txt").read_bytes() == zoo
