"""bench/scale.py at a small size: it builds what it says, measures through the product,
leaves a kept index exactly as built, measures a kept index again, and refuses bad input
with one line. Real data (10kGNAD, XQuAD), the real default model, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

BENCH = PROJECT_ROOT / "bench" / "scale.py"
REQUIRED = [
    "chunks",
    "open_s",
    "p95_ms",
    "refresh_overhead_s",
    "peak_rss_mb",
    "disk_mb",
    "simulated_vectors",
]


def bench(*args: str, data=None) -> subprocess.CompletedProcess:
    extra = ["--data", str(data)] if data is not None else []
    return subprocess.run(
        [sys.executable, str(BENCH), *args, *extra],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_small_run_builds_measures_and_can_measure_its_build_again(data_dir, tmp_path):
    kept = tmp_path / "scale-index"
    small = ["--chunks", "2000", "--questions", "20", "--refresh-articles", "10", "--json"]
    first = bench(*small, "--index", str(kept), data=data_dir)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert list(result)[: len(REQUIRED)] == REQUIRED
    assert result["chunks"] == 2000 and result["simulated_vectors"] is True
    assert 0 < result["real_chunks"] < 2000
    assert result["simulated_chunks"] + result["real_chunks"] == 2000
    assert "SIMULATED" not in first.stdout  # --json prints only the object ...
    assert "SIMULATED vectors" in first.stderr  # ... and says so with the progress
    for key in ("open_s", "p95_ms", "refresh_overhead_s", "peak_rss_mb", "disk_mb"):
        assert result[key] > 0, key
    assert result["questions"] == 20 and result["recall_at_5"] >= 0.8
    assert result["refresh_articles"] == 10 and result["refresh_chunks"] >= 10
    assert result["refresh_embed_s"] < result["refresh_s"]
    assert result["reused_build"] is False

    # The refresh's articles were removed again: the kept index is as built.
    env = {**os.environ, "RAG_INDEX_DIR": str(kept), "HF_HUB_OFFLINE": "1"}
    stats = subprocess.run(
        [sys.executable, "-m", "rag", "stats", "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert stats.returncode == 0, stats.stderr
    stats = json.loads(stats.stdout)
    assert (stats["chunks"], stats["incomplete_articles"]) == (2000, 0)
    assert stats["articles"] == result["articles"]

    assert_statements_as_extracted_in_place(kept)

    again = bench(*small, "--index", str(kept), "--reuse", data=data_dir)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["reused_build"] is True and second["chunks"] == 2000
    assert second["build_s"] == result["build_s"]  # nothing was built again


def assert_statements_as_extracted_in_place(index_dir) -> None:
    """The build extracts statements in a second process, ahead of the writes: what it
    stored must be exactly what the statement index writes when it extracts itself."""
    from rag import schema
    from rag.quotes.extract import extract
    from rag.quotes.store import ROW, STATEMENT, StatementIndex, statement_rows
    from rag.settings import Settings
    from rag.sidecar import ArticleVersion
    from rag.store import Index

    index = Index(Settings(_env_file=None, index_dir=index_dir))
    statements = StatementIndex(index)
    records = index.records()
    synthetic = sorted(aid for aid in records if aid.startswith("archiv-"))
    assert len(synthetic) > 100
    stored_any = 0
    for aid in synthetic[:: len(synthetic) // 60]:
        article, version = index.get_article(aid), records[aid].version
        item = ArticleVersion(article, version, chunk_ids=(), spans=())
        ids, texts, metas = statement_rows(item, extract(article.text))
        got = statements.collection(create=False).get(
            where={"$and": [{schema.ARTICLE_ID: aid}, {ROW: STATEMENT}]},
            include=["documents", "metadatas"],
        )
        stored = sorted(zip(got["ids"], got["documents"], got["metadatas"], strict=True))
        assert stored == sorted(zip(ids, texts, metas, strict=True)), aid
        stored_any += len(stored)
    assert stored_any > 0  # the sample had statements to compare


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chunks", "10"], "too small"),
        ([], "--chunks N is required"),
        (["--chunks", "5000", "--reuse"], "--index DIR"),
    ],
)
def test_bad_arguments_are_one_line(args, message, data_dir):
    out = bench(*args, data=data_dir)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert message in out.stderr


def test_missing_data_names_the_option(tmp_path):
    out = bench("--chunks", "5000", data=tmp_path / "nowhere")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--data" in out.stderr and "nowhere" in out.stderr


def test_a_folder_holding_something_else_is_refused(data_dir, tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    out = bench("--chunks", "5000", "--index", str(folder), data=data_dir)
    assert out.returncode == 2 and "not a scale-bench index" in out.stderr
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_kept_build_of_another_size_is_not_measured_as_this_size(data_dir, tmp_path):
    folder = tmp_path / "kept"
    folder.mkdir()
    manifest = {"build_version": 1, "target_chunks": 50000, "seed": 10, "complete": True}
    (folder / "scale-build.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = bench("--chunks", "2000", "--index", str(folder), "--reuse", data=data_dir)
    assert out.returncode == 2 and "--chunks 50000" in out.stderr
    refused = bench("--chunks", "50000", "--index", str(folder), data=data_dir)
    assert refused.returncode == 2 and "--reuse" in refused.stderr
