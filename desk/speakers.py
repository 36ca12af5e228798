"""The "Who said what" view: one person's statements, on a topic, over time, citable.

`page(settings, key)` lays out:
- a person picker with the index's speakers, most quoted first (any other name can be
  typed: it is matched like `python -m rag quotes NAME`, so "Peskov" finds "Dmitri
  Peskow"), an optional topic (English or German) and an optional date range; a link
  can preset person and topic (`?person=Peskov&topic=NATO`);
- a timeline: statements per day, or per week when they span more than two months;
- one card per statement: its words (direct quotes verbatim, indirect and paraphrased
  speech marked), the speech verb and how the article names the speaker, date, outlet
  and article; a toggle opens the whole article with the statement highlighted;
- a Markdown export of the list with numbered citations (outlet, date, title, link).

The search is `rag.quotes.search.StatementSearch` over the shared index, one per process
(`st.cache_resource`); its speaker directory is cached per index state, so a new ingest
shows up at the next rerun. Topic search embeds the topic with the Assistant's model
(loaded once for every view, `desk.resources.shared_assistant`), only when a topic is
given. Every text from an article goes through `rag.ui` (escaped; the only HTML is its
highlight markup).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import streamlit as st

from desk.i18n import DATE_INPUT_FORMAT, language, long_date, translator
from desk.resources import article, expected_errors, shared_assistant, shared_index
from rag import ui
from rag.settings import Settings

MAX_CARDS = 50  # statements shown at once; the export holds all of them
WEEKLY_AFTER_DAYS = 62

STRINGS = {
    "title": ("Who said what", "Wer sagte was"),
    "intro": (
        "The statements the articles attribute to a person: direct quotes, indirect and "
        "paraphrased speech, each with its article.",
        "Die Aussagen, die die Artikel einer Person zuschreiben: direkte Zitate, indirekte "
        "und sinngemäße Rede, jeweils mit ihrem Artikel.",
    ),
    "empty": (
        "No statements are indexed yet. They are extracted when articles are ingested: "
        "run `python -m ingest` (or refresh the archive).",
        "Noch keine Aussagen im Index. Sie werden beim Import der Artikel erkannt: "
        "`python -m ingest` ausführen (oder das Archiv aktualisieren).",
    ),
    "person": ("Person", "Person"),
    "person_help": (
        "Most quoted first; type any spelling (Peskov, Peskow).",
        "Die meistzitierten zuerst; jede Schreibweise geht (Peskov, Peskow).",
    ),
    "pick": ("Choose or type a name", "Namen wählen oder eingeben"),
    "topic": ("Topic (optional)", "Thema (optional)"),
    "topic_help": ("English or German, e.g. NATO troops", "Deutsch oder Englisch, z. B. NATO"),
    "dates": ("Dates (optional)", "Zeitraum (optional)"),
    "count": ("{n} statements", "{n} Aussagen"),
    "unknown": (
        "No statements by {name} in the index.",
        "Keine Aussagen von {name} im Index.",
    ),
    "did_you_mean": ("Did you mean: {names}?", "Meinten Sie: {names}?"),
    "also": ("Also matched: {names}", "Ebenfalls gefunden: {names}"),
    "none_in_range": (
        "No statements by {name} in this date range.",
        "Keine Aussagen von {name} in diesem Zeitraum.",
    ),
    "none_on_topic": (
        "{name} is quoted on nothing about “{topic}”. All their statements:",
        "{name} wird zu „{topic}“ nicht zitiert. Alle Aussagen:",
    ),
    "on_topic": (
        "{n} of {total} statements are about “{topic}”, best matches first.",
        "{n} von {total} Aussagen betreffen „{topic}“, die passendsten zuerst.",
    ),
    "newest": ("{n} statements, newest first.", "{n} Aussagen, die neuesten zuerst."),
    "more": (
        "Showing {shown} of {n}; the export holds all of them.",
        "{shown} von {n} angezeigt; der Export enthält alle.",
    ),
    "timeline": ("Statements per {unit}", "Aussagen pro {unit}"),
    "day": ("day", "Tag"),
    "week": ("week", "Woche"),
    "direct": ("direct quote", "direktes Zitat"),
    "indirect": ("indirect speech", "indirekte Rede"),
    "reported": ("paraphrased", "sinngemäß"),
    "cue": ("“{cue}”", "„{cue}“"),
    "named_as": ("named as “{mention}”", "genannt als „{mention}“"),
    "undated": ("undated", "ohne Datum"),
    "open": ("Show in the article", "Im Artikel zeigen"),
    "gone": (
        "This article is no longer in the index.",
        "Dieser Artikel ist nicht mehr im Index.",
    ),
    "changed": (
        "The article has changed since; the statement is no longer in it.",
        "Der Artikel hat sich inzwischen geändert; die Aussage steht nicht mehr darin.",
    ),
    "export": ("Export as Markdown", "Als Markdown exportieren"),
    "export_title": ("What {name} said", "Was {name} sagte"),
    "export_about": ("about “{topic}”", "zu „{topic}“"),
    "sources": ("Sources", "Quellen"),
    "failed": ("The statement index cannot be read: {error}", "Aussagen nicht lesbar: {error}"),
}
t = translator(STRINGS)


# --- shared, loaded once per process ------------------------------------------------------
class _SharedModel:
    """The Assistant's embedding model, loaded only when a topic needs it."""

    def __init__(self, key: str) -> None:
        self.key = key

    def encode_queries(self, texts):
        return shared_assistant(self.key).embedder.encode_queries(texts)

    def encode_passages(self, texts):
        return shared_assistant(self.key).embedder.encode_passages(texts)


