"""Server mode end to end: a real `chroma run`, the real ingest command, and readers in
other processes, all configured only through the environment as a deployment would be.

The newsroom setup this mirrors (docs/scale.md): one Chroma server; the writer lock and
the keyword index in folders on the machine that runs the app and the ingest
(RAG_LOCK_DIR, RAG_KEYWORD_DIR); the local embedded-index folder is never used.
Every process loads the product's default model (multilingual-e5-small), as deployed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chroma_server import chroma_server
from tests.conftest import PROJECT_ROOT
from tests.servers import free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

ARTICLES = {
    "graz.md": (
        "Neue Straßenbahnlinie in Graz",
        "2026-03-02",
        "Die Grazer Verkehrsbetriebe eröffnen am Montag die neue Straßenbahnlinie 8 in den "
        "Stadtteil Reininghaus. Bürgermeisterin Elke Kahr sprach von einem Meilenstein für "
        "den öffentlichen Verkehr. Die neue Strecke ist 3,2 Kilometer lang und kostete "
        "74 Millionen Euro.",
    ),
    "salzburg.md": (
        "Rekord bei den Salzburger Festspielen",
        "2026-08-31",
        "Die Salzburger Festspiele verzeichneten in diesem Sommer 250.000 Besucherinnen und "
        "Besucher, so viele wie nie zuvor. Intendant Markus Hinterhäuser kündigte für das "
        "kommende Jahr eine Neuinszenierung des Jedermann an.",
    ),
    "linz.md": (
        "Linz saniert Schulen",
        "2026-05-12",
        "Der Linzer Gemeinderat beschloss ein Budget von zwölf Millionen Euro für die "
        "Sanierung von Pflichtschulen. Die Opposition kritisierte den Plan als unzureichend, "
        "weil der Bedarf bei mehr als dreißig Millionen Euro liege.",
    ),
}
TRAM = "How long is the new tram line in Graz?"
FESTIVAL = "How many visitors did the Salzburg Festival have this summer?"


def write_article(folder: Path, name: str, title: str, date: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"---\ntitle: {title}\ndate: {date}\nsource: Testblatt\n---\n{text}\n", encoding="utf-8"
    )


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


class Reader:
    """A long-running reader process (tests/ask_loop.py: one Assistant, as the app holds)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ask_loop"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self._line()) == {"ready": True}

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            pytest.fail(f"the reader exited ({self.proc.returncode}):\n{self.proc.stderr.read()}")
        return line

    def ask(self, question: str) -> dict:
        self.proc.stdin.write(question + "\n")
        self.proc.stdin.flush()
        out = json.loads(self._line())
        assert out["ok"], out
        return out

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def deployment(tmp_path):
    """A running Chroma server and the environment every newsroom process gets."""
    shared = tmp_path / "newsroom"
    with chroma_server(tmp_path / "chroma") as server:
        env = {
            **server.env,
            "RAG_LOCK_DIR": str(shared / "lock"),
            "RAG_KEYWORD_DIR": str(shared / "keyword"),
            "RAG_INDEX_DIR": str(tmp_path / "unused-local-index"),
        }
        yield server, env, tmp_path / "corpus"


def test_ingest_and_readers_in_other_processes_share_one_chroma_server(deployment, tmp_path):
    server, env, corpus = deployment
    for name, article in ARTICLES.items():
        write_article(corpus, name, *article)

    first = run_cli(["ingest", str(corpus), "--json", "-q"], env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 3

    reader = Reader(env)  # opened once, like the app; must follow later ingests
    try:
        tram = reader.ask(TRAM)
        assert tram["passages"][0] == "graz.md"
        assert any("3,2 Kilometer" in c["quote"] for c in tram["citations"])
        assert "salzburg.md" in reader.ask(FESTIVAL)["passages"]

        # Change one article and delete another, from a separate ingest process.
        title, date, text = ARTICLES["graz.md"]
        write_article(corpus, "graz.md", title, date, text.replace("3,2", "4,1"))
        (corpus / "salzburg.md").unlink()
        second = run_cli(["ingest", str(corpus), "--json", "-q"], env)
        assert second.returncode == 0, second.stderr
        summary = json.loads(second.stdout)
        assert (summary["updated"], summary["removed"], summary["unchanged"]) == (1, 1, 1)

        # The long-running reader sees both changes without a restart ...
        tram = reader.ask(TRAM)
        quotes = " ".join(c["quote"] for c in tram["citations"] if c["article_id"] == "graz.md")
        assert "4,1 Kilometer" in quotes and "3,2" not in quotes
        assert "salzburg.md" not in reader.ask(FESTIVAL)["passages"]
    finally:
        reader.close()

    # ... and so does a fresh command-line process.
    asked = run_cli(["rag", "ask", TRAM, "--json"], env)
    assert asked.returncode == 0, asked.stderr
    citations = json.loads(asked.stdout)["citations"]
    assert citations and {c["article_id"] for c in citations} <= {"graz.md", "linz.md"}
    assert any("4,1 Kilometer" in c["quote"] for c in citations)
    stats = json.loads(run_cli(["rag", "stats", "--json"], env).stdout)
    assert (stats["articles"], stats["incomplete_articles"]) == (2, 0)

    # Everything lives in the server and the configured folders, nothing in a local index.
    local = Path(env["RAG_INDEX_DIR"])
    assert not (local / "chroma.sqlite3").exists() and not any(local.glob("*.keyword"))
    assert any(Path(env["RAG_KEYWORD_DIR"]).glob("articles*.keyword"))
    assert any(Path(env["RAG_LOCK_DIR"]).glob("ingest-127.0.0.1-*.lock"))
    assert (server.data / "chroma.sqlite3").exists()


def test_a_second_writer_waits_for_the_first_through_the_shared_lock(deployment):
    _server, env, corpus = deployment
    for name, article in ARTICLES.items():
        write_article(corpus, name, *article)
    from rag.lock import writer_lock
    from rag.settings import Settings

    settings = Settings(
        _env_file=None,
        chroma_host=env["RAG_CHROMA_HOST"],
        chroma_port=int(env["RAG_CHROMA_PORT"]),
        lock_dir=Path(env["RAG_LOCK_DIR"]),
    )
    with writer_lock(settings):  # another writer, e.g. on a second machine sharing the lock
        busy = run_cli(["ingest", str(corpus), "--no-wait", "-q"], env)
    assert busy.returncode == 1 and "Traceback" not in busy.stderr
    assert "another ingest" in busy.stderr
    done = run_cli(["ingest", str(corpus), "--no-wait", "--json", "-q"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 3


@pytest.mark.parametrize("command", [["rag", "ask", "Wer ist Elke Kahr?"], ["ingest", "."]])
def test_an_unreachable_server_is_one_line_naming_chroma_run(command, tmp_path):
    env = {
        "RAG_CHROMA_HOST": "127.0.0.1",
        "RAG_CHROMA_PORT": str(free_port()),  # nothing listens there
        "RAG_LOCK_DIR": str(tmp_path / "lock"),
        "RAG_INDEX_DIR": str(tmp_path / "index"),
    }
    out = run_cli(command, env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "chroma run" in out.stderr and "RAG_CHROMA_HOST" in out.stderr
