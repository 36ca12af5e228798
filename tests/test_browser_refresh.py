"""The real app in a real browser while a command-line ingest changes the corpus.

One `streamlit run app.py` process (one Assistant shared by every tab, as in production)
answers; between questions `python -m ingest` in another process adds an article,
changes one and deletes one. The app must answer with the new article without a restart
and never show the deleted one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.servers import start_app, stop
from tests.test_browser import ARTIFACTS, ask, browser, chromium, last_answer  # noqa: F401
from tests.test_concurrency import FIRE, TRAM, TRAM_NEW, ZOO
from tests.test_ingest import article_file

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]

MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # fast to load; the model is not under test


def _env(index_dir: Path, corpus: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_INDEX_DIR=str(index_dir),
        RAG_CORPUS_DIR=str(corpus),
        RAG_EMBEDDING_MODEL=MODEL,
        RAG_LLM_BACKEND="extractive",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def _ingest(env: dict[str, str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ingest", "-q"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


@pytest.fixture
def live_app(tmp_path):
    """The app on a free port over a small corpus; yields (url, env for the CLI, corpus)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    article_file(corpus, "tram.txt", "2025-09-06", TRAM)
    article_file(corpus, "fire.txt", "2025-09-07", FIRE)
    env = _env(tmp_path / "idx", corpus)
    _ingest(env)
    proc, url = start_app(tmp_path, env, tmp_path / "streamlit.log")
    yield url, env, corpus
    stop(proc)


def test_app_answers_from_a_cli_ingest_without_restart_and_never_shows_deleted(
    browser,  # noqa: F811 - the imported fixture
    live_app,
):
    url, env, corpus = live_app
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_placeholder("Ask the archive…").wait_for(timeout=180_000)
        ask(page, "Was eröffnete der Bürgermeister von Graz?")
        assert "Straßenbahnlinie" in last_answer(page).inner_text()

        # A journalist refreshes from the command line while the app runs.
        article_file(corpus, "zoo.txt", "2025-09-09", ZOO)
        article_file(corpus, "tram.txt", "2025-09-08", TRAM_NEW)
        (corpus / "fire.txt").unlink()
        _ingest(env)

        ask(page, "Was bekam der Alpenzoo in Innsbruck?")
        text = last_answer(page).inner_text()
        assert "Something went wrong" not in text, text
        assert "Pinguine" in text, text

        ask(page, "Was löschte die Feuerwehr von Salzburg in der Altstadt?")
        text = last_answer(page).inner_text()
        assert "Something went wrong" not in text, text
        assert "Feuerwehr von Salzburg" not in text, text  # the deleted article

        ask(page, "Warum wurde die Straßenbahnlinie in Graz gesperrt?")
        text = last_answer(page).inner_text()
        assert "Defekts gesperrt" in text, text
        assert "Puntigam" not in text, text  # the superseded version
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-refresh-failure.png"), full_page=True)
        raise
    finally:
        context.close()