@st.cache_resource(show_spinner=False)
def statement_search(key: str):
    """The statement search over the shared index, one per process."""
    from rag.quotes.search import StatementSearch

    return StatementSearch(shared_index(key), _SharedModel(key))


# --- the page -------------------------------------------------------------------------------
def page(settings: Settings, key: str) -> None:
    st.title(t("title"))
    st.caption(t("intro"))
    try:
        search = statement_search(key)
        search.index.refresh()
        directory = search.directory()
        fingerprint = search.index.fingerprint()
    except expected_errors() as exc:
        st.error(ui.safe_markdown(t("failed", error=str(exc))))
        return
    if not directory:
        st.info(t("empty"))
        return
    name, topic, filters = controls(search, directory)
    if not name:
        return
    try:
        result = search.search(name, about=topic or None, filters=filters, limit=None)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        return
    if not result.speakers:
        st.info(ui.safe_markdown(t("unknown", name=name)))
        close = search.suggest(name)
        if close:
            st.caption(ui.safe_markdown(t("did_you_mean", names=", ".join(close))))
        return
    show_result(result, topic, key, fingerprint)


def controls(search, directory):
    """Person, topic and date range as the user set them: (name, topic, Filters).

    A link may preset them: `?person=Peskov&topic=NATO` (any spelling of the name).
    """
    from rag.retrieve import Filters

    counts = {s.name: s.count for s in directory}
    wanted = st.query_params.get("person", "")
    preset = search.speakers(wanted) if wanted else []
    if "speakers-topic" not in st.session_state:
        st.session_state["speakers-topic"] = st.query_params.get("topic", "")
    cols = st.columns([2, 2, 2])
    name = cols[0].selectbox(
        t("person"),
        list(counts),
        index=list(counts).index(preset[0].name) if preset else None,
        format_func=lambda n: f"{n} ({counts[n]})" if n in counts else n,
        placeholder=t("pick"),
        help=t("person_help"),
        accept_new_options=True,
        key="speakers-person",
    )
    topic = cols[1].text_input(t("topic"), help=t("topic_help"), key="speakers-topic")
    dates = [s.first_date for s in directory if s.first_date]
    dates += [s.last_date for s in directory if s.last_date]
    date_from = date_to = None
    if dates:
        lo, hi = dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))
        chosen = cols[2].date_input(
            t("dates"),
            value=(),
            min_value=lo,
            max_value=hi,
            format=DATE_INPUT_FORMAT[language()],
            key="speakers-dates",
        )
        if isinstance(chosen, tuple) and chosen:
            date_from = chosen[0].isoformat()
            date_to = (chosen[1] if len(chosen) > 1 else chosen[0]).isoformat()
    if name is None and wanted and not preset:  # a link naming someone not quoted
        name = wanted
    return (name or "").strip(), topic.strip(), Filters(date_from=date_from, date_to=date_to)


