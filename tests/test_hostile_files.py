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
from rag.store import Index
from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS

SAMPLE = next(SAMPLE_CORPUS.glob("*.txt"))


def _ingest_cli(*args: str, index_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_PROGRESS": "never",
        "RAG_EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2",  # the packaged one
    }
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


# --- file names that are not UTF-8 ----------------------------------------------------

ODD_NAME = os.fsdecode(b"\xff\xfe-bericht.txt")  # surrogate-escaped, as os.listdir gives it
ODD_ID = "\\xff\\xfe-bericht.txt"  # how the index stores it


def _write_odd(folder: Path, name: str = ODD_NAME) -> Path:
    path = folder / name
    path.write_text(
        " date 2025-09-07 Die Landesregierung beschloss am Montag ein neues Budget.",
        encoding="utf-8",
    )
    return path


def test_non_utf8_file_name_is_indexed_under_an_escaped_id_with_its_batch(
    corpus, make_settings, embedder
):
    _write_odd(corpus)
    settings = make_settings()
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert sorted(summary.added) == sorted([ODD_ID, "kurz.txt"]) and not summary.failed
    records = Index(settings).records()
    assert set(records) == {ODD_ID, "kurz.txt"}
    assert records[ODD_ID].path == str(corpus.resolve() / ODD_ID)


def test_non_utf8_file_name_is_unchanged_on_the_next_run_and_removed_when_deleted(
    corpus, make_settings, embedder
):
    odd = _write_odd(corpus)
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    again = run_ingest([corpus], settings, embedder=embedder)
    assert again.unchanged == 2 and not (again.added or again.updated or again.removed)
    assert again.chunks_written == 0
    odd.unlink()
    after = run_ingest([corpus], settings, embedder=embedder)
    assert (after.removed, after.unchanged) == ([ODD_ID], 1)
    assert set(Index(settings).records()) == {"kurz.txt"}


def test_non_utf8_folder_names_keep_removal_in_scope(tmp_path, make_settings, embedder):
    root = tmp_path / os.fsdecode(b"archiv-\xe4")  # Latin-1 "ä": not UTF-8
    (root / os.fsdecode(b"sub-\xfc")).mkdir(parents=True)
    odd = _write_odd(root / os.fsdecode(b"sub-\xfc"))
    (root / "kurz.txt").write_text(" date 2025-09-06 Ein kurzer Text.", encoding="utf-8")
    settings = make_settings()
    first = run_ingest([root], settings, embedder=embedder)
    assert sorted(first.added) == sorted(["sub-\\xfc/" + ODD_ID, "kurz.txt"])
    odd.unlink()
    after = run_ingest([root], settings, embedder=embedder)
    assert (after.removed, after.unchanged) == (["sub-\\xfc/" + ODD_ID], 1)


def test_escaped_name_does_not_collide_with_a_file_named_like_the_escape(
    corpus, make_settings, embedder
):
    _write_odd(corpus)
    (corpus / ODD_ID).write_text(" date 2025-09-08 Ein anderer Text.", encoding="utf-8")
    summary = run_ingest([corpus], make_settings(), embedder=embedder)
    assert len(set(summary.added)) == 3 and not summary.failed


@pytest.mark.slow
def test_cli_reports_a_broken_file_with_a_non_utf8_name(corpus, tmp_path):
    (corpus / ODD_NAME).write_bytes(b"")  # empty: skipped with a reason naming the file
    _write_odd(corpus, os.fsdecode(b"gut-\xff.txt"))
    out = _ingest_cli(str(corpus), index_dir=tmp_path / "index")
    assert out.returncode == 0, out.stderr
    assert f"{ODD_ID}: empty file" in out.stdout + out.stderr
    out = _ingest_cli(str(corpus), "--json", index_dir=tmp_path / "index")
    summary = json.loads(out.stdout)
    assert (summary["unchanged"], summary["failed"]) == (2, 1)


def test_lone_surrogate_escapes_in_json_records_do_not_lose_the_batch(
    corpus, make_settings, embedder
):
    # "\ud83d" is half an emoji: valid JSON, but no index can store the resulting string
    (corpus / "feed.jsonl").write_text(
        '{"id": "a\\udcff", "title": "Halb \\ud83d", "source": "S\\udfff", '
        '"text": "Ein Text \\ud83d mit halbem Emoji über Wien."}\n',
        encoding="utf-8",
    )
    settings = make_settings()
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert sorted(summary.added) == ["feed.jsonl:a\ufffd", "kurz.txt"]
    assert [w.line for w in summary.warnings] == [1]
    article = Index(settings).get_article("feed.jsonl:a\ufffd")
    assert (article.title, article.source) == ("Halb \ufffd", "S\ufffd")
    assert article.text == "Ein Text \ufffd mit halbem Emoji über Wien."
    again = run_ingest([corpus], settings, embedder=embedder)
    assert again.unchanged == 2
