"""The Streamlit chat app, run in-process with AppTest against a real index.

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
from rag.ui import article_html
from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS
from tests.test_llm_server import llama_server  # noqa: F401 - fixture; skips when unavailable

APP = str(PROJECT_ROOT / "app.py")
HOSTILE_CORPUS = Path(__file__).resolve().parent / "data" / "hostile"
PESKOW_QUESTION = "What did Peskow say about NATO troops?"
HOSTILE_QUESTION = "Was meldete die Stadtverwaltung von Cherson über die Antoniwka-Brücke?"
HOSTILE_SOURCE = "Prüfdienst *Hostile* Wire"
TIMEOUT = 180  # the first run of a settings key loads the embedding and keyword indexes


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
    peskow_sources = [c for c in answer.citations if "Peskow" in c.quote]
    assert peskow_sources
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
    [sources] = [m for m in at.multiselect if m.label == "Sources"]
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
    assert "2025&#45;09&#45;05 – 2025&#45;09&#45;06" in sidebar
    assert "Extractive" in sidebar
    assert at.button(key="refresh").label == "Refresh corpus"


def test_empty_index_explains_how_to_fill_it(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "empty-index"))
    at = start()
    info = " ".join(i.value for i in at.info)
    assert "The index is empty" in info and "python -m ingest" in info
    assert not at.error
    assert at.chat_input[0].disabled
    assert at.button(key="refresh").label == "Refresh corpus"


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
    expected = article_html(article.text, first.start, first.end, first.highlight)
    assert textwrap.dedent(expected).strip() in rendered  # as st.markdown normalises it


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
    at.button(key="refresh").click().run()
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
        import app
        from rag.answer import Answer, Citation

        quote = "Der Kreml lehnt Truppen ab. Peskow sprach von Gefahr."
        weak = Citation(
            n=1, article_id="a", title="Titel", date="2025-09-05", source="ORF", quote=quote,
            start=0, end=len(quote), supported=False, support=0.31,
            cited_sentences=["Peskow begrüßte die Truppen."], highlight=[(28, len(quote))],
        )  # fmt: skip
        strong = Citation(**{**weak.__dict__, "n": 2, "supported": True, "support": 0.9})
        answer = Answer(
            question="q", standalone_question="q", text="Peskow begrüßte die Truppen [1][2].",
            mode="llm", citations=[weak, strong], passages=[],
        )  # fmt: skip
        app.show_sources(answer, key="{}", fingerprint="", msg=0)

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
    at.button(key="refresh").click().run()
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
