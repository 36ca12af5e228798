"""Answers that cite only what carries the answer, one number per article, outlet, date and
URL on every source, and filters that explain themselves (real index, real model)."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures
from fixtures_llm import SAMPLE_ARTICLE

from rag import prompts
from rag.answer import Answer, Citation, describe_filters, group_sources, plain_text
from rag.retrieve import Filters

PESKOW_Q = "What did Peskow say about NATO troops?"
SYRIA_Q = "Welches Giftgas setzten Rebellen in Syrien ein?"
IPHONE_Q = "Wie haben sich die iPhone-Verkaufszahlen von Apple entwickelt?"
JUNE = Filters(date_from="2024-06-01", date_to="2024-06-30")


# --- a small real corpus: the sample article and three 10kGNAD articles with metadata ----
def _gnad_rows(data_dir, rows):
    with (data_dir / "10kGNAD" / "test.csv").open(encoding="utf-8", newline="") as f:
        texts = [r[1] for r in csv.reader(f, delimiter=";", quotechar="'")]
    with (data_dir / "10kGNAD" / "dates.csv").open(encoding="utf-8") as f:
        dates = {int(r["row"]): r["date"] for r in csv.DictReader(f)}
    return [(texts[i], dates.get(i)) for i in rows]


@pytest.fixture(scope="module")
def news_index_dir(tmp_path_factory, data_dir, embedder):
    """Sample article (dated, no outlet) + Syria (dated, DER STANDARD, URL) + iPhone
    (undated, DER STANDARD) + football (dated, ORF)."""
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    (syria, syria_date), (iphone, _), (football, football_date) = _gnad_rows(data_dir, [4, 2, 3])
    corpus = tmp_path_factory.mktemp("news-corpus")
    shutil.copy(SAMPLE_ARTICLE, corpus / SAMPLE_ARTICLE.name)
    records = [
        {
            "id": "syria",
            "title": "Senfgas bei Kämpfen in Syrien",
            "date": syria_date,
            "source": "DER STANDARD",
            "url": "https://www.derstandard.at/story/4",
            "text": syria,
        },
        {"id": "iphone", "title": "iPhone-Verkäufe", "source": "DER STANDARD", "text": iphone},
        {
            "id": "chile",
            "title": "Copa América",
            "date": football_date,
            "source": "ORF",
            "text": football,
        },  # fmt: skip
    ]
    (corpus / "news.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )
    folder = tmp_path_factory.mktemp("news-index")
    summary = run_ingest([corpus], Settings(_env_file=None, index_dir=folder), embedder=embedder)
    assert len(summary.added) == 4 and not summary.failed, summary
    return folder


@pytest.fixture(scope="module")
def news(news_index_dir, embedder):
    """An Assistant (extractive) over the small news index."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings(_env_file=None, index_dir=news_index_dir)
    return Assistant.from_settings(settings, embedder=embedder)


# --- point 2: one article, one number ----------------------------------------------------
def test_passages_of_one_article_share_one_number(make_assistant, qa_parts):
    index, _ = qa_parts
    answer = make_assistant().ask(PESKOW_Q)
    sources = answer.sources
    assert [s.n for s in sources] == list(range(1, len(sources) + 1))
    assert len({s.article_id for s in sources}) == len(sources)  # one number per article
    assert len(answer.citations) >= len(sources)
    numbers = {c.article_id: c.n for c in answer.citations}
    assert all(c.n == numbers[c.article_id] for c in answer.citations)
    # the answer text names each source once per quote, never a passage number
    assert "[2]" not in answer.text or len(sources) >= 2
    for s in sources:
        article = index.get_article(s.article_id)
        for p in s.passages:
            assert article.text[p.start : p.end] == p.quote


def test_json_keeps_every_key_and_adds_the_grouped_sources(make_assistant):
    payload = json.loads(make_assistant().ask(PESKOW_Q).to_json())
    assert set(payload) >= {"answer", "mode", "citations", "notices", "standalone_question"}
    first_release = {"n", "article_id", "title", "date", "source", "quote", "start", "end",
                     "supported", "support", "version"}  # fmt: skip
    for c in payload["citations"]:
        assert set(c) >= first_release | {"url"}
    assert payload["sources"]
    for s in payload["sources"]:
        assert set(s) >= {"n", "article_id", "title", "date", "source", "url", "passages"}
        for p in s["passages"]:
            assert set(p) >= {"quote", "start", "end", "highlight", "supported", "support"}
    cited = {(c["n"], c["start"]) for c in payload["citations"]}
    grouped = {(s["n"], p["start"]) for s in payload["sources"] for p in s["passages"]}
    assert cited == grouped
    assert payload["filters"] == {"date_from": None, "date_to": None, "sources": []}
    assert payload["filter_notes"] == []


