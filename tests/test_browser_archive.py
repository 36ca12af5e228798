"""The Archive view of the real app in a real browser: list, upload, remove, a busy index.

`streamlit run app.py` (the whole app, its navigation's Archive page) over a small corpus
indexed by `python -m ingest`, driven by headless chromium: the list shows what the
command line indexed; an upload of a good and a bad file stores and lists the good one
and says why the other was refused; a removal asks first, then the article is gone from
the list and its file is out of the corpus; while a command-line ingest writes, an upload
is stored and waits for the next refresh, and a refresh says who writes and changes nothing.

With UPDATE_SCREENSHOT=1 the documentation's screenshots docs/archive.png (the list) and
docs/archive-upload.png (an upload's report) are rewritten from the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from desk.archive import _widget_id
from tests.conftest import PROJECT_ROOT
from tests.servers import start_app, stop
from tests.test_browser import ARTIFACTS, browser, chromium, save_small_png  # noqa: F401
from tests.test_ingest import article_file

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]

MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # fast to load; the model is not under test
SCREENSHOTS = PROJECT_ROOT / "docs"  # archive.png (the list), archive-upload.png
FEED = (
    '{"id": "wien", "title": "Wien baut eine neue U-Bahn", "date": "2025-09-03", '
    '"source": "ORF", "url": "https://orf.at/stories/1/", '
    '"text": "Wien baut eine neue U-Bahn-Linie vom Karlsplatz bis nach Favoriten."}\n'
    '{"id": "linz", "title": "Linz spart beim Licht", "date": "2025-09-01", '
    '"source": "Der Standard", "url": "https://www.derstandard.at/story/2", '
    '"text": "Linz spart bei der Straßenbeleuchtung und schaltet nachts ab."}\n'
)
ZOO = " date 2025-09-09 Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien."


def _env(index_dir: Path, corpus: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_INDEX_DIR=str(index_dir),
        RAG_CORPUS_DIR=str(corpus),
        RAG_EMBEDDING_MODEL=MODEL,
        RAG_LLM_BACKEND="extractive",
        RAG_UI_LANGUAGE="en",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


@pytest.fixture
def live_app(tmp_path):
    """The app on a free port over a small corpus; yields (url, env, corpus folder)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    article_file(corpus, "tram.txt", "2025-09-06", "Graz eröffnet eine neue Straßenbahnlinie.")
    (corpus / "feed.jsonl").write_text(FEED, encoding="utf-8")
    env = _env(tmp_path / "idx", corpus)
    out = subprocess.run(
        [sys.executable, "-m", "ingest", "-q"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    env = {**env, "RAG_CORPUS_DIR": "corpus"}  # as the app's users set it: relative
    proc, url = start_app(tmp_path, env, tmp_path / "streamlit.log", timeout=180)
    yield url, {**env, "RAG_CORPUS_DIR": str(corpus)}, corpus
    stop(proc)


def screenshot(page, name: str) -> None:
    """With UPDATE_SCREENSHOT=1, the documentation's picture `name` from this page."""
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        save_small_png(page.screenshot(), SCREENSHOTS / name)


def row(page, article_id: str):
    return page.locator(f".st-key-archive-row-{_widget_id(article_id)}")


def titles(page, n: int | None = None) -> list[str]:
    """The titles in the article list, in order (once `n` rows are shown, when given)."""
    if n is not None:
        expect(page.locator('[class*="st-key-archive-row-"]')).to_have_count(n, timeout=30_000)
    return [
        t.inner_text().strip() for t in page.locator('[class*="st-key-archive-row-"] strong').all()
    ]


def test_upload_list_and_remove_in_the_browser(browser, live_app):  # noqa: F811
    url, env, corpus = live_app
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{url}/archive")
        page.get_by_text("1–3 of 3 articles").wait_for(timeout=180_000)
        assert titles(page, 3) == [
            "Graz eröffnet eine neue Straßenbahnlinie",
            "Wien baut eine neue U-Bahn",
            "Linz spart beim Licht",
        ]
        wien = row(page, "feed.jsonl:wien")
        assert "ORF" in wien.inner_text() and "3 September 2025" in wien.inner_text()
        link = wien.get_by_role("link", name="original")
        assert link.get_attribute("href") == "https://orf.at/stories/1/"
        overview = page.get_by_text("Indexed from:").inner_text()
        assert "Indexed from: corpus" in overview and "Uploads and refresh use: corpus" in overview
        screenshot(page, "archive.png")

        # Upload a good and a bad file.
        page.get_by_text("Add article files").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [
                {"name": "zoo.txt", "mimeType": "text/plain", "buffer": ZOO.encode()},
                {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"},
            ]
        )
        page.get_by_role("button", name="Add 2 file(s) to the archive").click()
        page.get_by_text("1 file(s) stored, 1 refused.").wait_for(timeout=120_000)
        body = page.locator("section.main, [data-testid='stMain']").first.inner_text()
        assert "zoo.txt: stored, 1 article(s)" in body
        assert "scan.pdf: refused — unknown file type .pdf (supported:" in body
        page.get_by_text("1–4 of 4 articles").wait_for(timeout=30_000)
        assert "Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien" in titles(page, 4)
        assert (corpus / "zoo.txt").read_text(encoding="utf-8") == ZOO
        page.get_by_text(
            "Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien"
        ).first.scroll_into_view_if_needed()
        screenshot(page, "archive-upload.png")

        # Remove one article: asked first, then gone from the list and from the corpus.
        tram = row(page, "tram.txt")
        tram.get_by_role("button", name="Remove").click()
        page.get_by_text("from the archive? Its file goes to the folder").wait_for()
        page.get_by_role("button", name="Yes, remove").click()
        page.get_by_text("Removed: “Graz eröffnet eine neue Straßenbahnlinie”").wait_for(
            timeout=60_000
        )
        page.get_by_text("1–3 of 3 articles").wait_for(timeout=30_000)
        assert "Graz eröffnet eine neue Straßenbahnlinie" not in titles(page, 3)
        assert not (corpus / "tram.txt").exists()
        assert (corpus / ".removed" / "tram.txt").exists()
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "archive-failure.png"), full_page=True)
        raise
    finally:
        context.close()


