"""The chat view: ask the article archive, read the answer, check every source.

Retrieval and answering live in `rag.assistant`, escaping and highlight markup in
`rag.ui`; this module lays out what a journalist sees:

- a filter bar above the chat (not in the sidebar, which is folded on a phone): date
  range and outlets in a popover, the active filters as a line beside it, and a reset;
  the values are also kept aside (`filters-kept`), because Streamlit forgets a widget's
  value while another view is shown;
- on an empty chat, three example questions drawn from the index (`desk.examples`);
- each answer with the filters it was asked under, the answer's notices (a filter or a
  missing date that left articles out comes first), the text, one card per cited
  article (outlet, date, link to the original, the quoted passages with the cited
  sentences marked, the full article on demand), and two exports: a one-click copy of
  clean text with numbered citations, and a Markdown download;
- on a phone-narrow screen (`desk.components.narrow_screen`) the passages of long cards
  start folded, so two answers stay a short scroll.

The assistant's progress lines and notices are English text; `status_text` and
`notice_text` recognise the known ones and say them in the interface language (a shortcut:
a notice they do not know is shown as written).

Everything that comes from articles or from a model is rendered as text
(`rag.ui.safe_markdown`); the only HTML written here is the highlight markup of
`rag.ui`. Every word on screen comes from `STRINGS` (English, German).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import streamlit as st

from desk import archive
from desk import examples as example_questions
from desk.components import copy_button, narrow_screen
from desk.i18n import DATE_INPUT_FORMAT, language, long_date, translator
from desk.resources import (
    article,
    expected_errors,
    llm_status,
    overview,
    shared_assistant,
    shared_index,
)
from rag import ui
from rag.settings import Settings

log = logging.getLogger("newsroom.chat")

STRINGS = {
    "title": ("Ask the archive", "Das Archiv fragen"),
    "intro": (
        "Questions in English or German. Answers cite the articles they come from [n]; "
        "open a source to read the full article with the passage marked.",
        "Fragen auf Deutsch oder Englisch. Antworten nennen die Artikel, aus denen sie "
        "stammen [n]; ein Klick auf eine Quelle zeigt den ganzen Artikel mit der Stelle "
        "markiert.",
    ),
    "examples": ("Try one of these:", "Zum Beispiel:"),
    "placeholder": ("Ask the archive…", "Frage an das Archiv…"),
    "new_chat": ("New chat", "Neues Gespräch"),
    "index": ("Archive", "Archiv"),
    "articles": ("Articles", "Artikel"),
    "passages": ("Passages", "Textstellen"),
    "dates": ("Dates", "Zeitraum"),
    "last_refresh": ("Last refresh", "Zuletzt aktualisiert"),
    "never": ("never", "nie"),
    "search_model": ("Search model", "Suchmodell"),
    "mode": ("Answer mode", "Antwortmodus"),
    "mode_quotes": (
        "**Quotes only**: answers quote the best-matching sentences word for word.",
        "**Nur Zitate**: Antworten zitieren die passendsten Sätze wörtlich.",
    ),
    "mode_llm": ("**Written by the language model**", "**Vom Sprachmodell geschrieben**"),
    "server_ok": (":green[● server reachable]", ":green[● Server erreichbar]"),
    "server_unchecked": (":gray[● server not checked]", ":gray[● Server nicht geprüft]"),
    "server_down": (
        ":red[● server not reachable] — answers fall back to quotes only.",
        ":red[● Server nicht erreichbar] — Antworten bestehen dann nur aus Zitaten.",
    ),
    "empty": (
        "**The index is empty.** Add articles in the **Archive** view (upload), or with "
        "`python -m ingest` (reads {corpus}; pass other folders or files as arguments).",
        "**Der Index ist leer.** Artikel kommen in der Ansicht **Archiv** (Hochladen) "
        "hinein, oder mit `python -m ingest` (liest {corpus}; andere Ordner oder Dateien "
        "als Argumente).",
    ),
    "loading": (
        "Loading the search model and the keyword index…",
        "Suchmodell und Stichwortindex werden geladen…",
    ),
    # filters
    "filters": ("Filters", "Filter"),
    "published": ("Published between", "Erschienen zwischen"),
    "outlets": ("Outlets", "Medien"),
    "all_outlets": ("All outlets", "Alle Medien"),
    "reset": ("Reset filters", "Filter zurücksetzen"),
    "no_filters": ("Searching all {n} articles.", "Durchsucht alle {n} Artikel."),
    "filter_dates": ("published {lo} – {hi}", "erschienen {lo} – {hi}"),
    "filter_from": ("published from {lo}", "erschienen ab {lo}"),
    "filter_to": ("published until {hi}", "erschienen bis {hi}"),
    "filter_outlets": ("outlets: {names}", "Medien: {names}"),
    "answer_filters": ("Asked with filters: {what}", "Gefragt mit Filtern: {what}"),
    "left_out_date_range": (
        "{n} matching article(s) are outside the date range; widen it or reset the filters.",
        "{n} passende(r) Artikel liegen außerhalb des Zeitraums; erweitern Sie ihn oder "
        "setzen Sie die Filter zurück.",
    ),
    "left_out_undated": (
        "{n} matching article(s) have no date and are left out by the date filter.",
        "{n} passende(r) Artikel haben kein Datum und fallen durch den Datumsfilter heraus.",
    ),
    "left_out_sources": (
        "{n} matching article(s) are from other outlets than the ones chosen.",
        "{n} passende(r) Artikel stammen aus anderen als den gewählten Medien.",
    ),
    "filtered_now": ("Active filters: {what}", "Aktive Filter: {what}"),
    # answering
    "searching": ("Searching the articles…", "Die Artikel werden durchsucht…"),
    "status_rewrite": ("Rewriting question…", "Die Frage wird eingeordnet…"),
    "status_search": ("Searching {n} articles…", "{n} Artikel werden durchsucht…"),
    "status_write": ("Writing answer…", "Die Antwort wird geschrieben…"),
    "status_fallback": (
        "The language model failed — showing quotes only",
        "Das Sprachmodell ist ausgefallen — es folgen nur Zitate",
    ),
    "answered_1": ("Answered from 1 article", "Antwort aus 1 Artikel"),
    "answered_n": ("Answered from {n} articles", "Antwort aus {n} Artikeln"),
    "no_source": ("No source found", "Keine Quelle gefunden"),
    "failed": ("Could not answer", "Keine Antwort möglich"),
    "crashed": (
        "Something went wrong while answering ({what}). The details are in the server log.",
        "Beim Antworten ist etwas schiefgegangen ({what}). Details stehen im Server-Log.",
    ),
    # notices from the answer step, in newsroom words
    "notice_weak": (
        "Citation [{n}] is not clearly supported by its source: check it.",
        "Quelle [{n}] trägt die Aussage nicht eindeutig: bitte prüfen.",
    ),
    "notice_unfinished": (
        "Citation [{n}] belongs to the unfinished last sentence: check it.",
        "Quelle [{n}] gehört zum abgebrochenen letzten Satz: bitte prüfen.",
    ),
    "notice_removed": (
        "Removed the citation {marker}: the answer has only {n} source(s).",
        "Die Quellenangabe {marker} wurde entfernt: die Antwort hat nur {n} Quelle(n).",
    ),
    "notice_uncited": (
        "The answer cites no source: check it against the sources.",
        "Die Antwort nennt keine Quelle: bitte mit den Quellen abgleichen.",
    ),
    "notice_fallback": (
        "The language model did not answer ({reason}): showing quotes only.",
        "Das Sprachmodell hat nicht geantwortet ({reason}): es folgen nur Zitate.",
    ),
    "notice_cut": (
        "The answer was cut off at its length limit (RAG_LLM_MAX_TOKENS={n}): its end is missing.",
        "Die Antwort wurde an ihrer Längengrenze abgeschnitten (RAG_LLM_MAX_TOKENS={n}): "
        "das Ende fehlt.",
    ),
    "notice_stopped": (
        "The language model stopped the answer early ({reason}): its end may be missing.",
        "Das Sprachmodell hat die Antwort vorzeitig beendet ({reason}): das Ende kann fehlen.",
    ),
    # sources
    "sources_quotes": (
        "Sources (quotes only; cited sentences are marked)",
        "Quellen (nur Zitate; zitierte Sätze sind markiert)",
    ),
    "sources_llm": (
        "Sources (answer written by the language model; cited sentences are marked)",
        "Quellen (Antwort vom Sprachmodell geschrieben; zitierte Sätze sind markiert)",
    ),
    "no_outlet": ("outlet unknown", "Medium unbekannt"),
    "no_date": ("undated", "ohne Datum"),
    "original": ("original ↗", "Original ↗"),
    "untitled": ("(untitled)", "(ohne Titel)"),
    "show_passages_1": ("Show the quoted passage", "Zitierte Stelle zeigen"),
    "show_passages_n": ("Show the {n} quoted passages", "Die {n} zitierten Stellen zeigen"),
    "weak": (
        "⚠ weak support (the quoted passage matches the claim only in part: {score})",
        "⚠ schwach belegt (die zitierte Stelle trägt die Aussage nur zum Teil: {score})",
    ),
    "full_article": ("Full article", "Ganzer Artikel"),
    "gone": (
        "This article is no longer in the index (a later refresh removed it).",
        "Dieser Artikel ist nicht mehr im Index (eine spätere Aktualisierung hat ihn entfernt).",
    ),
    "changed": (
        "This article has changed since this answer was written (a later refresh updated "
        "it). Showing its current text{still}",
        "Dieser Artikel hat sich seit der Antwort geändert (eine spätere Aktualisierung). "
        "Gezeigt wird der aktuelle Text{still}",
    ),
    "changed_still": (
        "; the cited passage is still in it.",
        "; die zitierte Stelle steht noch darin.",
    ),
    "passage_lost": (
        "The cited passage is no longer in this article (it changed since).",
        "Die zitierte Stelle steht nicht mehr in diesem Artikel (er hat sich geändert).",
    ),
    "long_article": (
        "A long article: showing characters {lo}–{hi} of {n}.",
        "Ein langer Artikel: gezeigt werden die Zeichen {lo}–{hi} von {n}.",
    ),
    "position": (
        "The passage (tinted, cited sentences marked) is in paragraph {where} of {total}.",
        "Die Stelle (hinterlegt, zitierte Sätze markiert) steht in Absatz {where} von {total}.",
    ),
    # export
    "copy": ("Copy with citations", "Mit Quellen kopieren"),
    "copied": ("Copied", "Kopiert"),
    "copy_failed": ("Copy failed: use the Markdown export", "Kopieren fehlgeschlagen"),
    "export": ("Export as Markdown", "Als Markdown exportieren"),
}
t = translator(STRINGS)

LONG_CARD_CHARS = 400  # a card whose passages are longer starts folded on a phone
_DATE_KEY = "filter-dates"  # the date widget's key prefix (its range is part of the key)
_OUTLETS_KEY = "filter-outlets"
_KEPT_KEY = "filters-kept"  # a copy of both that outlives the widgets (see filter_bar)


# --- the page ----------------------------------------------------------------------------
def page(settings: Settings, key: str) -> None:
    """The chat view (app.py's default page)."""
    st.session_state.setdefault("messages", [])
    try:
        index = shared_index(key)
        fingerprint = index.fingerprint()
        stats, sources = overview(key, fingerprint)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        return
    st.sidebar.button(
        t("new_chat"), icon=":material/edit_square:", on_click=new_chat, key="new-chat"
    )
    sidebar_index(settings, stats)
    with st.sidebar:
        archive.refresh_panel(settings, key)  # the Archive view's refresh, one click away
    if stats.articles == 0:
        st.info(t("empty", corpus=ui.safe_markdown(str(settings.corpus_dir))))
        st.chat_input(t("placeholder"), disabled=True)
        return
    try:
        with st.spinner(t("loading")):
            shared_assistant(key)  # load models now, not on the first question
        sidebar_mode(key)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        return

    narrow = narrow_screen()
    st.title(t("title"))
    filters = filter_bar(stats, sources)
    pending = st.session_state.pop("pending_question", None)
    intro = st.empty()  # always one slot, so answers keep their place between reruns
    if not st.session_state.messages and not pending:
        with intro.container():
            st.caption(t("intro"))
            show_examples(key, fingerprint, stats)
    show_history(key, fingerprint, narrow)
    question = st.chat_input(t("placeholder"), max_chars=2000)
    question = pending or question
    if question and question.strip():
        intro.empty()  # the examples make way for the first question
        ask(question.strip(), key, fingerprint, filters, narrow)


def new_chat() -> None:
    st.session_state.messages = []
    for name in [k for k in st.session_state if str(k).startswith(("article-", "passages-"))]:
        del st.session_state[name]  # the next chat's sources start closed


# --- sidebar -----------------------------------------------------------------------------
def sidebar_index(settings: Settings, stats) -> None:
    st.sidebar.subheader(t("index"))
    dates = (
        f"{long_date(stats.date_min) or '?'} – {long_date(stats.date_max) or '?'}"
        if stats.articles
        else "–"
    )
    rows = [
        (t("articles"), f"{stats.articles:,}"),
        (t("passages"), f"{stats.chunks:,}"),
        (t("dates"), dates),
        (t("last_refresh"), _when(stats.last_refresh)),
    ]
    st.sidebar.markdown(
        "  \n".join(f"{name}: **{ui.safe_markdown(value)}**" for name, value in rows)
    )
    model = stats.embedding_model or settings.embedding_model
    st.sidebar.caption(f"{t('search_model')}: {ui.safe_markdown(model)}")


def sidebar_mode(key: str) -> None:
    st.sidebar.subheader(t("mode"))
    status = llm_status(key)
    if status.backend == "extractive":
        st.sidebar.markdown(t("mode_quotes"))
        return
    where = ui.safe_markdown(f"{status.backend} · {status.model or '?'} · {status.base_url}")
    st.sidebar.markdown(f"{t('mode_llm')}: {where}")
    if status.reachable:
        st.sidebar.markdown(t("server_ok"))
    elif status.reachable is None:
        st.sidebar.markdown(t("server_unchecked"))
    else:
        st.sidebar.markdown(t("server_down"))
    if status.detail:
        st.sidebar.caption(ui.safe_markdown(status.detail))


def _when(iso: str | None) -> str:
    if not iso:
        return t("never")
    try:
        when = dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return f"{long_date(when.date().isoformat())}, {when:%H:%M}"


# --- filters -----------------------------------------------------------------------------
def filter_bar(stats, sources: list[str]):
    """Date range and outlets above the chat; returns rag.retrieve.Filters or None."""
    from rag.retrieve import Filters

    bounds = _date_bounds(stats)
    date_key = f"{_DATE_KEY}-{bounds[0]}-{bounds[1]}" if bounds else None
    # Streamlit forgets a widget's value on a page that does not show it: the filters are
    # kept aside too, so they survive a visit to another view.
    kept = st.session_state.get(_KEPT_KEY, {})
    if bounds:
        st.session_state.setdefault(date_key, kept.get(date_key, bounds))
    chosen = st.session_state.get(_OUTLETS_KEY, kept.get("outlets", []))
    # an outlet whose articles were all removed meanwhile is no longer an option
    st.session_state[_OUTLETS_KEY] = [o for o in chosen if o in sources]
    with st.container(horizontal=True, vertical_alignment="center", key="filter-bar"):
        # one label whatever is chosen, so the popover stays open while choosing
        with st.popover(t("filters"), icon=":material/filter_list:"):
            if bounds:
                lo, hi = bounds
                st.date_input(  # its value is in the session state (kept, example, reset)
                    t("published"),
                    min_value=lo,
                    max_value=hi,
                    format=DATE_INPUT_FORMAT[language()],
                    key=date_key,  # a refresh that widens the range starts a new widget
                )
            st.multiselect(
                t("outlets"),
                sources,
                key=_OUTLETS_KEY,
                placeholder=t("all_outlets"),
                disabled=not sources,
            )
        date_from, date_to, outlets = _chosen(date_key, bounds)
        st.session_state[_KEPT_KEY] = {date_key: st.session_state.get(date_key), "outlets": outlets}
        if date_from or date_to or outlets:
            filters = Filters(date_from=date_from, date_to=date_to, sources=tuple(outlets))
            st.caption(t("filtered_now", what=ui.safe_markdown(describe(filters))))
            st.button(
                t("reset"),
                icon=":material/filter_alt_off:",
                key="reset-filters",
                on_click=reset_filters,
                args=(date_key,),
            )
            return filters
        st.caption(t("no_filters", n=f"{stats.articles:,}"))
    return None


def _date_bounds(stats) -> tuple[dt.date, dt.date] | None:
    if not (stats.date_min and stats.date_max):
        return None
    return dt.date.fromisoformat(stats.date_min), dt.date.fromisoformat(stats.date_max)


def _chosen(date_key, bounds) -> tuple[str | None, str | None, list[str]]:
    """The filters as the widgets hold them: (from, to, outlets); None/[] when unset."""
    date_from = date_to = None
    picked = st.session_state.get(date_key) if date_key else None
    complete = isinstance(picked, tuple | list) and len(picked) == 2
    if bounds and complete and tuple(picked) != tuple(bounds):
        date_from, date_to = picked[0].isoformat(), picked[1].isoformat()
    return date_from, date_to, list(st.session_state.get(_OUTLETS_KEY) or [])


def reset_filters(date_key: str | None) -> None:
    st.session_state.pop(_KEPT_KEY, None)
    if date_key:
        st.session_state.pop(date_key, None)
    st.session_state[_OUTLETS_KEY] = []


def describe(filters) -> str:
    """The filters in words, e.g. 'published 1 June 2025 – 30 June 2025 · outlets: ORF'."""
    parts = []
    lo, hi = long_date(filters.date_from), long_date(filters.date_to)
    if lo and hi:
        parts.append(t("filter_dates", lo=lo, hi=hi))
    elif lo:
        parts.append(t("filter_from", lo=lo))
    elif hi:
        parts.append(t("filter_to", hi=hi))
    if filters.sources:
        parts.append(t("filter_outlets", names=", ".join(filters.sources)))
    return " · ".join(parts)


# --- examples ----------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _examples(key: str, fingerprint: str, lang: str) -> list[example_questions.Example]:
    return example_questions.from_index(shared_index(key))


def show_examples(key: str, fingerprint: str, stats) -> None:
    try:
        found = _examples(key, fingerprint, language())
    except expected_errors():
        return  # examples are a convenience: the chat works without them
    if not found:
        return
    st.caption(t("examples"))
    bounds = _date_bounds(stats)
    date_key = f"{_DATE_KEY}-{bounds[0]}-{bounds[1]}" if bounds else None
    for i, example in enumerate(found):
        st.button(
            ui.safe_markdown(example.question),  # a title may hold Markdown: shown as text
            key=f"example-{i}",
            icon=":material/lightbulb:",
            on_click=choose_example,
            args=(example, date_key),
        )


def choose_example(example: example_questions.Example, date_key: str | None) -> None:
    """Ask the example (on the next run), with its day as the date filter when it has one."""
    st.session_state.pending_question = example.question
    if example.day and date_key:
        day = dt.date.fromisoformat(example.day)
        st.session_state[date_key] = (day, day)


# --- answering ---------------------------------------------------------------------------
def ask(question: str, key: str, fingerprint: str, filters, narrow: bool) -> None:
    """Stream one answer into the chat and keep it in the history."""
    from rag.assistant import Done, Status, Token

    assistant = shared_assistant(key)
    history = [(m["role"], m["content"]) for m in st.session_state.messages if not m.get("error")]
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(ui.safe_markdown(question))
    with st.chat_message("assistant"):
        status = st.status(t("searching"), expanded=False)
        body = st.empty()
        result = {}

        def tokens():
            for event in assistant.stream(question, history=history, filters=filters):
                if isinstance(event, Status):
                    text = status_text(event.text)
                    status.update(label=text)
                    status.markdown(ui.safe_markdown(text))
                elif isinstance(event, Token):
                    yield event.text
                elif isinstance(event, Done):
                    result["answer"] = event.answer

        try:
            with body.container():
                st.write_stream(ui.escape_stream(tokens(), layout=True))
        except expected_errors() as exc:
            status.update(label=t("failed"), state="error")
            body.error(ui.safe_markdown(str(exc)))
            st.session_state.messages.append(
                {"role": "assistant", "content": str(exc), "error": True}
            )
            return
        except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the trace
            log.exception("answering %r failed", question)
            status.update(label=t("failed"), state="error")
            text = t("crashed", what=f"{exc.__class__.__name__}: {exc}")
            body.error(ui.safe_markdown(text))
            st.session_state.messages.append({"role": "assistant", "content": text, "error": True})
            return
        answer = result["answer"]
        message = {"role": "assistant", "content": answer.text, "answer": answer}
        message["filters"] = filters
        n = len(answer.sources)
        label = (t("answered_1") if n == 1 else t("answered_n", n=n)) if n else t("no_source")
        status.update(label=label, state="complete")
        body.empty()
        msg = len(st.session_state.messages)
        st.session_state.messages.append(message)
        show_answer(message, key, fingerprint, msg, narrow)


def status_text(text: str) -> str:
    """The assistant's progress line in the interface language."""
    import re

    if text.startswith("Rewriting question"):
        return t("status_rewrite")
    if m := re.match(r"Searching ([\d,.]+) articles", text):
        return t("status_search", n=m.group(1))
    if text.startswith("Writing answer"):
        return t("status_write")
    if text.startswith("The LLM failed"):
        return t("status_fallback")
    return text


# (pattern of an answer-step notice, its string, the groups it fills in)
_NOTICES = [
    (r"citation \[(\d+)\] is not clearly supported by its \w+ — check it", "notice_weak", ["n"]),
    (r"citation \[(\d+)\] belongs to the unfinished last sentence — check it",
     "notice_unfinished", ["n"]),
    (r"removed citation (.+): only (\d+) sources?", "notice_removed", ["marker", "n"]),
    (r"the answer cites no source — check it against the sources", "notice_uncited", []),
    (r"(.+?) — showing extractive answer.*", "notice_fallback", ["reason"]),
    (r"the answer was cut off at the length limit \(RAG_LLM_MAX_TOKENS=(\d+)\).*",
     "notice_cut", ["n"]),
    (r"the LLM server stopped the answer early \((.+?)\).*", "notice_stopped", ["reason"]),
]  # fmt: skip


def notice_text(notice: str) -> str:
    """An answer-step notice in the interface language and newsroom words; others as
    they are (the assistant writes them in English)."""
    import re

    for pattern, name, fields in _NOTICES:
        if m := re.fullmatch(pattern, notice.strip()):
            return t(name, **dict(zip(fields, m.groups(), strict=True)))
    return notice


def show_history(key: str, fingerprint: str, narrow: bool) -> None:
    for i, message in enumerate(st.session_state.messages):
        with st.chat_message(message["role"]):
            if "answer" in message:
                show_answer(message, key, fingerprint, i, narrow)
            elif message.get("error"):
                st.error(ui.safe_markdown(message["content"]))
            else:
                st.markdown(ui.safe_markdown(message["content"]))


def show_answer(message: dict, key: str, fingerprint: str, msg: int, narrow: bool) -> None:
    """The filters it was asked under, its notices, the text, its sources, the exports."""
    answer = message["answer"]
    filters = answer_filters(message)
    if filters is not None and filters.active:
        st.caption(
            ":material/filter_alt: " + t("answer_filters", what=ui.safe_markdown(describe(filters)))
        )
    notes = list(getattr(answer, "filter_notes", None) or [])
    for note in notes:  # a filter kept matching articles out: said first, in words
        st.warning(t(f"left_out_{note.cause}", n=note.articles), icon=":material/filter_alt:")
    shown = {note.text for note in notes}
    for notice in answer.notices:
        if notice not in shown:
            st.info(ui.safe_markdown(notice_text(notice)), icon=":material/info:")
    st.markdown(ui.answer_markdown(answer.text))
    show_sources(answer, key, fingerprint, msg, narrow)
    show_export(answer, msg, filters)


def answer_filters(message: dict):
    """The filters an answer was asked under (recorded on the answer, or beside it)."""
    return getattr(message["answer"], "filters", None) or message.get("filters")


# --- source cards ------------------------------------------------------------------------
@dataclass
class Card:
    """One cited article and the passages of it the answer quotes."""

    numbers: list[int]
    article_id: str
    title: str
    date: str | None
    outlet: str
    url: str
    passages: list = field(default_factory=list)  # rag.answer.Citation


def cards(answer, url_of=lambda article_id: "") -> list[Card]:
    """One card per cited article (`Answer.sources`), in number order; `url_of` finds the
    original's URL for articles indexed before URLs travelled with the passages."""
    return [
        Card([s.n], s.article_id, s.title, s.date, s.source, s.url or url_of(s.article_id),
             list(s.passages))
        for s in answer.sources
    ]  # fmt: skip


def show_sources(answer, key: str, fingerprint: str, msg: int, narrow: bool = False) -> None:
    """One bordered card per cited article: label, outlet · date · link, passages."""
    found = cards(answer, lambda article_id: _article_url(key, fingerprint, article_id))
    if not found:
        return
    st.caption(t("sources_quotes") if answer.mode == "extractive" else t("sources_llm"))
    for card in found:
        first = card.numbers[0]
        with st.container(border=True, key=f"card-{msg}-{first}"):
            st.markdown(card_label(card))
            st.markdown(card_meta(card))
            long = sum(len(p.quote) for p in card.passages) > LONG_CARD_CHARS
            if narrow and long:
                n = len(card.passages)
                label = t("show_passages_1") if n == 1 else t("show_passages_n", n=n)
                with st.expander(label, key=f"passages-{msg}-{first}"):
                    show_passages(card)
            else:
                show_passages(card)
            full = st.expander(t("full_article"), key=f"article-{msg}-{first}", on_change="rerun")
            if full.open:
                with full:
                    show_article(card, key, fingerprint)


def card_label(card: Card) -> str:
    """`**[1]** Title` (several numbers when the answer cites several passages of it)."""
    numbers = "".join(f"&#91;{n}&#93;" for n in card.numbers)
    title = ui.safe_markdown(card.title.strip() or t("untitled"))
    return f"**{numbers}** {title}"


def card_meta(card: Card) -> str:
    """`ORF · 5 September 2025 · original ↗` as safe Markdown."""
    parts = [
        ui.safe_markdown(card.outlet.strip() or t("no_outlet")),
        ui.safe_markdown(long_date(card.date) or t("no_date")),
    ]
    link = ui.source_link(card.url, t("original"))
    return " · ".join(parts + ([link] if link else []))


def _article_url(key: str, fingerprint: str, article_id: str) -> str:
    art = article(key, fingerprint, article_id)
    return art.url if art is not None else ""


def show_passages(card: Card) -> None:
    """The quoted passages of one article, in text order, cited sentences marked."""
    for i, c in enumerate(card.passages):
        if i:
            st.markdown("&#8230;")  # the passages are apart in the article
        if not c.supported:
            st.markdown(f":orange[{ui.safe_markdown(t('weak', score=f'{c.support:.2f}'))}]")
        st.markdown(ui.highlight_html(c.quote, c.highlight), unsafe_allow_html=True)


def show_article(card: Card, key: str, fingerprint: str) -> None:
    art = article(key, fingerprint, card.article_id)
    if art is None:
        st.info(t("gone"))
        return
    spans, changed = [], False
    for c in card.passages:
        stale = bool(c.version) and art.version != c.version
        changed = changed or stale
        # the offsets belong to the version that was cited: only a verbatim find then
        start, end = (
            ui.locate(art.text, c.quote, -1, -1)
            if stale
            else ui.locate(art.text, c.quote, c.start, c.end)
        )
        if start is not None:
            spans.append((start, end, c.highlight))
    meta = [ui.safe_markdown(p) for p in (art.title, long_date(art.date), art.source) if p]
    link = ui.source_link(art.url, t("original"))
    st.markdown(" · ".join(meta + ([link] if link else [])))
    if changed:
        st.info(t("changed", still=t("changed_still") if spans else "."))
    if not spans:
        st.caption(t("passage_lost"))
    start = min((s for s, _e, _h in spans), default=0)
    end = max((e for _s, e, _h in spans), default=0)
    lo, hi = ui.article_window(art.text, start, end)
    if (lo, hi) != (0, len(art.text)):
        st.caption(t("long_article", lo=f"{lo:,}", hi=f"{hi:,}", n=f"{len(art.text):,}"))
    if spans:
        st.caption(position(art.text, spans[0][0]))
    shifted = [(s - lo, e - lo, h) for s, e, h in spans if s >= lo and e <= hi]
    st.markdown(ui.passages_html(art.text[lo:hi], shifted), unsafe_allow_html=True)


def position(text: str, start: int) -> str:
    """Which paragraph the passage starting at `start` is in."""
    from rag.text import paragraph_spans

    spans = paragraph_spans(text)
    where = next((i for i, (_s, e) in enumerate(spans, 1) if e > start), len(spans))
    return t("position", where=where, total=len(spans))


# --- export ------------------------------------------------------------------------------
def show_export(answer, msg: int, filters) -> None:
    with st.container(horizontal=True, key=f"export-bar-{msg}"):
        copy_button(
            plain_text(answer, filters),
            label=t("copy"),
            done=t("copied"),
            failed=t("copy_failed"),
            key=f"copy-{msg}",
        )
        st.download_button(
            t("export"),
            data=answer.to_markdown(),  # with the filters and each source's link
            file_name=ui.export_filename(answer.question),
            mime="text/markdown",
            icon=":material/download:",
            key=f"export-{msg}",
            on_click="ignore",
        )


def plain_text(answer, filters) -> str:
    """Clean text for a story draft: the answer and its numbered citations (outlet, date,
    title, URL; `Answer.to_text()`), then the filters it was asked under, if any."""
    text = answer.to_text()
    if filters is not None and filters.active:
        text = text.rstrip() + "\n\n" + t("answer_filters", what=describe(filters)) + "\n"
    return text
