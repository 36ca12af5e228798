"""The Streamlit desk (app.py and its chat view, desk/chat.py), run in-process with AppTest
against a real index.

The index is built once per session from the sample corpus plus a hostile article
(tests/data/hostile: markup, `javascript:` links, image beacons) with the real ingest
pipeline and the packaged embedding model. Settings reach the app through RAG_* variables,
as in production; AppTest runs the script in this process, so the cached Assistant is
shared between the tests that use the same settings.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import socket
import textwrap
from pathlib import Path

import pytest

from rag import ui
from rag.settings import Settings
from rag.store import Index
from rag.ui import article_html, passages_html
from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS
from tests.test_llm_server import llama_server  # noqa: F401 - fixture; skips when unavailable

APP = str(PROJECT_ROOT / "app.py")
HOSTILE_CORPUS = Path(__file__).resolve().parent / "data" / "hostile"
PESKOW_QUESTION = "What did Peskow say about NATO troops?"
SAMPLE_ID = "000_5949ef0a0ed3a1cb.txt"  # the sample article, where Peskow speaks
HOSTILE_QUESTION = "Was meldete die Stadtverwaltung von Cherson über die Antoniwka-Brücke?"
HOSTILE_SOURCE = "Prüfdienst *Hostile* Wire"
TIMEOUT = 180  # the first run of a settings key loads the embedding and keyword indexes
REFRESH = "archive-refresh-sidebar"  # the Archive view's refresh button in the chat sidebar


@pytest.fixture(scope="session")
def ui_index_dir(tmp_path_factory, embedder) -> Path:
    """An index of the sample corpus and the hostile article, built once (read-only)."""
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("ui-index")
    settings = Settings(_env_file=None, index_dir=folder)
    summary = run_ingest([SAMPLE_CORPUS, HOSTILE_CORPUS], settings, embedder=embedder)
    assert len(summary.added) == 2 and not summary.failed, summary.as_dict()
    return folder


@pytest.fixture
def app_env(monkeypatch, ui_index_dir):
    """Point the app at the shared test index, extractive mode."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(ui_index_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(SAMPLE_CORPUS))
    monkeypatch.setenv("RAG_LLM_BACKEND", "extractive")
    return ui_index_dir


def start(**env) -> object:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def answers(at) -> list:
    return [m["answer"] for m in at.session_state["messages"] if "answer" in m]


def assistant_markdown(at) -> list[str]:
    """Markdown sources of everything written inside the assistant messages."""
    out = []
    for message in at.chat_message:
        if message.name == "assistant":
            out += [m.value for m in message.markdown]
    return out


def test_question_gets_an_answer_with_numbered_sources(app_env):
    at = ask(start(), PESKOW_QUESTION)
    [answer] = answers(at)
    assert "Peskow" in answer.text
    assert answer.citations, "an answer without sources"
    rendered = "\n".join(assistant_markdown(at))
    for c in answer.citations:
        assert f"**&#91;{c.n}&#93;**" in rendered  # numbered source item matching [n]
        assert re.search(rf"\[{c.n}\]", answer.text), f"source {c.n} is not cited in the text"
    assert "<mark" in rendered, "cited sentences are not highlighted"
    assert {c.article_id for c in answer.citations} == {SAMPLE_ID}  # not the hostile one
    assert [b.label for b in at.get("download_button")] == ["Export as Markdown"]
    assert answer.to_markdown().count("[1]") >= 1


