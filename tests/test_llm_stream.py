"""How an LLM answer ends: against a real local server process that misbehaves on purpose
(tests/llm_stub_server.py) — a stream cut off without its end marker, an answer stopped at
the token limit, a server that never stops, a web page where the API should be."""

from __future__ import annotations

import threading
import time

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures
from fixtures_llm import stub_server

from rag.assistant import Token

PESKOW_Q = "What did Peskow say about NATO troops?"
FIRST = "Peskow said Moscow sees NATO troops on Ukrainian soil as a danger [1]."


def _within(seconds: float, run):
    """run() in a thread; fail instead of hanging when it takes longer than `seconds`.

    (Stopping the stub server afterwards ends a stream that is still running.)
    """
    result: list = []
    thread = threading.Thread(target=lambda: result.append(run()), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still answering after {seconds} s"
    return result[0], time.monotonic() - started


def _assistant(make_assistant, base, **overrides):
    overrides = {"llm_timeout": 5.0, **overrides}
    return make_assistant(llm_backend="openai", llm_base_url=base, llm_model="stub", **overrides)


def test_a_complete_stream_is_an_llm_answer_without_notices(make_assistant):
    with stub_server("complete", FIRST) as base:
        answer = _assistant(make_assistant, base).ask(PESKOW_Q)
    assert answer.mode == "llm" and answer.text == FIRST
    assert answer.notices == []
    assert [c.supported for c in answer.citations] == [True]


def test_a_stream_cut_off_without_its_end_marker_falls_back_with_a_notice(make_assistant):
    with stub_server("truncated", FIRST + " Chancellor Merz said that the [2]") as base:
        answer = _assistant(make_assistant, base).ask(PESKOW_Q)
    assert answer.mode == "extractive"
    assert "Wir betrachten dies als eine Gefahr" in answer.text
    assert any(
        base in n and "ended before the answer was complete" in n and "extractive" in n
        for n in answer.notices
    ), answer.notices


def test_an_answer_stopped_at_the_token_limit_is_flagged(make_assistant):
    from test_answer import MIXED_Q, source_order

    order = source_order(make_assistant(), MIXED_Q)
    peskow, cherson = (order.index(a) + 1 for a in sorted(order))  # "000_…", "001_…"
    text = (
        f"Peskow said Moscow sees NATO troops on Ukrainian soil as a danger [{peskow}]. "
        f"The bridge was damaged and [{cherson}] would never be"
    )
    with stub_server("length", text) as base:
        answer = _assistant(make_assistant, base, llm_max_tokens=40).ask(MIXED_Q)
    assert answer.mode == "llm"
    assert any("cut off" in n and "RAG_LLM_MAX_TOKENS=40" in n for n in answer.notices), (
        answer.notices
    )
    by_n = {c.n: c for c in answer.citations}
    assert by_n[1].supported  # its sentence is complete
    assert not by_n[2].supported  # cited only by the unfinished last sentence
    assert any("[2]" in n and "unfinished" in n for n in answer.notices), answer.notices


def test_a_server_that_never_stops_is_cut_off_after_the_total_time(make_assistant):
    # one word per second without end: every read succeeds, so only a total bound stops it
    with stub_server("slow", FIRST, delay=0.5) as base:
        assistant = _assistant(make_assistant, base, llm_timeout=30.0, llm_total_timeout=3.0)
        events, took = _within(10, lambda: list(assistant.stream(PESKOW_Q)))
    answer = events[-1].answer
    assert 2.5 <= took < 8, took
    assert any(isinstance(e, Token) for e in events[:-1])  # it did stream before the cut
    assert answer.mode == "extractive"
    assert "Wir betrachten dies als eine Gefahr" in answer.text
    assert any("RAG_LLM_TOTAL_TIMEOUT=3" in n and "extractive" in n for n in answer.notices), (
        answer.notices
    )


def test_the_total_time_covers_the_follow_up_rewrite_too(make_assistant):
    history = [("user", PESKOW_Q), ("assistant", "Peskow said … [1]")]
    with stub_server("slow", "What did Putin say", delay=0.5) as base:
        assistant = _assistant(make_assistant, base, llm_timeout=30.0, llm_total_timeout=3.0)
        answer, took = _within(10, lambda: assistant.ask("And what did Putin say?", history))
    assert took < 8, took
    assert answer.mode == "extractive"
    assert answer.standalone_question == "And what did Putin say? (NATO troops)"
    assert any("RAG_LLM_TOTAL_TIMEOUT=3" in n for n in answer.notices), answer.notices


@pytest.mark.parametrize("status", [200, 502])
def test_an_html_page_instead_of_the_api_is_called_what_it_is(make_assistant, status):
    with stub_server("html", status=status) as base:
        answer = _assistant(make_assistant, base).ask(PESKOW_Q)
    assert answer.mode == "extractive"
    [notice] = [n for n in answer.notices if base in n]
    assert f"HTML page (HTTP {status})" in notice and "RAG_LLM_BASE_URL" in notice, notice
    assert "empty answer" not in notice


def test_one_out_of_range_marker_gives_one_notice(make_assistant):
    with stub_server("complete", "Peskow warned [1-100000].") as base:
        answer = _assistant(make_assistant, base).ask(PESKOW_Q)
    removed = [n for n in answer.notices if n.startswith("removed citation")]
    assert len(removed) == 1, answer.notices
    n = len({p.article_id for p in answer.passages})  # one numbered source per article
    plural = "s" if n != 1 else ""
    assert removed[0].startswith(f"removed citation [{n + 1}-100000]: only {n} source{plural}")
    assert answer.text == "Peskow warned [" + ", ".join(map(str, range(1, n + 1))) + "]."
