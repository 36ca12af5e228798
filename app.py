"""The newsroom chat: ask the article archive, read the answer, check every source.

Thin on purpose: retrieval and answering live in `rag.assistant`, escaping and highlight
markup in `rag.ui`; this file wires Streamlit widgets to them.

Loaded once per process and shared by every browser tab (`st.cache_resource`, keyed by
the settings): the Chroma index and the Assistant (embedding model, keyword index, LLM
client). "Refresh corpus" runs the same ingest as `python -m ingest` with the Assistant's
embedding model, under the same writer lock (it refuses, never waits, while another ingest
writes), then rebuilds the retriever's keyword index; the cached statistics and article
texts are keyed by the index fingerprint, which also notices ingests by other processes,
so every tab sees the new content without a restart.

Everything that comes from articles or from a model is rendered as text
(`rag.ui.safe_markdown`); the only HTML this app writes is its own highlight markup.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import streamlit as st

from rag import ui
from rag.settings import Settings, SettingsError, load_settings

log = logging.getLogger("newsroom.app")


# --- shared, loaded once per process ------------------------------------------------------
def _settings(key: str) -> Settings:
    return Settings.model_validate_json(key)


@st.cache_resource(show_spinner=False)
def shared_index(key: str):
    """The Chroma index, one client per process."""
    from rag.store import Index

    return Index(_settings(key))


@st.cache_resource(show_spinner="Loading the embedding model and the keyword index…")
def shared_assistant(key: str):
    """The Assistant (models, retriever, LLM client), built once and used by every tab."""
    from rag.assistant import Assistant
    from rag.text import sentence_spans

    assistant = Assistant.from_settings(_settings(key), index=shared_index(key))
    # Pay the one-time costs now rather than on the first question: the keyword index,
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


def expected_errors() -> tuple[type[BaseException], ...]:
    from rag.errors import expected_errors as errors

    return errors()


# --- sidebar ------------------------------------------------------------------------------
def new_chat() -> None:
    st.session_state.messages = []
    for key in [k for k in st.session_state if str(k).startswith("article-")]:
        del st.session_state[key]  # the next chat's sources start closed


def sidebar_index(settings: Settings, stats) -> None:
    st.sidebar.subheader("Index")
    dates = f"{stats.date_min or '?'} – {stats.date_max or '?'}" if stats.articles else "–"
    rows = [
        ("Articles", f"{stats.articles:,}"),
        ("Chunks", f"{stats.chunks:,}"),
        ("Dates", dates),
        ("Last refresh", _when(stats.last_refresh)),
        ("Embedding model", stats.embedding_model or settings.embedding_model),
    ]
    st.sidebar.markdown(
        "  \n".join(f"{name}: **{ui.safe_markdown(value)}**" for name, value in rows)
    )


def sidebar_mode(key: str) -> None:
    st.sidebar.subheader("Answer mode")
    status = llm_status(key)
    if status.backend == "extractive":
        st.sidebar.markdown("**Extractive** (no LLM): answers quote the best-matching sentences.")
        return
    where = ui.safe_markdown(f"{status.backend} · {status.model or '?'} · {status.base_url}")
    st.sidebar.markdown(f"**LLM**: {where}")
    if status.reachable:
        st.sidebar.markdown(":green[● server reachable]")
    elif status.reachable is None:
        st.sidebar.markdown(":gray[● server not checked]")
    else:
        st.sidebar.markdown(
            ":red[● server not reachable] — answers fall back to extractive quotes."
        )
    if status.detail:
        st.sidebar.caption(ui.safe_markdown(status.detail))


def sidebar_filters(stats, sources: list[str]):
    """Date range and source filters; returns rag.retrieve.Filters (None when unset)."""
    from rag.retrieve import Filters

    st.sidebar.subheader("Filters")
    date_from = date_to = None
    if stats.date_min and stats.date_max:
        lo, hi = dt.date.fromisoformat(stats.date_min), dt.date.fromisoformat(stats.date_max)
        picked = st.sidebar.date_input(
            "Published between",
            value=(lo, hi),
            min_value=lo,
            max_value=hi,
            format="YYYY-MM-DD",
            key=f"dates-{lo}-{hi}",  # a refresh that widens the range starts a new widget
        )
        if isinstance(picked, tuple | list) and len(picked) == 2 and tuple(picked) != (lo, hi):
            date_from, date_to = picked[0].isoformat(), picked[1].isoformat()
    chosen = st.sidebar.multiselect(
        "Sources", sources, key="sources", placeholder="All sources", disabled=not sources
    )
    if date_from or chosen:
        return Filters(date_from=date_from, date_to=date_to, sources=tuple(chosen))
    return None


def sidebar_refresh(settings: Settings, key: str) -> None:
    st.sidebar.subheader("Corpus")
    folder = ui.safe_markdown(settings.corpus_dir.name or str(settings.corpus_dir))
    st.sidebar.caption(f"Re-reads the corpus folder **{folder}**, like `python -m ingest`.")
    if st.sidebar.button(
        "Refresh corpus",
        icon=":material/sync:",
        key="refresh",
        help=ui.safe_markdown(f"Re-reads {settings.corpus_dir}"),
    ):
        refresh_corpus(settings, key)
    done = st.session_state.get("refresh_report")
    if done:
        kind, text, problems = done
        (st.sidebar.success if kind == "ok" else st.sidebar.warning)(ui.safe_markdown(text))
        if problems:
            with st.sidebar.expander(f"{len(problems)} problem(s)"):
                st.markdown("  \n".join(ui.safe_markdown(p) for p in problems))


def refresh_corpus(settings: Settings, key: str) -> None:
    """Run the ingest with a progress bar, then reload what depends on the content."""
    lock = refresh_lock(key)
    if not lock.acquire(blocking=False):
        st.sidebar.warning("A refresh is already running (another tab); try again shortly.")
        return
    bar = st.sidebar.progress(0.0, text="Reading the corpus…")

    def progress(done: int, total: int, path: str) -> None:
        label = f"{done}/{total} files" + (f" · {Path(path).name}" if path else " · saving")
        bar.progress(done / total if total else 1.0, text=label)

    from rag.lock import IndexBusy

    try:
        from ingest.pipeline import run_ingest

        assistant = shared_assistant(key)  # reuse its embedding model for the new chunks
        summary = run_ingest(
            [settings.corpus_dir],
            settings,
            index=assistant.index,
            embedder=assistant.embedder,
            progress=progress,
            wait=False,  # the writer lock: a command-line ingest may be running
        )
        bar.progress(1.0, text="Updating the keyword index…")
        assistant.retriever.refresh()  # rebuild now, not on the next question
    except IndexBusy as exc:
        st.session_state.refresh_report = None
        st.sidebar.warning(
            ui.safe_markdown(
                f"A refresh from elsewhere is running: another ingest ({exc.holder}) is "
                "writing this index. Its articles appear when it has finished; try again then."
            )
        )
        return
    except expected_errors() as exc:
        st.session_state.refresh_report = ("error", f"Refresh failed: {exc}", [])
        return
    finally:
        lock.release()
        bar.empty()
    overview.clear()
    article.clear()
    s = summary.as_dict()
    text = (
        f"Refresh done in {s['seconds']:.1f} s: {s['added']} added, {s['updated']} updated, "
        f"{s['unchanged']} unchanged, {s['removed']} removed, {s['duplicates']} duplicates, "
        f"{s['chunks_written']} chunks written."
    )
    problems = [str(p) for p in summary.failed] + [str(p) for p in summary.warnings]
    st.session_state.refresh_report = ("warn" if summary.failed else "ok", text, problems)
    st.rerun()


def _when(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


# --- answers and sources ------------------------------------------------------------------
def show_answer(answer, key: str, fingerprint: str, msg: int) -> None:
    """Notices, the answer text, its numbered sources and the export buttons."""
    for notice in answer.notices:
        st.info(ui.safe_markdown(notice), icon=":material/info:")
    st.markdown(ui.answer_markdown(answer.text))
    show_sources(answer, key, fingerprint, msg)
    show_export(answer, msg)


def show_sources(answer, key: str, fingerprint: str, msg: int) -> None:
    if not answer.citations:
        return
    mode = "extractive quotes" if answer.mode == "extractive" else "written by the LLM"
    st.caption(f"Sources ({mode}; cited sentences are marked)")
    for c in answer.citations:
        with st.container(border=True):
            st.markdown(ui.source_label(c.n, c.title, c.date, c.source))
            note = ui.support_note(c.supported, c.support)
            if note:
                st.markdown(f":orange[{ui.safe_markdown(note)}]")
            st.markdown(ui.highlight_html(c.quote, c.highlight), unsafe_allow_html=True)
            full = st.expander("Full article", key=f"article-{msg}-{c.n}", on_change="rerun")
            if full.open:
                with full:
                    show_article(c, key, fingerprint)


def show_article(c, key: str, fingerprint: str) -> None:
    art = article(key, fingerprint, c.article_id)
    if art is None:
        st.info("This article is no longer in the index (a later refresh removed it).")
        return
    changed = bool(c.version) and art.version != c.version
    if changed:  # the offsets belong to the version that was cited: only a verbatim find
        start, end = ui.locate(art.text, c.quote, -1, -1)
    else:
        start, end = ui.locate(art.text, c.quote, c.start, c.end)
    link = ui.source_link(art.url)
    meta = [ui.safe_markdown(p) for p in (art.title, art.date or "", art.source) if p]
    st.markdown(" · ".join(meta) + (f" · {link}" if link else ""))
    if changed:
        st.info(
            "This article has changed since this answer was written (a later refresh "
            "updated it). Showing its current text"
            + ("; the cited passage is still in it." if start is not None else ".")
        )
    if start is None:
        st.caption("The cited passage is no longer in this article (it changed since).")
        start = end = 0
    lo, hi = ui.article_window(art.text, start, end)
    if (lo, hi) != (0, len(art.text)):
        st.caption(f"A long article: showing characters {lo:,}–{hi:,} of {len(art.text):,}.")
    if end > start:
        st.caption(ui.passage_position(art.text, start, end))
    shown = art.text[lo:hi]
    st.markdown(ui.article_html(shown, start - lo, end - lo, c.highlight), unsafe_allow_html=True)


def show_export(answer, msg: int) -> None:
    markdown = answer.to_markdown()
    left, right = st.columns([1, 3])
    left.download_button(
        "Export as Markdown",
        data=markdown,
        file_name=ui.export_filename(answer.question),
        mime="text/markdown",
        icon=":material/download:",
        key=f"export-{msg}",
        on_click="ignore",
    )
    with right.popover("Copy with citations", icon=":material/content_copy:"):
        st.code(markdown, language="markdown", wrap_lines=True)


# --- chat ---------------------------------------------------------------------------------
def ask(question: str, key: str, fingerprint: str, filters) -> None:
    """Stream one answer into the chat and keep it in the history."""
    from rag.assistant import Done, Status, Token

    assistant = shared_assistant(key)
    history = [(m["role"], m["content"]) for m in st.session_state.messages if not m.get("error")]
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(ui.safe_markdown(question))
    with st.chat_message("assistant"):
        status = st.status("Searching the articles…", expanded=False)
        body = st.empty()
        result = {}

        def tokens():
            for event in assistant.stream(question, history=history, filters=filters):
                if isinstance(event, Status):
                    status.update(label=event.text)
                    status.markdown(ui.safe_markdown(event.text))
                elif isinstance(event, Token):
                    yield event.text
                elif isinstance(event, Done):
                    result["answer"] = event.answer

        try:
            with body.container():
                st.write_stream(ui.escape_stream(tokens(), layout=True))
        except expected_errors() as exc:
            status.update(label="Could not answer", state="error")
            body.error(ui.safe_markdown(str(exc)))
            st.session_state.messages.append(
                {"role": "assistant", "content": str(exc), "error": True}
            )
            return
        except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the trace
            log.exception("answering %r failed", question)
            status.update(label="Could not answer", state="error")
            text = f"Something went wrong while answering ({exc.__class__.__name__}: {exc})."
            body.error(ui.safe_markdown(text + " The details are in the server log."))
            st.session_state.messages.append({"role": "assistant", "content": text, "error": True})
            return
        answer = result["answer"]
        n = len(answer.citations)
        label = f"Answered from {n} source{'s' if n != 1 else ''}" if n else "No source found"
        status.update(label=label, state="complete")
        body.empty()
        msg = len(st.session_state.messages)
        st.session_state.messages.append(
            {"role": "assistant", "content": answer.text, "answer": answer}
        )
        show_answer(answer, key, fingerprint, msg)


def show_history(key: str, fingerprint: str) -> None:
    for i, message in enumerate(st.session_state.messages):
        with st.chat_message(message["role"]):
            if "answer" in message:
                show_answer(message["answer"], key, fingerprint, i)
            elif message.get("error"):
                st.error(ui.safe_markdown(message["content"]))
            else:
                st.markdown(ui.safe_markdown(message["content"]))


def main() -> None:
    st.set_page_config(
        page_title="Newsroom archive", page_icon=":material/newspaper:", layout="wide"
    )
    st.session_state.setdefault("messages", [])
    try:
        settings = load_settings()
    except SettingsError as exc:
        st.error(ui.safe_markdown(str(exc)))
        st.stop()
    key = settings.model_dump_json()

    st.sidebar.title(":material/newspaper: Newsroom archive")
    st.sidebar.button("New chat", icon=":material/edit_square:", on_click=new_chat, key="new-chat")
    try:
        index = shared_index(key)
        fingerprint = index.fingerprint()
        stats, sources = overview(key, fingerprint)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        st.stop()
    sidebar_index(settings, stats)
    if stats.articles == 0:
        sidebar_refresh(settings, key)
        st.info(
            "**The index is empty.** Fill it with `python -m ingest` (reads "
            f"{ui.safe_markdown(str(settings.corpus_dir))}; pass other folders or files as "
            "arguments), or press **Refresh corpus** in the sidebar."
        )
        st.chat_input("Ask the archive…", disabled=True)
        st.stop()

    try:
        shared_assistant(key)  # load models now, not on the first question
        sidebar_mode(key)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        st.stop()
    filters = sidebar_filters(stats, sources)
    sidebar_refresh(settings, key)

    st.title("Ask the archive")
    intro = st.empty()  # always one slot, so answers keep their place between reruns
    if not st.session_state.messages:
        intro.caption(
            "Questions in English or German. Answers cite the articles they come from [n]; "
            "open a source to read the full article with the passage marked."
        )
    show_history(key, fingerprint)
    question = st.chat_input("Ask the archive…", max_chars=2000)
    if question and question.strip():
        ask(question.strip(), key, fingerprint, filters)


def run() -> None:
    """The page, with any unexpected failure shown as one line (details go to the log)."""
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - st.stop()/st.rerun() are BaseExceptions
        log.exception("the page failed")
        st.error(
            ui.safe_markdown(
                f"Something went wrong ({exc.__class__.__name__}: {exc}). The details are in "
                "the server log; reload the page to try again."
            )
        )


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    run()
