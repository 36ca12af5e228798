"""The statement route (rag/quotes/answer.py): which questions it takes, and what it
answers, alone and through the Assistant and `python -m rag ask`. The sample article's
statements are written down by hand (tests/quotes_fixtures.py), except in the last test,
which runs the real extractor through a real ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.quotes.answer import parse, route
from rag.quotes.store import StatementIndex
from rag.retrieve import Filters
from rag.store import Index
from tests.conftest import PROJECT_ROOT
from tests.quotes_fixtures import (  # noqa: F401 - fixtures
    SAMPLE,
    quotes_index_dir,
    quotes_settings,
    span,
)

# --- which questions ----------------------------------------------------------------------

STATEMENT_QUESTIONS = [
    ("What did Peskow say about NATO troops?", "Peskow", "NATO troops"),
    ("What has Peskow said on NATO?", "Peskow", "NATO"),
    ("What did Kremlin spokesman Peskov say about NATO troops?", "Peskov", "NATO troops"),
    ("Peskov's remarks on NATO", "Peskov", "NATO"),
    ("Did Trump say anything about China?", "Trump", "China"),
    ("What did Putin tell reporters about Moscow?", "Putin", "Moscow"),
    ("How did Zelensky react to the Paris talks?", "Zelensky", "Paris talks"),
    ("Statements by Dmitry Peskov about Alaska", "Dmitry Peskov", "Alaska"),
    ("What did Ursula von der Leyen say about tariffs?", "Ursula von der Leyen", "tariffs"),
    ("And what did Putin say? (NATO troops)", "Putin", "NATO troops"),
    ("Was sagte Putin zur NATO?", "Putin", "NATO"),
    ("Was sagte Selenskyj?", "Selenskyj", None),
    ("Peskows Aussagen zur NATO", "Peskows", "NATO"),
    ("Aussagen von Peskow zur NATO", "Peskow", "NATO"),
    ("Wie äußerte sich Putin zu einem Treffen mit Selenskyj?", "Putin", "Treffen mit Selenskyj"),
    ("Wie hat sich Wadephul zur Luftabwehr geäußert?", "Wadephul", "Luftabwehr"),
    ("Was hat Trump über Indien gesagt?", "Trump", "Indien"),
    ("Hat Putin etwas zu NATO gesagt?", "Putin", "NATO"),
    ("Zitate von Selenskyj", "Selenskyj", None),
]


@pytest.mark.parametrize(("question", "who", "topic"), STATEMENT_QUESTIONS)
def test_statement_questions_are_recognised(question, who, topic):
    ask = parse(question)
    assert ask is not None and (ask.who, ask.topic) == (who, topic)


@pytest.mark.parametrize(
    "question",
    [
        "Where is Kyiv?",
        "What did he say?",
        "Who said that NATO is dangerous?",
        "What is the capital of Ukraine?",
        "Wie viele Soldaten sollen stationiert werden?",
        "Was sagte er dazu?",
    ],
)
def test_other_questions_are_left_to_the_normal_path(question):
    assert parse(question) is None


def test_phrasing_decides_the_answer_language():
    assert parse("Peskows Aussagen zur NATO").language == "de"
    assert parse("Peskov's remarks on NATO").language == "en"


# --- what the route answers ------------------------------------------------------------------


@pytest.fixture
def assistant(quotes_settings, embedder):  # noqa: F811 - the fixture
    from rag.assistant import Assistant

    return Assistant.from_settings(quotes_settings, embedder=embedder, chat_model=None)


def said_by(text: str, speaker: str) -> list[str]:
    """The hand-written statements of `speaker` in `text`."""
    out = []
    for spec in SAMPLE:
        where = span(text, spec.first, spec.last)
        if spec.speaker == speaker and where:
            out.append(text[where[0] : where[1]])
    return out


def article_text(assistant) -> str:
    (aid,) = assistant.index.records()
    return assistant.index.get_article(aid).text


def test_peskows_statements_on_nato_troops_in_date_order_with_citations(assistant):
    plan = route(assistant, "What did Peskow say about NATO troops?")
    assert plan is not None and plan.speaker == "Dmitri Peskow" and plan.on_topic
    text = article_text(assistant)
    peskow = said_by(text, "Dmitri Peskow")
    assert plan.passages and all(p.text in peskow for p in plan.passages)
    assert any("NATO" in p.text for p in plan.passages)
    assert not any("Alaska" in p.text for p in plan.passages)  # another topic
    answer = plan.answer
    assert answer.text.startswith("What Dmitri Peskow (Kreml-Sprecher) said about NATO troops")
    for c in answer.citations:
        assert text[c.start : c.end] == c.quote and c.quote in peskow
        assert c.n == 1 and c.supported  # one article, one source number
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)  # one date: text order
    assert "„Wir betrachten dies als eine Gefahr" in answer.text  # direct: verbatim
    assert "(reported speech) Die NATO sehe Russland als Feind" in answer.text


def test_follow_up_about_another_speaker_lists_only_their_words(assistant):
    text = article_text(assistant)
    plan = route(assistant, "And what did Putin say? (NATO troops)")
    assert plan.speaker == "Putin"
    assert {p.text for p in plan.passages} <= set(said_by(text, "Putin"))
    assert not set(said_by(text, "Dmitri Peskow")) & {c.quote for c in plan.answer.citations}


def test_german_question_gets_a_german_answer_with_only_selenskyjs_words(assistant):
    text = article_text(assistant)
    plan = route(assistant, "Was sagte Selenskyj?")
    assert plan.answer.text.startswith("Was Wolodymyr Selenskyj (Präsident) gesagt hat")
    assert {p.text for p in plan.passages} == set(said_by(text, "Wolodymyr Selenskyj"))
    assert "„Ja, es werden definitiv Tausende sein, nicht nur ein paar“" in plan.answer.text


def test_nothing_on_the_topic_is_said_plainly_with_what_they_did_say(assistant):
    plan = route(assistant, "What did Wadephul say about climate change?")
    assert not plan.on_topic
    assert plan.answer.text.startswith(
        "The indexed articles quote Johann Wadephul (Außenminister) on nothing about "
        "climate change."
    )
    assert "What they quote from Johann Wadephul:" in plan.answer.text
    assert {p.text for p in plan.passages} == set(
        said_by(article_text(assistant), "Johann Wadephul")
    )


def test_date_filter_without_statements_says_so(assistant):
    plan = route(assistant, "What did Putin say?", Filters(date_from="2025-10-01"))
    assert plan.passages == [] and plan.answer.citations == []
    assert "nothing in the selected period" in plan.answer.text


@pytest.mark.parametrize(
    "question", ["What did Merkel say about NATO?", "Where is Kyiv?", "Was sagte er?"]
)
def test_unknown_speakers_and_other_questions_take_the_normal_path(assistant, question):
    assert route(assistant, question) is None


def test_without_a_statement_index_the_route_steps_aside(sample_settings, embedder):
    from rag.assistant import Assistant

    StatementIndex(Index(sample_settings)).drop()
    assistant = Assistant.from_settings(sample_settings, embedder=embedder, chat_model=None)
    assert route(assistant, "What did Peskow say about NATO troops?") is None


# --- end to end ------------------------------------------------------------------------------


def test_assistant_answers_statement_questions_from_the_statement_index(assistant):
    text = article_text(assistant)
    first = assistant.ask("What did Peskow say about NATO troops?")
    peskow = set(said_by(text, "Dmitri Peskow"))
    assert first.citations and {c.quote for c in first.citations} <= peskow
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", first.text)]
    putin = assistant.ask("And what did Putin say?", history=history)
    assert putin.citations and {c.quote for c in putin.citations} <= set(said_by(text, "Putin"))
    selenskyj = assistant.ask("Was sagte Selenskyj?")
    quotes = {c.quote for c in selenskyj.citations}
    assert quotes == set(said_by(text, "Wolodymyr Selenskyj"))


def test_rag_ask_json_with_the_real_extractor_cites_only_the_speakers_statements(
    sample_settings,
):
    """The sample index as `python -m ingest` built it: the real extractor's statements."""
    store = StatementIndex(Index(sample_settings))
    env = {**os.environ, "RAG_INDEX_DIR": str(sample_settings.index_dir)}
    for question, speaker in [
        ("What did Peskow say about NATO troops?", "Dmitri Peskow"),
        ("Was sagte Selenskyj?", "Wolodymyr Selenskyj"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "rag", "ask", question, "--json"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        answer = json.loads(proc.stdout)
        theirs = {(s.start, s.end) for s in store.rows() if s.speaker == speaker}
        assert answer["citations"], answer
        for c in answer["citations"]:
            assert (c["start"], c["end"]) in theirs, c["quote"]
