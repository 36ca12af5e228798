"""Extractive answers (no LLM): quoting the right sentences, in the right language."""

from __future__ import annotations

import time

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures
from fixtures_llm import INJECTION

from rag import extractive, followup, prompts


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did Peskow say about NATO troops?", "Peskow"),
        ("what did kremlin spokesman Dmitri Peskov say?", "Peskov"),
        ("What has Selenskyj told reporters?", "Selenskyj"),
        ("Was sagte Peskow über NATO-Truppen?", "Peskow"),
        ("Was hat Putin zur NATO gesagt?", "Putin"),
        ("Wie äußerte sich Trump?", "Trump"),
        ("What did he say?", None),
        ("Where is Wladiwostok?", None),
        ("", None),
    ],
)
def test_speaker_of_finds_the_person_asked_about(question, speaker):
    assert extractive.speaker_of(question) == speaker


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What did Peskow say about NATO troops?", "en"),
        ("Was sagte Peskow über NATO-Truppen?", "de"),
        ("Wer ist der Kreml-Sprecher?", "de"),
        ("Peskow?", "en"),
        ("¿Qué dijo Peskow?", "en"),  # other languages get English wording
        ("", "en"),
    ],
)
def test_detect_language(text, language):
    assert prompts.detect_language(text) == language


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("Peskow", "betonte Peskow.", True),
        ("Peskov", "betonte Peskow.", True),
        ("Peskow", "Peskows Aussage", True),
        ("Peskow", "Kreml-Sprecher Dmitri Peskow deutlich", True),
        ("Putin", "Trump sprach mit Selenskyj.", False),
        ("Putin", "putin klein geschrieben", False),
    ],
)
def test_name_in_matches_names_fuzzily(name, text, found):
    assert extractive.name_in(name, text) is found


def test_what_did_peskow_say_returns_his_quote_with_a_citation(make_assistant):
    assistant = make_assistant()
    started = time.perf_counter()
    answer = assistant.ask("What did Peskow say about NATO troops?")
    elapsed = time.perf_counter() - started
    assert answer.mode == "extractive"
    assert "„Wir betrachten dies als eine Gefahr für uns" in answer.text
    assert answer.text.startswith("What the sources quote from Peskow")
    quoted = [c for c in answer.citations if "Wir betrachten dies als eine Gefahr" in c.quote]
    assert quoted and all(c.supported for c in answer.citations)
    line = next(ln for ln in answer.text.splitlines() if "Wir betrachten dies" in ln)
    assert f"[{quoted[0].n}]" in line
    # the highlight points at the quoted sentence inside the passage
    c = quoted[0]
    assert any("Wir betrachten dies" in c.quote[s:e] for s, e in c.highlight)
    assert elapsed < 30, f"extractive answer took {elapsed:.1f} s"


def test_german_question_gets_a_german_header(make_assistant):
    answer = make_assistant().ask("Was sagte Peskow über die NATO?")
    assert answer.text.startswith("Was die Quellen von Peskow zitieren")
    assert "Peskow" in answer.text and answer.citations


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the best recipe for apple strudel?", prompts.NO_ANSWER["en"]),
        ("Wie backt man einen Apfelstrudel mit Zimt?", prompts.NO_ANSWER["de"]),
        ("Wer gewann das Fußballspiel gestern?", prompts.NO_ANSWER["de"]),
    ],
)
def test_no_relevant_source_says_so_plainly(make_assistant, question, expected):
    answer = make_assistant().ask(question)
    assert answer.text == expected
    assert answer.citations == []


def test_extractive_answer_is_not_steered_by_an_injected_instruction(make_assistant):
    answer = make_assistant().ask("What happened to the Antoniwka bridge in Cherson?")
    assert "HACKED" not in answer.text.replace(INJECTION, "")
    assert answer.text.startswith(prompts.EXTRACTIVE_HEADER["en"])
    assert any("Antoniwka" in c.quote for c in answer.citations)


def test_extractive_sentences_are_embedded_in_one_batch(embedder):
    from rag.schema import Passage

    calls = []

    def encode(texts):
        calls.append(len(texts))
        return embedder.encode_passages(texts)

    passages = [
        Passage("a#1", "a", "Peskow sprach. „Nein“, sagte er. Dann ging er.", 0, 47, title="A"),
        Passage("b#1", "b", "Trump sprach auch. Er sagte ja.", 0, 31, title="B"),
    ]
    extractive.extract("What did Peskow say?", passages, encode, embedder.encode_queries)
    assert calls == [5]


def test_follow_up_is_rewritten_with_the_previous_question_terms():
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", "…")]
    assert followup.rewrite_deterministic("And what did Putin say?", history) == (
        "And what did Putin say? (NATO troops)"
    )
    # a question that stands on its own is left alone
    standalone = "How many countries offered soldiers for Ukraine after a ceasefire?"
    assert followup.rewrite_deterministic(standalone, history) == standalone
    assert followup.rewrite_deterministic("And Putin?", []) == "And Putin?"


def test_follow_up_in_extractive_mode_searches_with_context(make_assistant):
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", "…")]
    events = list(make_assistant().stream("And what did Putin say?", history=history))
    statuses = [e.text for e in events if type(e).__name__ == "Status"]
    assert statuses[0] == "Rewriting question…"
    answer = events[-1].answer
    assert answer.standalone_question == "And what did Putin say? (NATO troops)"
    assert "Putin" in answer.text