def test_upload_and_refresh_while_a_command_line_ingest_writes(
    browser,  # noqa: F811
    live_app,
    tmp_path,
):
    """A real `python -m ingest` holds the writer lock mid-write (tests/ingest_pause.py):
    the upload is stored and says it waits for the next refresh, a refresh says who writes
    and changes nothing; once the ingest is done, a refresh indexes the upload."""
    from tests.test_concurrency import paused_ingest, write_articles

    url, env, corpus = live_app
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    flags = tmp_path / "flags"
    try:
        page.goto(f"{url}/archive")
        page.get_by_text("1–3 of 3 articles").wait_for(timeout=180_000)
        write_articles(tmp_path / "other", "cli", 2)
        cli_env = {"RAG_INDEX_DIR": env["RAG_INDEX_DIR"]}
        writer = paused_ingest("records", flags, [str(tmp_path / "other"), "-q"], cli_env)
        holder = f"pid {writer.proc.pid}, started"

        page.get_by_text("Add article files").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [{"name": "zoo.txt", "mimeType": "text/plain", "buffer": ZOO.encode()}]
        )
        page.get_by_role("button", name="Add 1 file(s) to the archive").click()
        stored = page.get_by_text("will be indexed by the next refresh")
        stored.wait_for(timeout=60_000)
        assert holder in stored.inner_text()
        assert (corpus / "zoo.txt").exists()

        page.get_by_role("button", name="Refresh archive").click()
        busy = page.get_by_text("is writing the index right now; nothing was changed")
        busy.wait_for(timeout=60_000)
        assert holder in busy.inner_text()

        (flags / "go").touch()
        assert writer.finish() == 0, writer.stderr
        page.get_by_role("button", name="Refresh archive").click()
        page.get_by_text("1 added, 0 changed, 0 removed").wait_for(timeout=120_000)
        page.get_by_text("1–6 of 6 articles").wait_for(timeout=30_000)
        assert "Der Alpenzoo in Innsbruck bekam zwei Pinguine aus Wien" in titles(page, 6)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "archive-busy-failure.png"), full_page=True)
        raise
    finally:
        flags.mkdir(exist_ok=True)
        (flags / "go").touch()
        context.close()
