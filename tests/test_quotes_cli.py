"""`python -m rag quotes`, `rag speakers` and the statement numbers of `rag stats`: the
command-line contract, on the sample index with its hand-written statements
(tests/quotes_fixtures.py), through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.__main__ import main
from rag.store import Index
from tests.conftest import PROJECT_ROOT
from tests.quotes_fixtures import quotes_index_dir, quotes_settings  # noqa: F401 - fixtures

KEYS = {
    "speaker", "mention", "role", "form", "cue", "text", "article_id", "title", "date",
    "source", "start", "end", "score",
}  # fmt: skip


@pytest.fixture
def cli(quotes_settings, monkeypatch, capsys):  # noqa: F811 - the fixture
    """Run `python -m rag ARGS` in this process against the index; (exit code, out, err)."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(quotes_settings.index_dir))
    monkeypatch.chdir(quotes_settings.index_dir)  # no developer .env

    def run(*args: str):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_quotes_json_is_the_contract_and_every_text_is_the_article_text(
    quotes_settings,  # noqa: F811 - the fixture
):
    env = {**os.environ, "RAG_INDEX_DIR": str(quotes_settings.index_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "rag", "quotes", "Peskow", "--about", "NATO troops", "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"speaker", "statements"} and out["speaker"] == "Peskow"
    statements = out["statements"]
    assert statements and all(set(s) == KEYS for s in statements)
    assert {s["speaker"] for s in statements} == {"Dmitri Peskow"}
    assert {s["form"] for s in statements} >= {"direct", "indirect"}
    assert "NATO" in statements[0]["text"]
    scores = [s["score"] for s in statements]
    assert scores == sorted(scores, reverse=True)
    index = Index(quotes_settings)
    for s in statements:
        article = index.get_article(s["article_id"])
        assert article.text[s["start"] : s["end"]] == s["text"]
        assert s["title"] == article.title and s["date"] == article.date


def test_without_topic_newest_first_and_limit(cli):
    code, out, _ = cli("quotes", "Dmitry Peskov", "--json", "--limit", "3")
    assert code == 0
    statements = json.loads(out)["statements"]
    assert len(statements) == 3
    assert [s["score"] for s in statements] == [0.0, 0.0, 0.0]


def test_date_range(cli):
    code, out, _ = cli("quotes", "Putin", "--since", "2025-09-06", "--json")
    assert code == 0 and json.loads(out)["statements"] == []
    code, out, _ = cli("quotes", "Putin", "--until", "2025-09-05", "--json")
    assert len(json.loads(out)["statements"]) == 3


def test_text_output_lists_statements_with_their_articles(cli):
    code, out, _ = cli("quotes", "Selenskyj")
    assert code == 0
    assert out.startswith("Wolodymyr Selenskyj (Präsident): 2 statements, newest first")
    assert "„Ja, es werden definitiv Tausende sein, nicht nur ein paar“" in out
    assert "direct, “sagte”, named as “er”" in out


def test_unknown_name_is_no_error_and_suggests_close_names(cli):
    code, out, _ = cli("quotes", "Putn")
    assert code == 0
    assert "No statements by Putn in the index." in out and "Did you mean: Putin?" in out
    code, out, _ = cli("quotes", "Putn", "--json")
    assert json.loads(out) == {"speaker": "Putn", "statements": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quotes", "   "], "The name is empty"),
        (["quotes", "Putin", "--since", "2025-10-01", "--until", "2025-09-01"], "swap them"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_1(cli, args, message):
    code, _, err = cli(*args)
    assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--limit", "0"], ["--limit", "many"], ["--since", "yesterday"]])
def test_bad_options_are_rejected_by_the_parser(cli, args):
    with pytest.raises(SystemExit) as exit_:
        cli("quotes", "Putin", *args)
    assert exit_.value.code == 2


def test_empty_index_says_how_to_fill_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    assert main(["quotes", "Putin"]) == 1
    assert "The index is empty. Run: python -m ingest" in capsys.readouterr().err


def test_index_without_statements_says_how_to_build_them(sample_settings, monkeypatch, capsys):
    from rag.quotes.store import StatementIndex

    StatementIndex(Index(sample_settings)).drop()  # an index built before statements
    monkeypatch.setenv("RAG_INDEX_DIR", str(sample_settings.index_dir))
    monkeypatch.chdir(sample_settings.index_dir)
    assert main(["speakers"]) == 1
    assert "no statement index yet" in capsys.readouterr().err


def test_speakers_most_quoted_first_with_dates(cli):
    code, out, _ = cli("speakers", "--json")
    assert code == 0
    speakers = json.loads(out)["speakers"]
    assert speakers[0] == {
        "speaker": "Dmitri Peskow", "kind": "person", "role": "Kreml-Sprecher", "count": 7,
        "first_date": "2025-09-05", "last_date": "2025-09-05",
    }  # fmt: skip
    counts = [s["count"] for s in speakers]
    assert counts == sorted(counts, reverse=True)
    assert {"speaker": "Kreml", "kind": "institution"}.items() <= speakers[-1].items()
    code, out, _ = cli("speakers")
    assert out.splitlines()[0].split() == [
        "7",
        "Dmitri",
        "Peskow",
        "2025-09-05",
        "(Kreml-Sprecher)",
    ]


def test_stats_json_gains_statements_and_speakers_and_keeps_every_key(cli):
    code, out, _ = cli("stats", "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["statements"] == 16 and stats["speakers"] == 6
    for key in ("articles", "chunks", "embedding_model", "date_min", "date_max",
                "last_refresh", "incomplete_articles", "writer", "truncated_chunks"):  # fmt: skip
        assert key in stats
    code, out, _ = cli("stats")
    assert "statements:      16 by 6 named speakers" in out


# --- named speakers of real articles (10kGNAD) ----------------------------------------------


@pytest.fixture(scope="module")
def gnad_quotes_index(data_dir, tmp_path_factory, embedder):
    """The 10kGNAD test articles of tests/quotes_gold.py, ingested like any corpus."""
    import csv

    from ingest.pipeline import run_ingest
    from rag.settings import Settings
    from tests.quotes_gold import GOLD

    source = data_dir / "10kGNAD" / "test.csv"
    if not source.is_file():
        pytest.skip(f"10kGNAD not found at {source}")
    with source.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    with (data_dir / "10kGNAD" / "dates.csv").open(encoding="utf-8") as f:
        dates = {int(r["row"]): r["date"] for r in csv.DictReader(f)}
    folder = tmp_path_factory.mktemp("gnad-quotes")
    records = [
        {"id": f"gnad-{row}", "date": dates.get(row), "source": "DER STANDARD",
         "text": rows[row][1]}
        for row in sorted({g.row for g in GOLD})
    ]  # fmt: skip
    (folder / "articles.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    settings = Settings(_env_file=None, index_dir=folder / "index")
    summary = run_ingest([folder / "articles.jsonl"], settings, embedder=embedder)
    assert not summary.failed
    return settings


def test_rag_quotes_finds_named_speakers_statements_in_real_articles(
    gnad_quotes_index, monkeypatch, capsys
):
    from tests.quotes_gold import GOLD

    monkeypatch.setenv("RAG_INDEX_DIR", str(gnad_quotes_index.index_dir))
    monkeypatch.chdir(gnad_quotes_index.index_dir)
    index = Index(gnad_quotes_index)
    found, missed = [], []
    for gold in GOLD:
        assert main(["quotes", gold.name, "--json", "--limit", "100"]) == 0
        statements = json.loads(capsys.readouterr().out)["statements"]
        aid = f"articles.jsonl:gnad-{gold.row}"
        text = index.get_article(aid).text
        start = text.find(gold.statement)
        end = start + len(gold.statement)
        hit = any(
            s["article_id"] == aid and s["start"] < end and start < s["end"] for s in statements
        )
        (found if hit else missed).append(gold)
    share = len(found) / len(GOLD)
    later = [g for g in GOLD if g.later]
    later_share = sum(g in found for g in later) / len(later)
    missed_names = [(g.row, g.name) for g in missed]
    print(f"\nnamed speakers' statements found: {len(found)}/{len(GOLD)} = {share:.3f}; "
          f"named earlier: {later_share:.3f}; missed: {missed_names}")  # fmt: skip
    assert share >= 0.9, missed
    assert later_share >= 0.8, [g for g in missed if g.later]
