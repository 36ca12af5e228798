"""The ingest progress bar follows the RAG_PROGRESS setting (auto: only on a terminal)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


def _dry_run(corpus, tmp_path, progress: str | None) -> str:
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index")}
    env.pop("RAG_PROGRESS", None)
    if progress is not None:
        env["RAG_PROGRESS"] = progress
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--dry-run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.txt").write_text(f"Artikel Nummer {n} über Wien.", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "progress, shown",
    [("always", True), ("1", True), ("never", False), (None, False)],
)
def test_progress_bar_follows_the_setting_when_stderr_is_not_a_terminal(
    corpus, tmp_path, progress, shown
):
    assert ("3/3 [" in _dry_run(corpus, tmp_path, progress)) is shown


def test_bad_progress_value_names_the_variable(corpus, tmp_path):
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_PROGRESS": "sometimes"}
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--dry-run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "RAG_PROGRESS" in done.stderr