def test_follow_up_passes_the_history_and_keeps_both_turns(app_env):
    at = ask(start(), PESKOW_QUESTION)
    at = ask(at, "And what did he say about security guarantees?")
    roles = [m["role"] for m in at.session_state["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    first, second = answers(at)
    assert second.question == "And what did he say about security guarantees?"
    # A follow-up is resolved against the conversation before retrieval.
    assert second.standalone_question != second.question or second.citations
    assert len(at.chat_message) == 4


def test_new_chat_clears_the_conversation(app_env):
    at = ask(start(), PESKOW_QUESTION)
    at.button(key="new-chat").click().run()
    assert at.session_state["messages"] == []
    assert len(at.chat_message) == 0


def test_date_filter_restricts_the_sources(app_env):
    at = start()
    [date_input] = [d for d in at.date_input if d.label == "Published between"]
    day = dt.date(2025, 9, 6)  # only the hostile article is from this day
    date_input.set_value((day, day)).run()
    at = ask(at, PESKOW_QUESTION)
    [answer] = answers(at)
    assert {c.date for c in answer.citations} <= {"2025-09-06"}
    assert not any("Peskow" in c.quote for c in answer.citations)


def test_source_filter_restricts_the_sources(app_env):
    at = start()
    [sources] = [m for m in at.multiselect if m.label == "Outlets"]
    assert sources.options == [HOSTILE_SOURCE]
    sources.set_value([HOSTILE_SOURCE]).run()
    at = ask(at, HOSTILE_QUESTION)
    [answer] = answers(at)
    assert answer.citations
    assert {c.source for c in answer.citations} == {HOSTILE_SOURCE}


def test_sidebar_shows_index_stats_mode_and_refresh(app_env):
    at = start()
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Articles: **2**" in sidebar
    assert "Passages: **" in sidebar and "Chunks" not in sidebar  # newsroom words
    assert "5 September 2025 – 6 September 2025" in sidebar
    assert "Quotes only" in sidebar and "xtractive" not in sidebar
    assert at.button(key=REFRESH).label == "Refresh archive"


def test_empty_index_explains_how_to_fill_it(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "empty-index"))
    at = start()
    info = " ".join(i.value for i in at.info)
    assert "The index is empty" in info and "python -m ingest" in info
    assert not at.error
    assert at.chat_input[0].disabled
    assert at.button(key=REFRESH).label == "Refresh archive"


def test_unreachable_llm_gives_a_notice_and_an_extractive_answer(app_env, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("RAG_LLM_MODEL", "some-model")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "5")
    at = ask(start(), PESKOW_QUESTION)
    [answer] = answers(at)
    assert answer.mode == "extractive"
    assert answer.notices
    assert "Peskow" in answer.text
    shown = " ".join(i.value for i in at.info)
    assert shown, "the fallback is not announced"
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "not reachable" in sidebar


def test_hostile_article_renders_as_text_never_as_markup(app_env):
    at = ask(start(), HOSTILE_QUESTION)
    [answer] = answers(at)
    hostile = [c for c in answer.citations if "Antoniwka" in c.quote]
    assert hostile, "the hostile article was not cited"
    rendered = assistant_markdown(at)
    joined = "\n".join(rendered)
    assert "&#60;script&#62;" in joined or "&#60;img" in joined  # present, escaped
    for bad in ("<script", "<img", "<iframe", "<a ", "](", "javascript:", "http:", "www."):
        assert bad not in joined, f"{bad!r} reaches st.markdown unescaped"
    # Only the app's own highlight markup is raw HTML.
    tags = set(re.findall(r"</?([a-zA-Z]+)", joined))
    assert tags <= {"mark", "span"}, tags


def test_full_article_opens_with_the_passage_marked(app_env):
    at = ask(start(), PESKOW_QUESTION)
    [answer] = answers(at)
    first = answer.citations[0]
    key = f"article-1-{first.n}"
    at.session_state[key] = True  # what clicking the expander does
    at.run()
    assert not at.exception
    rendered = "\n".join(assistant_markdown(at))
    assert "The passage (tinted, cited sentences marked) is in paragraph" in " ".join(
        c.value for c in at.caption
    )
    article = Index(Settings(_env_file=None, index_dir=app_env)).get_article(first.article_id)
    [source] = [s for s in answer.sources if s.n == first.n]
    expected = passages_html(article.text, [(p.start, p.end, p.highlight) for p in source.passages])
    assert textwrap.dedent(expected).strip() in rendered  # as st.markdown normalises it
    if len(source.passages) == 1:
        assert expected == article_html(article.text, first.start, first.end, first.highlight)


@pytest.mark.slow
def test_refresh_button_ingests_new_articles_and_the_next_answer_finds_them(
    monkeypatch, tmp_path, ui_index_dir
):
    index_dir = tmp_path / "index"
    shutil.copytree(ui_index_dir, index_dir)
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    at = start()
    (corpus / "new_article.txt").write_text(
        " date 2025-09-07 Die Gemeinde Sankt Wolfgang eröffnete am Sonntag eine neue "
        "Seilbahn auf den Schafberg. Die Bergbahn bringt stündlich 800 Gäste auf den Gipfel.",
        encoding="utf-8",
    )
    at.button(key=REFRESH).click().run()
    assert not at.exception
    report = " ".join(s.value for s in at.sidebar.success)
    assert "1 added" in report and "1 unchanged" in report, report
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Articles: **3**" in sidebar  # the sample, the hostile one (other folder), the new one
    at = ask(at, "Was eröffnete die Gemeinde Sankt Wolfgang?")
    [answer] = answers(at)
    assert any("Seilbahn" in c.quote for c in answer.citations)


@pytest.mark.slow
@pytest.mark.server
def test_llm_mode_streams_a_model_answer_rendered_as_text(
    app_env,
    monkeypatch,
    llama_server,  # noqa: F811 - the imported fixture
):
    """With a real (tiny) llama.cpp server: the answer comes from the LLM, shown inert."""
    base, _log = llama_server
    for name, value in {
        "RAG_LLM_BACKEND": "openai",
        "RAG_LLM_BASE_URL": base,
        "RAG_LLM_MODEL": "smollm2",
        "RAG_LLM_TIMEOUT": "120",
        "RAG_LLM_MAX_TOKENS": "48",
        "RAG_LLM_CONTEXT_TOKENS": "2048",
        "RAG_SOURCE_TOKEN_BUDGET": "400",
    }.items():
        monkeypatch.setenv(name, value)
    at = start()
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "server reachable" in sidebar
    at = ask(at, PESKOW_QUESTION)
    [answer] = answers(at)
    assert answer.mode == "llm", answer.notices
    assert answer.text.strip()
    shown = assistant_markdown(at)
    assert textwrap.dedent(ui.answer_markdown(answer.text)).strip() in shown
    assert at.get("status")[0].label.startswith("Answered from") or not answer.citations


def test_weakly_supported_citation_is_flagged_next_to_its_source():
    from streamlit.testing.v1 import AppTest

    def script():
        from desk import chat
        from rag.answer import Answer, Citation

        quote = "Der Kreml lehnt Truppen ab. Peskow sprach von Gefahr."
        weak = Citation(
            n=1, article_id="a", title="Titel", date="2025-09-05", source="ORF", quote=quote,
            start=0, end=len(quote), supported=False, support=0.31,
            cited_sentences=["Peskow begrüßte die Truppen."], highlight=[(28, len(quote))],
            url="https://orf.example/1",
        )  # fmt: skip
        strong = Citation(
            **{**weak.__dict__, "n": 2, "article_id": "b", "supported": True, "support": 0.9}
        )
        answer = Answer(
            question="q", standalone_question="q", text="Peskow begrüßte die Truppen [1][2].",
            mode="llm", citations=[weak, strong], passages=[],
        )  # fmt: skip
        chat.show_sources(answer, key="{}", fingerprint="", msg=0)

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown]
    flags = [i for i, m in enumerate(shown) if "⚠ weak support" in m]
    labels = [i for i, m in enumerate(shown) if m.startswith("**&#91;")]
    assert len(flags) == 1 and labels[0] < flags[0] < labels[1]  # under source 1 only
    assert "0&#46;31" in shown[flags[0]]  # the support score, escaped like all text


