"""What every view of the desk shares, loaded once per process.

Keyed by the settings (`key` = `Settings.model_dump_json()`), so every browser tab and
every view (chat, who said what, archive) uses one Chroma client and one Assistant
(embedding model, keyword index, LLM client):

- `shared_index(key)`, `shared_assistant(key)`: `st.cache_resource`, never rebuilt;
- `overview(key, fingerprint)`, `article(key, fingerprint, id)`: `st.cache_data` keyed by
  the index fingerprint, which changes with every ingest (also other processes'), so a
  changed index is re-read without a restart; `forget_content()` drops them at once after
  a write from this process;
- `refresh_lock(key)`: one refresh from the browser at a time, whichever tab asks.

These live in a module of their own rather than in app.py because Streamlit runs app.py
as `__main__`: a view importing `app` would get a second module, with its own caches and
a second copy of the models.
"""

from __future__ import annotations

import threading

import streamlit as st

from rag.settings import Settings


def settings_of(key: str) -> Settings:
    """The Settings a cache key was made from."""
    return Settings.model_validate_json(key)


@st.cache_resource(show_spinner=False)
def shared_index(key: str):
    """The Chroma index, one client per process."""
    from rag.store import Index

    return Index(settings_of(key))


@st.cache_resource(show_spinner=False)
def shared_assistant(key: str):
    """The Assistant (models, retriever, LLM client), built once and used by every tab."""
    from rag.assistant import Assistant
    from rag.text import sentence_spans

    assistant = Assistant.from_settings(settings_of(key), index=shared_index(key))
    # Pay the one-time costs now rather than on the first question: opening the index,
    # the model's first forward pass, the sentence splitter's rules.
    assistant.retriever.refresh()
    assistant.embedder.encode_queries(["warm-up"])
    sentence_spans("Erster Satz. Zweiter Satz.")
    return assistant


@st.cache_resource(show_spinner=False)
def refresh_lock(key: str) -> threading.Lock:
    """One corpus refresh at a time per index, whichever tab asks."""
    return threading.Lock()


@st.cache_data(ttl=30, show_spinner=False)
def llm_status(key: str):
    """The answer mode and whether the LLM server answers (probed at most every 30 s)."""
    return shared_assistant(key).llm_status()


@st.cache_data(show_spinner=False)
def overview(key: str, fingerprint: str):
    """Index statistics and the list of sources, recomputed when the content changes."""
    index = shared_index(key)
    return index.stats(), index.sources()


@st.cache_data(show_spinner=False, max_entries=64)
def article(key: str, fingerprint: str, article_id: str):
    """One article's full cleaned text and metadata, or None when it is gone."""
    return shared_index(key).get_article(article_id)


def forget_content() -> None:
    """Drop the cached statistics and articles (call after this process wrote the index)."""
    overview.clear()
    article.clear()


def expected_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can fix (bad settings, unreachable server, …): shown as one line."""
    from rag.errors import expected_errors as errors

    return errors()
