"""Several processes on one index: writers exclude each other, readers only ever see
complete current versions and keep working while others write, a rebuild is switched in
when complete. Real Chroma, real processes, real SIGKILL (see tests/ingest_pause.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from rag.store import Index
from tests.conftest import PROJECT_ROOT
from tests.test_ingest import article_file, assert_consistent

# Subprocesses use the small English model: fast to load, and the model is not under test.
MODEL = {"RAG_EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2"}


def write_articles(folder: Path, prefix: str, n: int, variant: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        article_file(
            folder,
            f"{prefix}{i}.txt",
            f"2025-10-{1 + i:02d}",
            f"Meldung {prefix}{i}{variant}: Der Gemeinderat von Linz beschloss ein Budget von "
            f"{i} Millionen Euro für Schulen.",
            f"Die Opposition kritisierte den Plan {prefix}{i}{variant} als unzureichend.",
        )


class Proc:
    """A CLI process whose stderr is collected in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, **MODEL, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr = ""
        self.stdout = ""
        self._threads = [
            threading.Thread(target=self._pump, args=("stderr",), daemon=True),
            threading.Thread(target=self._pump, args=("stdout",), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, name: str) -> None:
        for line in getattr(self.proc, name):
            setattr(self, name, getattr(self, name) + line)

    def wait_for(self, predicate, timeout: float = 120) -> bool:
        """Poll until predicate(self) or the process ends; True when the predicate held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the pumps drain
                return predicate(self)
            time.sleep(0.05)
        return False

    def finish(self, timeout: float = 180) -> int:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        return code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def paused_ingest(point: str, flags: Path, args: list[str], env: dict[str, str]) -> Proc:
    """An ingest that stops at `point` (tests/ingest_pause.py); waits until it got there."""
    flags.mkdir(parents=True, exist_ok=True)
    proc = Proc(["tests.ingest_pause", point, str(flags), *args], env)
    assert proc.wait_for(lambda p: (flags / "paused").exists(), timeout=180), (
        f"the ingest never reached {point}:\n{proc.stderr[-2000:]}"
    )
    return proc


# --- 1. one writer at a time ------------------------------------------------------------


@pytest.mark.slow
def test_overlapping_ingests_wait_for_each_other_and_lose_no_article(tmp_path, make_settings):
    index_dir = tmp_path / "idx"
    env = {"RAG_INDEX_DIR": str(index_dir)}
    write_articles(tmp_path / "first", "a", 3)
    write_articles(tmp_path / "second", "b", 2)
    flags = tmp_path / "flags"
    first = paused_ingest("records", flags, [str(tmp_path / "first"), "-q"], env)

    refused = Proc(["ingest", str(tmp_path / "second"), "--no-wait", "-q"], env)
    assert refused.finish() != 0
    assert f"another ingest (pid {first.proc.pid}, started" in refused.stderr
    assert "--no-wait" in refused.stderr and "Traceback" not in refused.stderr

    second = Proc(["ingest", str(tmp_path / "second"), "-q"], env)
    said = second.wait_for(lambda p: "waiting" in p.stderr, timeout=120)
    (flags / "go").touch()
    assert first.finish() == 0, first.stderr
    assert second.finish() == 0, second.stderr
    assert said, f"the second ingest did not say it waits:\n{second.stderr}"
    assert f"another ingest (pid {first.proc.pid}, started" in second.stderr
    index = Index(make_settings(index_dir=index_dir))
    assert_consistent(index)
    assert sorted(index.records()) == ["a0.txt", "a1.txt", "a2.txt", "b0.txt", "b1.txt"]


@pytest.mark.slow
def test_a_killed_writer_releases_the_lock(tmp_path, make_settings):
    index_dir = tmp_path / "idx"
    env = {"RAG_INDEX_DIR": str(index_dir)}
    write_articles(tmp_path / "c", "c", 2)
    first = paused_ingest("records", tmp_path / "flags", [str(tmp_path / "c"), "-q"], env)
    first.kill()
    again = Proc(["ingest", str(tmp_path / "c"), "--no-wait", "-q"], env)
    assert again.finish() == 0, again.stderr
    index = Index(make_settings(index_dir=index_dir))
    assert_consistent(index)
    assert sorted(index.records()) == ["c0.txt", "c1.txt"]


def test_the_writer_lock_is_exclusive_and_names_its_holder(make_settings):
    from rag.lock import IndexBusy, writer_lock

    settings = make_settings()
    busy = rf"another ingest \(pid {os.getpid()}, started"
    with writer_lock(settings, wait=False), pytest.raises(IndexBusy, match=busy):  # noqa: SIM117
        with writer_lock(settings, wait=False):
            pass
    with writer_lock(settings, wait=False):  # released on exit
        pass


def test_app_refresh_while_another_ingest_writes_says_so(tmp_path, make_settings, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from rag.lock import writer_lock

    corpus = tmp_path / "corpus"
    write_articles(corpus, "d", 1)
    settings = make_settings(corpus_dir=corpus)
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    with writer_lock(settings, wait=False):
        at.button(key="archive-refresh-sidebar").click().run()
    warnings = " ".join(w.value for w in at.sidebar.warning).lower()
    assert "another ingest" in warnings and "writing the index" in warnings
    assert Index(settings).stats().articles == 0


def test_record_without_its_chunks_is_reported_and_repaired(tmp_path, make_settings, embedder):
    folder = tmp_path / "e"
    write_articles(folder, "e", 2)
    settings = make_settings()
    run_ingest([folder], settings, embedder=embedder)
    index = Index(settings)
    lost = [
        cid for (aid, _), ids in index.chunk_versions().items() if aid == "e1.txt" for cid in ids
    ]
    index.delete_chunks(lost)  # what an overlapping run's clean-up used to do
    assert index.stats().incomplete_articles == 1
    dry = run_ingest([folder], settings, embedder=embedder, dry_run=True)
    assert dry.incomplete == ["e1.txt"]
    summary = run_ingest([folder], settings, embedder=embedder)
    assert summary.added == ["e1.txt"]
    index = Index(settings)
    assert_consistent(index)
    assert index.stats().incomplete_articles == 0


@pytest.mark.slow
def test_stats_json_counts_incomplete_articles(tmp_path, make_settings, embedder):
    folder = tmp_path / "f"
    write_articles(folder, "f", 2)
    settings = make_settings()
    run_ingest([folder], settings, embedder=embedder)
    index = Index(settings)
    index.delete_chunks([next(iter(index.chunk_versions().values()))[0]])
    out = subprocess.run(
        [sys.executable, "-m", "rag", "stats", "--json"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RAG_INDEX_DIR": str(settings.index_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["incomplete_articles"] == 1 and stats["writer"] is None


# --- 5. a long-running reader keeps answering while other processes write ---------------

TRAM = "Der Bürgermeister von Graz eröffnete am Samstag die neue Straßenbahnlinie nach Puntigam."
TRAM_NEW = "Die neue Straßenbahnlinie in Graz wurde am Montag wegen eines Defekts gesperrt."
FIRE = "Die Feuerwehr von Salzburg löschte in der Nacht einen Brand in der Altstadt."
ZOO = "Der Alpenzoo in Innsbruck bekam zwei junge Pinguine aus einem Zoo in Schweden."


class Reader(Proc):
    """tests/ask_loop.py: one Assistant for the whole process, like the app."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ask_loop"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **MODEL, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr = ""
        self._threads = [threading.Thread(target=self._pump, args=("stderr",), daemon=True)]
        self._threads[0].start()
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}, self.stderr

    def ask(self, question: str) -> dict:
        self.proc.stdin.write(question + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the reader died:\n{self.stderr[-3000:]}"
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.finish()


def _ingest(folder: Path, env: dict[str, str], *extra: str) -> None:
    done = Proc(["ingest", str(folder), "-q", *extra], env)
    assert done.finish() == 0, done.stderr


def _assert_quotes_match(answer: dict, settings) -> None:
    index = Index(settings)
    for c in answer["citations"]:
        article = index.get_article(c["article_id"])
        assert article is not None, f"cited {c['article_id']}, which has no record"
        assert article.text[c["start"] : c["end"]] == c["quote"], c


@pytest.fixture
def news(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    article_file(folder, "tram.txt", "2025-09-06", TRAM)
    article_file(folder, "fire.txt", "2025-09-07", FIRE)
    return folder


@pytest.mark.slow
def test_a_long_running_reader_answers_after_an_ingest_in_another_process(
    tmp_path, news, make_settings
):
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx")}
    settings = make_settings(index_dir=tmp_path / "idx")
    _ingest(news, env)
    reader = Reader(env)
    try:
        first = reader.ask("Straßenbahnlinie Graz Bürgermeister")
        assert first["ok"] and first["citations"][0]["article_id"] == "tram.txt", first
        # Another process changes one article, deletes one and adds one.
        article_file(news, "tram.txt", "2025-09-08", TRAM_NEW)
        (news / "fire.txt").unlink()
        article_file(news, "zoo.txt", "2025-09-09", ZOO)
        _ingest(news, env)
        new = reader.ask("Pinguine im Alpenzoo Innsbruck")
        assert new["ok"], new
        assert new["citations"] and new["citations"][0]["article_id"] == "zoo.txt", new
        gone = reader.ask("Brand in der Salzburger Altstadt, Feuerwehr")
        assert gone["ok"], gone
        assert "fire.txt" not in gone["passages"], gone
        changed = reader.ask("Straßenbahnlinie Graz gesperrt Defekt")
        assert changed["ok"], changed
        assert changed["citations"][0]["article_id"] == "tram.txt", changed
        assert "gesperrt" in changed["citations"][0]["quote"], changed
        _assert_quotes_match(changed, settings)
    finally:
        reader.close()


# --- 2. readers only ever see complete, current versions --------------------------------


def _assert_committed(answer: dict, settings, never: set[str] = frozenset()) -> None:
    """Every citation is of a committed article, its quote is the article's text at its
    offsets, and it names the version it was checked against."""
    assert answer["ok"], answer
    index = Index(settings)
    records = index.records()
    for c in answer["citations"]:
        assert c["article_id"] not in never, c
        assert c["article_id"] in records, f"cited {c['article_id']}, which has no record"
        article = index.get_article(c["article_id"])
        assert article.text[c["start"] : c["end"]] == c["quote"], c
        assert c["version"] == records[c["article_id"]].version, c
    for aid in answer["passages"]:
        assert aid not in never and aid in records, aid


def _ask_cli(question: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "rag", "ask", question, "--json"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **MODEL, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    return {"ok": True, "citations": answer["citations"], "passages": []}


@pytest.mark.slow
def test_searches_during_and_after_a_killed_ingest_see_only_committed_versions(
    tmp_path, news, make_settings
):
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx")}
    settings = make_settings(index_dir=tmp_path / "idx")
    _ingest(news, env)
    reader = Reader(env)
    try:
        # Chunks of a changed and of a new article written, their records not yet.
        article_file(news, "tram.txt", "2025-09-08", TRAM_NEW)
        article_file(news, "zoo.txt", "2025-09-09", ZOO)
        writer = paused_ingest("records", tmp_path / "f1", [str(news), "-q"], env)
        for question in ("Straßenbahnlinie Graz gesperrt Defekt", "Pinguine Alpenzoo Innsbruck"):
            _assert_committed(reader.ask(question), settings, never={"zoo.txt"})
        _assert_committed(_ask_cli("Pinguine Alpenzoo Innsbruck", env), settings, {"zoo.txt"})
        writer.kill()  # SIGKILL between the chunks and their records
        for question in ("Straßenbahnlinie Graz gesperrt Defekt", "Pinguine Alpenzoo Innsbruck"):
            _assert_committed(reader.ask(question), settings, never={"zoo.txt"})

        # New records written, the replaced version's chunks not yet deleted.
        writer = paused_ingest("old-chunks", tmp_path / "f2", [str(news), "-q"], env)
        assert Index(settings).get_article("tram.txt").text == TRAM_NEW
        answer = reader.ask("Bürgermeister Graz eröffnete Straßenbahnlinie Puntigam")
        _assert_committed(answer, settings)
        assert all("Puntigam" not in c["quote"] for c in answer["citations"]), answer
        writer.kill()
        _assert_committed(reader.ask("Straßenbahnlinie Graz Puntigam"), settings)
    finally:
        reader.close()


def _show_article_script(key: str, article_id: str, quote: str, start: int, version: str):
    from desk.chat import Card, show_article
    from rag.answer import Citation

    cite = Citation(
        n=1,
        article_id=article_id,
        title="",
        date=None,
        source="",
        quote=quote,
        start=start,
        end=start + len(quote),
        supported=True,
        support=1.0,
        version=version,
    )
    show_article(Card([1], article_id, "", None, "", "", [cite]), key, "fingerprint")


@pytest.mark.parametrize("same_version", [True, False])
def test_article_view_tells_when_the_article_changed_since_the_answer(
    sample_settings, same_version
):
    from streamlit.testing.v1 import AppTest

    index = Index(sample_settings)
    article_id = next(iter(index.records()))
    article = index.get_article(article_id)
    quote = article.text[10:60]
    version = article.version if same_version else "an-older-version"
    at = AppTest.from_function(
        _show_article_script,
        args=(sample_settings.model_dump_json(), article_id, quote, 10, version),
        default_timeout=60,
    ).run()
    assert not at.exception, at.exception
    notices = " ".join(i.value for i in at.info)
    assert ("has changed since this answer" in notices) is not same_version


# --- 10. a rebuild is built aside and switched in when complete ---------------------------


def _collections(settings) -> list[str]:
    return sorted(c.name for c in Index(settings).client.list_collections())


@pytest.mark.slow
def test_rebuild_serves_the_old_index_until_it_is_complete_and_a_killed_one_is_cleaned_up(
    tmp_path, news, make_settings
):
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx")}
    settings = make_settings(index_dir=tmp_path / "idx")
    _ingest(news, env)
    before = _collections(settings)
    reader = Reader(env)
    try:
        rebuild = paused_ingest("records", tmp_path / "f1", [str(news), "-q", "--rebuild"], env)
        answer = reader.ask("Straßenbahnlinie Graz Bürgermeister")
        assert answer["ok"] and answer["citations"], answer  # not "the index is empty"
        assert Index(settings).stats().articles == 2
        rebuild.kill()
        answer = reader.ask("Straßenbahnlinie Graz Bürgermeister")
        assert answer["ok"] and answer["citations"], answer
        assert len(_collections(settings)) > len(before)  # the abandoned generation

        _ingest(news, env)  # the next run removes it
        assert _collections(settings) == before

        _ingest(news, env, "--rebuild")
        after = _collections(settings)
        assert len(after) == len(before) + 1  # the new generation and its pointer
        assert not set(after) & {settings.collection, f"{settings.collection}-articles"}
        answer = reader.ask("Brand in der Altstadt von Salzburg")
        assert answer["ok"] and answer["citations"][0]["article_id"] == "fire.txt", answer
        assert_consistent(Index(settings))
    finally:
        reader.close()


@contextlib.contextmanager
def read_only(folder: Path):
    """Make a folder tree unwritable, also for root (chattr +i), for the block; or skip."""
    import shutil
    import stat

    if os.geteuid() == 0:  # root ignores permissions, not the immutable attribute
        chattr = shutil.which("chattr")
        if not chattr:
            pytest.skip("running as root without chattr: cannot make a folder read-only")
        made = subprocess.run([chattr, "-R", "+i", str(folder)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"running as root and chattr +i failed: {made.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run([chattr, "-R", "-i", str(folder)], check=True)
        return
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield
    finally:
        for p in reversed(paths):
            p.chmod(modes[p])


def _folder_state(folder: Path) -> list:
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in [folder, *folder.rglob("*")]
    )


@pytest.mark.slow
def test_a_valid_index_in_a_read_only_folder_answers_questions(tmp_path):
    from tests.conftest import SAMPLE_CORPUS

    index_dir = tmp_path / "idx"
    env = {"RAG_INDEX_DIR": str(index_dir)}
    _ingest(SAMPLE_CORPUS, env)
    before = _folder_state(index_dir)
    with read_only(index_dir):
        asked = Proc(["rag", "ask", "Was sagte Peskow?", "--json"], env)
        assert asked.finish() == 0, asked.stderr
        assert json.loads(asked.stdout)["citations"], asked.stdout
        stats = Proc(["rag", "stats", "--json"], env)
        assert stats.finish() == 0, stats.stderr
        shown = json.loads(stats.stdout)
        assert (shown["articles"], shown["date_min"], shown["incomplete_articles"]) == (
            1,
            "2025-09-05",
            0,
        )
    assert _folder_state(index_dir) == before
