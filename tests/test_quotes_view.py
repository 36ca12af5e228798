"""The "Who said what" view (desk/speakers.py) in Streamlit's AppTest, against a real
index in a temporary folder: the sample article with its statements (written down by
hand in tests/quotes_fixtures.py) and the real default embedding model for topics."""

from __future__ import annotations

import re

import pytest

from tests.quotes_fixtures import quotes_index_dir, quotes_settings  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def speakers_script():
    """The view as app.py's navigation runs it (AppTest runs this function's body)."""
    import os

    from desk import speakers
    from desk.i18n import set_language
    from rag.settings import load_settings

    set_language(os.environ.get("SPEAKERS_TEST_LANGUAGE", "en"))
    settings = load_settings()
    speakers.page(settings, settings.model_dump_json())


@pytest.fixture
def view(quotes_settings, monkeypatch, tmp_path):  # noqa: F811 - the fixture
    monkeypatch.setenv("RAG_INDEX_DIR", str(quotes_settings.index_dir))
    monkeypatch.setenv("RAG_LLM_BACKEND", "extractive")
    monkeypatch.chdir(tmp_path)  # no developer .env

    def start(language: str = "en"):
        from streamlit.testing.v1 import AppTest

        monkeypatch.setenv("SPEAKERS_TEST_LANGUAGE", language)
        at = AppTest.from_function(speakers_script, default_timeout=120)
        return at.run()

    return start


def shown(at) -> str:
    parts = [*at.markdown, *at.caption, *at.info, *at.subheader]
    return "\n".join(p.value for p in parts)


def plain(markdown: str) -> str:
    """Rendered text of escaped Markdown (character references decoded, tags dropped)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", markdown))


def test_picker_lists_the_most_quoted_first_and_shows_their_statements(view):
    at = view()
    assert not at.exception
    picker = at.selectbox(key="speakers-person")
    assert picker.options[0].startswith("Dmitri Peskow (7)")
    at = picker.set_value("Dmitri Peskow").run()
    assert not at.exception
    text = plain(shown(at))
    assert "Kreml-Sprecher" in text
    assert "„Das ist gefährlich für unser Land“" in text
    assert "Heldenstadt Moskau" not in text  # Putin's words are not on Peskow's list
    assert "7 statements, newest first." in text
    assert "Statements per day" in [c.value for c in at.caption]  # the timeline
    assert at.get("vega_lite_chart")


def test_a_link_with_any_spelling_opens_the_person_and_topic(view, monkeypatch):
    from streamlit.testing.v1 import AppTest

    view()
    at = AppTest.from_function(speakers_script, default_timeout=120)
    at.query_params["person"] = "Peskov"  # as a link would name him
    at.query_params["topic"] = "NATO"
    at = at.run()
    assert not at.exception
    assert at.selectbox(key="speakers-person").value == "Dmitri Peskow"
    assert "are about “NATO”" in plain(shown(at))


def test_topic_keeps_statements_on_it_best_first(view):
    at = view()
    at.selectbox(key="speakers-person").set_value("Dmitri Peskow")
    at = at.text_input(key="speakers-topic").input("NATO troops").run()
    assert not at.exception
    text = plain(shown(at))
    assert "are about “NATO troops”, best matches first" in text
    quotes = [plain(m.value) for m in at.markdown if m.value.startswith("> ")]
    assert quotes and "NATO" in quotes[0]
    assert not any("Alaska" in q for q in quotes)


def test_topic_nobody_spoke_about_says_so(view):
    at = view()
    at.selectbox(key="speakers-person").set_value("Johann Wadephul")
    at = at.text_input(key="speakers-topic").input("Fußball").run()
    assert "is quoted on nothing about “Fußball”" in plain(shown(at))


def test_unknown_name_is_a_message_with_suggestions(view):
    from streamlit.testing.v1 import AppTest

    view()
    at = AppTest.from_function(speakers_script, default_timeout=120)
    at.query_params["person"] = "Putn"
    at = at.run()
    assert not at.exception
    assert "No statements by Putn in the index." in plain(shown(at))
    assert "Did you mean: Putin?" in plain(shown(at))


def test_opening_a_statement_highlights_it_in_the_article(view):
    at = view()
    at = at.selectbox(key="speakers-person").set_value("Wolodymyr Selenskyj").run()
    toggles = at.toggle
    assert toggles
    at = toggles[0].set_value(True).run()
    assert not at.exception
    marked = [m.value for m in at.markdown if "<mark" in m.value]
    assert marked
    inside = re.findall(r"<mark[^>]*>(.*?)</mark>", marked[0], re.S)
    assert any("Tausende" in plain(x) or "Stationierung" in plain(x) for x in inside)


def test_date_range_outside_the_statements(view):
    import datetime as dt

    at = view()
    at.selectbox(key="speakers-person").set_value("Putin")
    at = at.date_input(key="speakers-dates").set_value((dt.date(2025, 9, 5),)).run()
    assert not at.exception
    assert "3 statements" in plain(shown(at))


def test_german_interface(view):
    at = view("de")
    at = at.selectbox(key="speakers-person").set_value("Putin").run()
    text = plain(shown(at))
    assert "Wer sagte was" in at.title[0].value
    assert "3 Aussagen, die neuesten zuerst." in text
    assert "indirekte Rede" in text


def test_export_lists_every_statement_with_numbered_sources(quotes_settings, embedder):  # noqa: F811
    from desk.speakers import export_markdown
    from rag.quotes.search import StatementSearch
    from rag.store import Index

    result = StatementSearch(Index(quotes_settings), embedder).search("Peskow", limit=None)
    md = export_markdown("Dmitri Peskow", "NATO", result.statements)
    assert md.startswith("# What Dmitri Peskow said about “NATO”")
    assert md.count(" [1]") == len(result.statements)
    assert "\n[1] " in md and "## Sources" in md
    assert "„Das ist gefährlich für unser Land“" in md


def test_empty_statement_index_explains_how_to_fill_it(sample_settings, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from rag.quotes.store import StatementIndex
    from rag.store import Index

    StatementIndex(Index(sample_settings)).drop()  # an index built before statements
    monkeypatch.setenv("RAG_INDEX_DIR", str(sample_settings.index_dir))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_function(speakers_script, default_timeout=120).run()
    assert not at.exception
    assert "python -m ingest" in at.info[0].value