@pytest.mark.slow
def test_refresh_on_an_empty_index_fills_it_and_opens_the_chat(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(SAMPLE_CORPUS))
    at = start()
    assert at.chat_input[0].disabled
    at.button(key=REFRESH).click().run()
    assert not at.exception
    assert "1 added" in " ".join(s.value for s in at.sidebar.success)
    assert not at.chat_input[0].disabled
    assert not [i for i in at.info if "The index is empty" in i.value]


def test_models_load_once_per_process_and_every_session_shares_them(
    monkeypatch, tmp_path, ui_index_dir
):
    from rag.assistant import Assistant

    index_dir = tmp_path / "index"  # settings no other test uses: a fresh cache key
    shutil.copytree(ui_index_dir, index_dir)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    built = []
    real = Assistant.from_settings.__func__

    def counting(cls, settings, **kwargs):
        built.append(settings.index_dir)
        return real(cls, settings, **kwargs)

    monkeypatch.setattr(Assistant, "from_settings", classmethod(counting))
    first, second = start(), start()  # two browser sessions
    ask(first, PESKOW_QUESTION)
    ask(second, HOSTILE_QUESTION)
    ask(first, "And about security guarantees?")
    assert built == [index_dir]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RAG_TOP_K": "0"}, "RAG_TOP_K"),
        ({"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": "CLOSED"}, "chroma run"),
        ({"RAG_LLM_BACKEND": "openai"}, "RAG_LLM_"),  # no model / URL configured
    ],
)
def test_configuration_mistakes_show_the_fix_instead_of_a_traceback(
    app_env, monkeypatch, env, expected
):
    for name, value in env.items():
        if value == "CLOSED":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                value = str(s.getsockname()[1])
        monkeypatch.setenv(name, value)
    at = start()
    errors = html.unescape(" ".join(e.value for e in at.error))  # as the browser shows it
    assert expected in errors, errors


