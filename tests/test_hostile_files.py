"""Hostile corpus folders: symlink loops and file names that are not UTF-8.

Each case goes through the real ingest (the `python -m ingest` process and the
`run_ingest` core) into a real Chroma index, twice: a problem that is only reported once
and then breaks every later run is still a broken corpus.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS

SAMPLE = next(SAMPLE_CORPUS.glob("*.txt"))


def _ingest_cli(*args: str, index_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_PROGRESS": "never"}
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kurz.txt").write_text(
        " date 2025-09-06 Der Bürgermeister von Graz eröffnete die neue Straßenbahnlinie.",
        encoding="utf-8",
    )
    return folder


def _make_file_loops(folder: Path) -> None:
    (folder / "self.txt").symlink_to(folder / "self.txt")  # ln -s self.txt self.txt
    (folder / "a.txt").symlink_to(folder / "b.txt")  # a.txt -> b.txt -> a.txt
    (folder / "b.txt").symlink_to(folder / "a.txt")


@pytest.mark.slow
def test_file_symlink_loops_are_skipped_with_a_reason_on_every_run(corpus, tmp_path):
    _make_file_loops(corpus)
    for _ in range(2):
        out = _ingest_cli(str(corpus), "--json", index_dir=tmp_path / "index")
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout)
        assert summary["added"] + summary["unchanged"] == 1
        reasons = sorted((Path(p["path"]).name, p["reason"]) for p in summary["problems"])
        assert reasons == [
            ("a.txt", "broken symbolic link or symlink loop"),
            ("b.txt", "broken symbolic link or symlink loop"),
            ("self.txt", "broken symbolic link or symlink loop"),
        ]
    out = _ingest_cli(str(corpus), index_dir=tmp_path / "index")  # the human summary
    assert out.returncode == 0, out.stderr
    assert "self.txt: broken symbolic link or symlink loop" in out.stdout + out.stderr


def test_file_symlink_loop_given_directly_is_a_problem(corpus, make_settings, embedder):
    _make_file_loops(corpus)
    settings = make_settings()
    summary = run_ingest(
        [corpus / "kurz.txt", corpus / "self.txt", corpus / "a.txt"], settings, embedder=embedder
    )
    assert summary.added == ["kurz.txt"]
    assert sorted(Path(p.path).name for p in summary.failed) == ["a.txt", "self.txt"]