def show_result(result, topic: str, key: str, fingerprint: str) -> None:
    from rag.quotes.search import on_topic

    speaker = result.speakers[0]
    heading = speaker.name + (f" — {speaker.role}" if speaker.role else "")
    st.subheader(ui.safe_markdown(heading))
    if len(result.speakers) > 1:
        others = ", ".join(s.name for s in result.speakers[1:6])
        st.caption(ui.safe_markdown(t("also", names=others)))
    statements = result.statements
    if not statements:
        st.info(ui.safe_markdown(t("none_in_range", name=speaker.name)))
        return
    if topic:
        matching = [s for s in statements if on_topic(s)]
        if matching:
            st.markdown(
                ui.safe_markdown(t("on_topic", n=len(matching), total=len(statements), topic=topic))
            )
            statements = matching
        else:
            st.markdown(ui.safe_markdown(t("none_on_topic", name=speaker.name, topic=topic)))
            statements = sorted(statements, key=lambda s: s.date or "", reverse=True)
    else:
        st.markdown(t("newest", n=len(statements)))
    timeline(statements)
    st.download_button(
        t("export"),
        data=export_markdown(speaker.name, topic, statements),
        file_name=ui.export_filename(f"{speaker.name} {topic}".strip()),
        mime="text/markdown",
        icon=":material/download:",
        key="speakers-export",
        on_click="ignore",
    )
    for n, statement in enumerate(statements[:MAX_CARDS]):
        card(statement, n, key, fingerprint)
    if len(statements) > MAX_CARDS:
        st.caption(t("more", shown=MAX_CARDS, n=len(statements)))


def timeline(statements) -> None:
    """A small bar chart: statements per day, or per week over a long span."""
    import pandas as pd

    days = [dt.date.fromisoformat(s.date) for s in statements if s.date]
    if not days:
        return
    weekly = (max(days) - min(days)).days > WEEKLY_AFTER_DAYS
    if weekly:
        days = [d - dt.timedelta(days=d.weekday()) for d in days]
    counts = Counter(days)
    unit = t("week" if weekly else "day")
    # dates as labels (not a time axis): one readable bar per day or week that has any
    frame = pd.DataFrame(
        {unit: [long_date(d.isoformat()) for d in sorted(counts)],
         "n": [counts[d] for d in sorted(counts)]}
    )  # fmt: skip
    st.caption(t("timeline", unit=unit))
    st.bar_chart(frame, x=unit, y="n", x_label="", y_label="", height=160, sort=False)


def card(statement, n: int, key: str, fingerprint: str) -> None:
    """One statement: its words, how it was said, where, and the article on demand."""
    with st.container(border=True, key=f"statement-{n}"):
        meta = [long_date(statement.date) if statement.date else t("undated")]
        meta += [p for p in (statement.source, statement.title) if p]
        st.markdown(" · ".join(ui.safe_markdown(p) for p in meta))
        how = [t(statement.form) if statement.form in STRINGS else statement.form]
        if statement.cue:
            how.append(t("cue", cue=statement.cue))
        if statement.mention and statement.mention != statement.speaker:
            how.append(t("named_as", mention=statement.mention))
        st.caption(ui.safe_markdown(" · ".join(how)))
        st.markdown(f"> {ui.safe_markdown(' '.join(statement.text.split()))}")
        if st.toggle(t("open"), key=f"open-{statement.id}"):
            show_article(statement, key, fingerprint)


def show_article(statement, key: str, fingerprint: str) -> None:
    art = article(key, fingerprint, statement.article_id)
    if art is None:
        st.info(t("gone"))
        return
    start, end = ui.locate(art.text, statement.text, statement.start, statement.end)
    if start is None:
        st.info(t("changed"))
        return
    link = ui.source_link(art.url)
    if link:
        st.markdown(link)
    lo, hi = ui.article_window(art.text, start, end)
    html = ui.article_html(art.text[lo:hi], start - lo, end - lo, [(0, end - start)])
    st.markdown(html, unsafe_allow_html=True)


def export_markdown(name: str, topic: str, statements) -> str:
    """The statements as Markdown: date order, numbered citations, sources at the end."""
    title = t("export_title", name=name) + (f" {t('export_about', topic=topic)}" if topic else "")
    lines = [f"# {_md(title)}", ""]
    numbers: dict[str, int] = {}
    sources: list = []
    for st_ in sorted(statements, key=lambda s: (s.date or "9999", s.article_id, s.start)):
        n = numbers.get(st_.article_id)
        if n is None:
            n = numbers[st_.article_id] = len(numbers) + 1
            sources.append(st_)
        when = st_.date or t("undated")
        how = t(st_.form) if st_.form in STRINGS else st_.form
        text = " ".join(st_.text.split())
        lines += [f"- {when}, {how}: {_md(text)} [{n}]"]
    lines += ["", f"## {t('sources')}", ""]
    for n, s in enumerate(sources, 1):
        where = ", ".join(x for x in (s.source, s.date) if x)
        ref = f"{where}: {s.title or s.article_id}" if where else (s.title or s.article_id)
        lines.append(f"[{n}] {_md(ref)}" + (f" <{s.url}>" if s.url else ""))
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    """Text as literal Markdown (article text may hold `*`, `_`, brackets or HTML)."""
    import re

    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)