# --- the desk: filters shown, examples, language, source cards, exports -----------------------
def filter_captions(at) -> list[str]:
    return [c.value for c in at.caption if "filters" in c.value.lower()]


def test_answer_shows_its_filters_and_reset_clears_them(app_env):
    at = start()
    [outlets] = [m for m in at.multiselect if m.label == "Outlets"]
    outlets.set_value([HOSTILE_SOURCE]).run()
    assert any("Active filters" in c for c in filter_captions(at))
    at = ask(at, HOSTILE_QUESTION)
    [answer] = answers(at)
    assert answer.filters is not None and answer.filters.sources == (HOSTILE_SOURCE,)
    [assistant] = [m for m in at.chat_message if m.name == "assistant"]
    asked_with = [c.value for c in assistant.caption if c.value.startswith(":material/filter")]
    assert len(asked_with) == 1 and "Asked with filters" in asked_with[0]
    assert "outlets: Prüfdienst" in html.unescape(asked_with[0])
    assert "Filters" in answer.to_markdown()  # the export records them too

    at.button(key="reset-filters").click().run()
    assert not at.exception
    [outlets] = [m for m in at.multiselect if m.label == "Outlets"]
    assert outlets.value == []
    assert "Searching all 2 articles." in [c.value for c in at.caption]
    assert not [b for b in at.button if b.key == "reset-filters"]
    # the answer keeps the filters it was asked under
    [assistant] = [m for m in at.chat_message if m.name == "assistant"]
    assert any("Asked with filters" in c.value for c in assistant.caption)


def test_a_date_filter_that_hides_the_answer_says_so(app_env):
    at = start()
    [date_input] = [d for d in at.date_input if d.label == "Published between"]
    day = dt.date(2025, 9, 6)  # the Peskow article is from the 5th
    date_input.set_value((day, day)).run()
    at = ask(at, PESKOW_QUESTION)
    [answer] = answers(at)
    assert [n.cause for n in answer.filter_notes] == ["date_range"], answer.notices
    warnings = [w.value for w in at.warning]
    assert any("outside the date range" in w for w in warnings), warnings