def test_group_sources_orders_by_number_and_passages_by_offset():
    def cite(n, article, start):
        return Citation(n, article, "T", None, "ORF", "q", start, start + 1, True, 1.0)

    sources = group_sources([cite(2, "b", 5), cite(1, "a", 90), cite(1, "a", 10)])
    assert [(s.n, s.article_id, [p.start for p in s.passages]) for s in sources] == [
        (1, "a", [10, 90]),
        (2, "b", [5]),
    ]


# --- point 5/6: outlet, date, URL; Markdown export and plain text for a draft --------------
def test_export_and_plain_text_name_outlet_date_title_and_url(news):
    answer = news.ask(SYRIA_Q)
    [source] = answer.sources
    assert source.article_id.endswith(":syria") and source.source == "DER STANDARD"
    md = answer.to_markdown()
    assert f"[1] **Senfgas bei Kämpfen in Syrien** (DER STANDARD, {source.date})" in md
    assert "<https://www.derstandard.at/story/4>" in md
    text = answer.to_text()
    assert f"[1] DER STANDARD, {source.date}: Senfgas bei Kämpfen in Syrien. " in text
    assert text.rstrip().endswith("https://www.derstandard.at/story/4")
    assert "**" not in text and "\n>" not in text and not text.startswith(">")
    assert "Quellen:" in text  # a German question gets German labels


def test_plain_text_drops_markdown_but_keeps_markers():
    assert plain_text("# Titel\n**Fett** und > nicht am Anfang [1]\n> Zitat [2]") == (
        "Titel\nFett und > nicht am Anfang [1]\nZitat [2]"
    )


# --- point 1: only sources that carry the answer -----------------------------------------
def test_an_answer_cites_only_the_article_that_holds_it(news):
    for question, article in ((SYRIA_Q, "syria"), (IPHONE_Q, "iphone")):
        answer = news.ask(question)
        assert [s.article_id for s in answer.sources] == [f"news.jsonl:{article}"], answer.text


def test_nothing_fitting_says_so_plainly_and_cites_nothing(news):
    answer = news.ask("Wer gewann den Eurovision Song Contest 1974?")
    assert answer.text == prompts.NO_ANSWER["de"]
    assert answer.sources == [] and answer.citations == []


# --- point 3: filters recorded and explained ---------------------------------------------
def test_a_date_filter_that_hides_the_answer_says_so(news):
    answer = news.ask(SYRIA_Q, filters=JUNE)
    assert answer.sources == []
    [note] = answer.filter_notes
    assert note.cause == "date_range" and note.articles == 1
    assert note.text == "1 matching article is outside the date range 2024-06-01–2024-06-30"
    assert note.text in answer.notices
    payload = answer.to_dict()
    assert payload["filters"] == {
        "date_from": "2024-06-01",
        "date_to": "2024-06-30",
        "sources": [],
    }
    assert payload["filter_notes"] == [note.to_dict()]
    assert "*Filters: date: 2024-06-01 – 2024-06-30*" in answer.to_markdown()


def test_undated_articles_left_out_by_a_date_filter_are_named(news):
    answer = news.ask(IPHONE_Q, filters=Filters(date_from="2000-01-01"))
    assert [n.cause for n in answer.filter_notes] == ["undated"]
    assert "no date and is left out by the date filter" in answer.filter_notes[0].text


def test_a_source_filter_that_hides_the_answer_names_the_sources(news):
    answer = news.ask(SYRIA_Q, filters=Filters(sources=("ORF",)))
    assert "news.jsonl:syria" not in {s.article_id for s in answer.sources}
    [note] = answer.filter_notes
    assert note.cause == "sources" and note.text.endswith("from other sources than ORF")


def test_a_filter_that_keeps_the_answer_adds_no_note(news):
    answer = news.ask(SYRIA_Q, filters=Filters(sources=("DER STANDARD",)))
    assert [s.article_id for s in answer.sources] == ["news.jsonl:syria"]
    assert answer.filter_notes == []
    assert describe_filters(answer.filters) == ["sources: DER STANDARD"]


def test_ask_json_carries_filters_and_notes(news_index_dir, tmp_path):
    from test_answer import _ask

    done = _ask([SYRIA_Q, "--since", "2024-06-01", "--until", "2024-06-30", "--json"],
                news_index_dir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["filters"]["date_from"] == "2024-06-01"
    assert [n["cause"] for n in payload["filter_notes"]] == ["date_range"]


def test_answer_without_filters_records_none():
    answer = Answer("q", "q", "t", "extractive", [], [])
    assert answer.to_dict()["filters"] == {"date_from": None, "date_to": None, "sources": []}
    assert describe_filters(answer.filters) == []
