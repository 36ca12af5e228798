"""The statement route hook: "what did X say" questions are answered from the statement
index when `rag.quotes.answer` is installed; its statements are an LLM's sources."""

from __future__ import annotations

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures
from fixtures_llm import scripted

from rag import prompts

PESKOW_Q = "What did Peskow say about NATO troops?"


@pytest.fixture
def route():
    answer = pytest.importorskip("rag.quotes.answer", reason="the statement route is not installed")
    return answer.route


def test_extractive_answer_is_the_routes_answer(make_assistant, route):
    assistant = make_assistant()
    planned = route(assistant, PESKOW_Q, None)
    assert planned is not None, "the sample article holds Peskow's statements"
    answer = assistant.ask(PESKOW_Q)
    assert answer.text == planned.answer.text
    assert answer.question == PESKOW_Q and answer.mode == "extractive"
    assert {s.article_id for s in answer.sources} == {p.article_id for p in planned.passages}


def test_llm_answers_from_the_statements_and_is_told_whose_they_are(make_assistant, route):
    planned = route(make_assistant(), PESKOW_Q, None)
    model = scripted("Peskow called NATO troops a danger [1].")
    answer = make_assistant(model).ask(PESKOW_Q)
    prompt = model.calls[0][-1].content
    assert prompts.STATEMENTS_NOTE.format(speaker=planned.speaker) in prompt
    articles = {p.article_id for p in planned.passages}
    assert prompt.count("<source id=") == len(articles)  # one source per article
    assert answer.mode == "llm" and {s.article_id for s in answer.sources} <= articles
    for passage in planned.passages:  # every statement is in the prompt
        assert " ".join(passage.text.split()) in " ".join(prompt.split())


def test_a_question_that_is_not_about_statements_takes_the_normal_path(make_assistant, route):
    assistant = make_assistant()
    question = "What happened to the Antoniwka bridge in Cherson?"
    assert route(assistant, question, None) is None
    answer = assistant.ask(question)
    assert answer.text.startswith(prompts.EXTRACTIVE_HEADER["en"])