def test_example_questions_on_an_empty_chat_are_asked_with_one_click(app_env):
    at = start()
    labels = [html.unescape(at.button(key=f"example-{i}").label) for i in range(3)]
    assert labels[0] == "What did Dmitri Peskow say?"  # the most quoted person
    # the newest article (the hostile one) by day and title, its markup shown as text
    assert labels[1].startswith("What was reported on 6 September 2025 about “Cherson")
    assert "<script" not in at.button(key="example-1").label
    assert not at.session_state["messages"]
    at.button(key="example-1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [answer] = answers(at)
    assert answer.question == labels[1]
    assert (answer.filters.date_from, answer.filters.date_to) == ("2025-09-06", "2025-09-06")
    assert {c.date for c in answer.citations} <= {"2025-09-06"}
    assert not [b for b in at.button if str(b.key).startswith("example-")]  # gone now


def test_german_interface_from_the_setting(app_env, monkeypatch):
    monkeypatch.setenv("RAG_UI_LANGUAGE", "de")
    at = start()
    assert [t.value for t in at.main.title] == ["Das Archiv fragen"]
    assert at.chat_input[0].placeholder == "Frage an das Archiv…"
    sidebar = html.unescape("\n".join(m.value for m in at.sidebar.markdown))
    assert "Artikel: **2**" in sidebar and "Textstellen: **" in sidebar
    assert "5. September 2025 – 6. September 2025" in sidebar
    assert "Nur Zitate" in sidebar
    assert [d.label for d in at.date_input] == ["Erschienen zwischen"]
    assert [m.label for m in at.multiselect] == ["Medien"]
    assert html.unescape(at.button(key="example-0").label) == "Was sagte Dmitri Peskow?"
    at = ask(at, PESKOW_QUESTION)
    assert [b.label for b in at.get("download_button")] == ["Als Markdown exportieren"]
    assert at.get("status")[0].label.startswith("Antwort aus")
    captions = " ".join(c.value for c in at.caption)
    assert "Quellen (nur Zitate" in captions


def test_language_switch_in_the_sidebar(app_env):
    at = start()
    assert [t.value for t in at.main.title] == ["Ask the archive"]
    [switch] = [w for w in at.get("button_group") if w.key == "ui-language"]
    switch.set_value("de").run()
    assert not at.exception
    assert [t.value for t in at.main.title] == ["Das Archiv fragen"]
    at = ask(at, PESKOW_QUESTION)  # the choice holds for the rest of the session
    assert [t.value for t in at.main.title] == ["Das Archiv fragen"]


def show_cards(narrow: bool):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(CARDS_SCRIPT.replace("NARROW", str(narrow)), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


CARDS_SCRIPT = """
from desk import chat
from rag.answer import Answer, Citation

first = "Der Kreml lehnt Truppen ab. " * 12
second = "Peskow sprach von einer Gefahr für Russland. " * 6
cites = [
    Citation(
        n=1, article_id="a", title="Kreml lehnt Truppen ab", date="2025-09-05",
        source="ORF", quote=q, start=s, end=s + len(q), supported=True, support=0.9,
        highlight=[(0, 10)], url="https://orf.example/stories/1",
    )
    for q, s in ((first, 0), (second, 900))
]
answer = Answer(
    question="q", standalone_question="q", text="Der Kreml lehnt ab [1].",
    mode="extractive", citations=cites, passages=[],
)
chat.show_sources(answer, key="{}", fingerprint="", msg=0, narrow=NARROW)
"""


def test_one_card_per_article_with_outlet_date_and_link():
    at = show_cards(narrow=False)
    shown = [m.value for m in at.markdown]
    labels = [m for m in shown if m.startswith("**&#91;")]
    assert labels == ["**&#91;1&#93;** Kreml lehnt Truppen ab"]  # two passages, one card
    assert "ORF · 5 September 2025 · [original ↗](<https://orf.example/stories/1>)" in shown
    assert sum("<mark" in m for m in shown) == 2  # both passages, in the card
    assert [e.label for e in at.expander] == ["Full article"]


def test_long_cards_start_folded_on_a_narrow_screen():
    at = show_cards(narrow=True)
    assert [e.label for e in at.expander] == ["Show the 2 quoted passages", "Full article"]
    assert not at.expander[0].proto.expanded


def test_copy_text_has_numbered_citations_and_the_filters():
    from desk import chat
    from desk.i18n import set_language
    from rag.answer import Answer, Citation
    from rag.retrieve import Filters

    quote = "Der Kreml lehnt Truppen ab."
    cite = Citation(
        n=1, article_id="a", title="Kreml lehnt Truppen ab", date="2025-09-05", source="ORF",
        quote=quote, start=0, end=len(quote), supported=True, support=0.9,
        url="https://orf.example/stories/1",
    )  # fmt: skip
    filters = Filters(date_from="2025-09-01", date_to="2025-09-30", sources=("ORF",))
    answer = Answer(
        question="Was sagt der Kreml?", standalone_question="Was sagt der Kreml?",
        text="> „Der Kreml lehnt Truppen ab.“ [1]", mode="extractive", citations=[cite],
        passages=[], filters=filters,
    )  # fmt: skip
    set_language("de")
    try:
        text = chat.plain_text(answer, filters)
    finally:
        set_language("en")
    assert "[1] ORF, 2025-09-05: Kreml lehnt Truppen ab. https://orf.example/stories/1" in text
    assert "Gefragt mit Filtern: erschienen 1. September 2025 – 30. September 2025" in text
    assert ">" not in text.splitlines()[0] and "**" not in text  # clean text, no Markdown


def test_filters_kept_for_another_view_drop_outlets_that_are_gone(app_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    # back from another view (no filter widgets yet): what the chat kept aside, with an
    # outlet whose articles were removed meanwhile
    at.session_state["filters-kept"] = {"outlets": [HOSTILE_SOURCE, "Removed Outlet"]}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.multiselect if m.label == "Outlets"] == [[HOSTILE_SOURCE]]
    assert any("Active filters" in c for c in filter_captions(at))
