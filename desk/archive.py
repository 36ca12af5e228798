"""The Archive view: what is indexed, adding article files, removing articles, refreshing.

`page(settings, key)` renders the whole view; `refresh_panel(settings, key)` is its
refresh button with the last report, for a sidebar. The work itself is done by
desk/corpus.py (upload, remove, refresh through the ingest's own code, under the index's
writer lock, never waiting); this module only renders and asks for confirmation.

The article list is read from the article records' metadata (no texts) and cached per
index fingerprint, so it is re-read after every ingest, also other processes'. Search,
sort and paging work on that list in memory: a few thousand articles are a few hundred
kilobytes. Every title, outlet and file name is shown through `rag.ui.safe_markdown`;
links are only plain http(s) URLs (`rag.ui.source_link`).

After a change from this process the shared caches are dropped
(`desk.resources.forget_content`) and the retriever follows the index's new state, so
the chat answers from the new content at once.

Shortcut: one action at a time per process (`desk.resources.refresh_lock`); a second tab
is told to try again instead of waiting.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from desk import corpus
from desk.i18n import long_date, translator
from desk.resources import (
    expected_errors,
    forget_content,
    refresh_lock,
    shared_assistant,
    shared_index,
)
from rag import ui
from rag.settings import Settings

STRINGS = {
    "title": ("Archive", "Archiv"),
    "summary": (
        "{articles:,} articles, {passages:,} passages.",
        "{articles:,} Artikel, {passages:,} Textstellen.",
    ),
    "built_from": ("Indexed from", "Indiziert aus"),
    "upload_to": ("Uploads and refresh use", "Hochladen und Aktualisieren nutzen"),
    "no_folder": ("no folder yet", "noch kein Ordner"),
    "empty": (
        "The archive is empty. Add article files below, or put them into the corpus "
        "folder and refresh.",
        "Das Archiv ist leer. Unten Artikeldateien hinzufügen, oder sie in den "
        "Korpus-Ordner legen und aktualisieren.",
    ),
    "add": ("Add article files", "Artikeldateien hinzufügen"),
    "upload_label": ("Article files", "Artikeldateien"),
    "upload_help": (
        "Files are checked like `python -m ingest` checks them, stored in the corpus "
        "folder and indexed. Formats: {types}; at most {limit:g} MB per file.",
        "Dateien werden wie von `python -m ingest` geprüft, im Korpus-Ordner gespeichert "
        "und indiziert. Formate: {types}; höchstens {limit:g} MB pro Datei.",
    ),
    "upload_button": ("Add {n} file(s) to the archive", "{n} Datei(en) ins Archiv aufnehmen"),
    "uploading": ("Checking and storing the files…", "Dateien werden geprüft und gespeichert…"),
    "accepted": ("{name}: stored, {n} article(s)", "{name}: gespeichert, {n} Artikel"),
    "refused": ("{name}: refused — {reason}", "{name}: abgelehnt — {reason}"),
    "upload_counts": (
        "{ok} file(s) stored, {bad} refused.",
        "{ok} Datei(en) gespeichert, {bad} abgelehnt.",
    ),
    "stored_busy": (
        "The files are stored in the corpus folder, but another ingest ({holder}) is "
        "writing the index right now: they will be indexed by the next refresh.",
        "Die Dateien liegen im Korpus-Ordner, aber ein anderer Import ({holder}) schreibt "
        "gerade den Index: die nächste Aktualisierung nimmt sie auf.",
    ),
    "refresh": ("Refresh archive", "Archiv aktualisieren"),
    "refresh_help": (
        "Re-reads the corpus folder like `python -m ingest`: new and changed files are "
        "indexed, deleted ones removed.",
        "Liest den Korpus-Ordner neu wie `python -m ingest`: neue und geänderte Dateien "
        "werden indiziert, gelöschte entfernt.",
    ),
    "reading": ("Reading the corpus…", "Korpus wird gelesen…"),
    "files_done": ("{done}/{total} files", "{done}/{total} Dateien"),
    "saving": ("saving", "speichern"),
    "busy": (
        "Another ingest ({holder}) is writing the index right now; nothing was changed. "
        "Try again when it has finished.",
        "Ein anderer Import ({holder}) schreibt gerade den Index; nichts wurde geändert. "
        "Bitte danach noch einmal versuchen.",
    ),
    "busy_tab": (
        "Another change to the archive is running (another tab); try again shortly.",
        "Eine andere Änderung am Archiv läuft gerade (anderer Tab); bitte gleich noch "
        "einmal versuchen.",
    ),
    "refresh_done": (
        "Done in {seconds:.1f} s: {added} added, {updated} changed, {removed} removed, "
        "{unchanged} unchanged.",
        "Fertig in {seconds:.1f} s: {added} neu, {updated} geändert, {removed} entfernt, "
        "{unchanged} unverändert.",
    ),
    "added": ("Added", "Neu"),
    "updated": ("Changed", "Geändert"),
    "removed_list": ("Removed", "Entfernt"),
    "more": ("… and {n} more", "… und {n} weitere"),
    "problems": ("{n} problem(s)", "{n} Problem(e)"),
    "duplicates": (
        "{n} duplicate(s) stored once",
        "{n} Duplikat(e) nur einmal gespeichert",
    ),
    "failed": ("Failed: {error}", "Fehlgeschlagen: {error}"),
    "articles": ("Articles", "Artikel"),
    "search": ("Search", "Suche"),
    "search_placeholder": ("Title, outlet, file or date", "Titel, Medium, Datei oder Datum"),
    "sort": ("Sort by", "Sortieren nach"),
    "sort_newest": ("newest first", "neueste zuerst"),
    "sort_oldest": ("oldest first", "älteste zuerst"),
    "sort_title": ("title", "Titel"),
    "sort_outlet": ("outlet", "Medium"),
    "sort_passages": ("most passages", "meiste Textstellen"),
    "page": ("Page", "Seite"),
    "shown": (
        "{first}–{last} of {n} articles",
        "{first}–{last} von {n} Artikeln",
    ),
    "none_match": ("No article matches {query!r}.", "Kein Artikel passt zu {query!r}."),
    "undated": ("no date", "ohne Datum"),
    "no_outlet": ("outlet unknown", "Medium unbekannt"),
    "passage": ("1 passage", "1 Textstelle"),
    "passages": ("{n:,} passages", "{n:,} Textstellen"),
    "original": ("original", "Original"),
    "remove": ("Remove", "Entfernen"),
    "confirm": (
        "Remove **{title}** from the archive? Its file goes to the folder `.removed` "
        "beside it, so no refresh brings it back (move it back and refresh to restore it).",
        "**{title}** aus dem Archiv entfernen? Die Datei kommt in den Ordner `.removed` "
        "daneben, damit keine Aktualisierung sie zurückholt (zurückschieben und "
        "aktualisieren stellt sie wieder her).",
    ),
    "confirm_yes": ("Yes, remove", "Ja, entfernen"),
    "cancel": ("Cancel", "Abbrechen"),
    "remove_all": ("Remove all {n} articles of the file", "Alle {n} Artikel der Datei entfernen"),
    "removed": (
        "Removed: {titles}. The file is now in {where}.",
        "Entfernt: {titles}. Die Datei liegt jetzt in {where}.",
    ),
    "removed_no_file": (
        "Removed from the index: {titles} (its file was already gone).",
        "Aus dem Index entfernt: {titles} (die Datei war schon weg).",
    ),
}
t = translator(STRINGS)

PAGE_SIZE = 25
SORTS = ("newest", "oldest", "title", "outlet", "passages")
_K = "archive-"  # prefix of this view's widget and session keys
_SHOWN_TITLES = 15  # per list in a report; the rest are counted


# --- pure helpers -------------------------------------------------------------------------
def matching(rows: Sequence[corpus.Row], query: str) -> list[corpus.Row]:
    """Rows whose title, outlet, id or date contain every word of `query` (any case).

    >>> r = corpus.Row("a.txt", "Graz baut", "2025-09-06", "ORF", "", "", 2)
    >>> [x.article_id for x in matching([r], "graz orf")], matching([r], "Linz")
    (['a.txt'], [])
    """
    words = query.casefold().split()
    if not words:
        return list(rows)

    def text(r: corpus.Row) -> str:
        return f"{r.title} {r.source} {r.article_id} {r.date}".casefold()

    return [r for r in rows if all(w in text(r) for w in words)]


def ordered(rows: Sequence[corpus.Row], how: str) -> list[corpus.Row]:
    """Rows sorted for the list; undated articles go last in both date orders."""
    by_title = sorted(rows, key=lambda r: (r.title.casefold(), r.article_id))
    if how == "title":
        return by_title
    if how == "outlet":
        return sorted(by_title, key=lambda r: (not r.source, r.source.casefold()))
    if how == "passages":
        return sorted(by_title, key=lambda r: -r.passages)
    dated = [r for r in by_title if r.date]
    undated = [r for r in by_title if not r.date]
    return sorted(dated, key=lambda r: r.date, reverse=how != "oldest") + undated


def _shown(path: str | Path) -> str:
    """A folder relative to the working directory when it is below it (`corpus`)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve())) or "."
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return str(path)


def _widget_id(article_id: str) -> str:
    return hashlib.sha1(article_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]


# --- cached reads -------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def _listing(key: str, fingerprint: str) -> tuple[list[corpus.Row], list[str]]:
    """The article rows and the folders they come from, per index content."""
    index = shared_index(key)
    rows = corpus.articles(index)
    return rows, corpus.folders(index, rows)


# --- the view -----------------------------------------------------------------------------
def page(settings: Settings, key: str, *, refresh: bool = True) -> None:
    """The Archive view. `refresh=False` leaves out the refresh panel (when the app shows
    `refresh_panel` in its sidebar)."""
    st.title(t("title"))
    try:
        fingerprint = shared_index(key).fingerprint()
        rows, built_from = _listing(key, fingerprint)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(str(exc)))
        return
    _overview(settings, rows, built_from)
    with st.expander(t("add"), icon=":material/upload_file:", expanded=not rows):
        upload_panel(settings, key)
    if refresh:
        refresh_panel(settings, key, name="page")
    _articles(settings, key, rows)


def _overview(settings: Settings, rows: list[corpus.Row], built_from: list[str]) -> None:
    passages = sum(r.passages for r in rows)
    lines = [t("summary", articles=len(rows), passages=passages)]
    folders = ", ".join(ui.safe_markdown(_shown(f)) for f in built_from) or t("no_folder")
    lines.append(f"{t('built_from')}: {folders}")
    lines.append(f"{t('upload_to')}: {ui.safe_markdown(_shown(settings.corpus_dir))}")
    st.caption("  \n".join(lines))


# --- upload -------------------------------------------------------------------------------
def upload_panel(settings: Settings, key: str) -> None:
    """The file uploader, its button and the last upload's per-file results."""
    from ingest.readers import SUPPORTED_SUFFIXES

    types = " ".join(sorted(SUPPORTED_SUFFIXES))
    st.caption(t("upload_help", types=types, limit=settings.upload_max_mb))
    round_ = st.session_state.setdefault(f"{_K}upload-round", 0)
    files = st.file_uploader(
        t("upload_label"),
        accept_multiple_files=True,
        key=f"{_K}upload-{round_}",  # a new key after each upload empties the widget
        max_upload_size=max(1, math.ceil(settings.upload_max_mb)),
    )
    if files and st.button(t("upload_button", n=len(files)), type="primary", key=f"{_K}upload-go"):
        _upload(settings, key, files)
    report = st.session_state.get(f"{_K}upload-report")
    if report is not None:
        show_upload_report(report)


def _upload(settings: Settings, key: str, files) -> None:
    lock = refresh_lock(key)
    if not lock.acquire(blocking=False):
        st.warning(t("busy_tab"))
        return
    bar = st.progress(0.0, text=t("uploading"))
    try:
        assistant = shared_assistant(key)
        report = corpus.upload(
            settings,
            files,
            embedder=assistant.embedder,
            index=assistant.index,
            progress=_progress(bar),
        )
        if report.ingest is not None and report.ingest.changed:
            _after_change(key)
    except (corpus.CorpusError, *expected_errors()) as exc:
        st.error(ui.safe_markdown(str(exc)))
        return
    finally:
        lock.release()
        bar.empty()
    st.session_state[f"{_K}upload-report"] = report
    st.session_state[f"{_K}upload-round"] += 1
    st.rerun()


def show_upload_report(report: corpus.UploadReport) -> None:
    """Per file: stored (with its warnings) or refused with the reason; then the ingest."""
    ok, bad = len(report.accepted), len(report.refused)
    (st.success if not bad else st.warning)(t("upload_counts", ok=ok, bad=bad))
    lines = []
    for f in report.files:
        if f.accepted:
            text = t("accepted", name=f.name, n=len(f.article_ids))
            text += f" ({f.reason})" if f.reason else ""
            lines.append(f"- :green[✔] {ui.safe_markdown(text)}")
            lines += [f"    - {ui.safe_markdown(w)}" for w in f.warnings[:20]]
        else:
            text = t("refused", name=f.name, reason=f.reason)
            lines.append(f"- :red[✘] {ui.safe_markdown(text)}")
    st.markdown("\n".join(lines))
    if report.ingest is not None:
        if report.ingest.busy:
            st.warning(ui.safe_markdown(t("stored_busy", holder=report.ingest.busy)))
        else:
            show_refresh_report(report.ingest, problems=False)


# --- refresh ------------------------------------------------------------------------------
def refresh_panel(settings: Settings, key: str, *, name: str = "sidebar") -> None:
    """The refresh button and the last refresh's report, in the current container
    (`with st.sidebar: refresh_panel(settings, key)`); `name` keeps two panels apart."""
    if st.button(
        t("refresh"),
        icon=":material/sync:",
        key=f"{_K}refresh-{name}",
        help=t("refresh_help"),
    ):
        _refresh(settings, key)
    report = st.session_state.get(f"{_K}refresh-report")
    if report is not None:
        show_refresh_report(report)


def _refresh(settings: Settings, key: str) -> None:
    lock = refresh_lock(key)
    if not lock.acquire(blocking=False):
        st.warning(t("busy_tab"))
        return
    bar = st.progress(0.0, text=t("reading"))
    try:
        assistant = shared_assistant(key)
        report = corpus.refresh(settings, assistant.embedder, _progress(bar), index=assistant.index)
        if report.changed:
            _after_change(key)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(t("failed", error=exc)))
        return
    finally:
        lock.release()
        bar.empty()
    st.session_state[f"{_K}refresh-report"] = report
    st.rerun()


def _progress(bar):
    def progress(done: int, total: int, path: str) -> None:
        label = t("files_done", done=done, total=total)
        label += f" · {Path(path).name}" if path else f" · {t('saving')}"
        bar.progress(done / total if total else 1.0, text=label)

    return progress


def show_refresh_report(report: corpus.RefreshReport, problems: bool = True) -> None:
    """The counts, the titles added / changed / removed, and the problems."""
    if report.busy:
        st.warning(ui.safe_markdown(t("busy", holder=report.busy)))
        return
    counts = t(
        "refresh_done",
        seconds=report.seconds,
        added=len(report.added),
        updated=len(report.updated),
        removed=len(report.removed),
        unchanged=report.unchanged,
    )
    (st.warning if report.failed else st.success)(counts)
    for label, entries in (
        ("added", report.added),
        ("updated", report.updated),
        ("removed_list", report.removed),
    ):
        if entries:
            items = [f"- {ui.safe_markdown(e.title)}" for e in entries[:_SHOWN_TITLES]]
            if len(entries) > _SHOWN_TITLES:
                items.append(f"- {t('more', n=len(entries) - _SHOWN_TITLES)}")
            st.markdown(f"**{t(label)} ({len(entries)})**\n\n" + "\n".join(items))
    if report.duplicates:
        st.caption(t("duplicates", n=len(report.duplicates)))
    if problems and report.problems:
        with st.expander(t("problems", n=len(report.problems))):
            st.markdown("  \n".join(ui.safe_markdown(p) for p in report.problems[:200]))


# --- the list -----------------------------------------------------------------------------
def _articles(settings: Settings, key: str, rows: list[corpus.Row]) -> None:
    st.subheader(t("articles"))
    _removal_message(settings, key)
    if not rows:
        st.info(t("empty"))
        return
    left, right = st.columns([3, 1])
    query = left.text_input(t("search"), key=f"{_K}search", placeholder=t("search_placeholder"))
    how = right.selectbox(t("sort"), SORTS, key=f"{_K}sort", format_func=lambda s: t(f"sort_{s}"))
    found = ordered(matching(rows, query), how)
    if not found:
        st.info(ui.safe_markdown(t("none_match", query=query)))
        return
    pages = max(1, math.ceil(len(found) / PAGE_SIZE))
    page_key = f"{_K}page"
    if st.session_state.get(page_key, 1) > pages:  # the list got shorter
        st.session_state[page_key] = pages
    number = 1
    if pages > 1:
        number = int(st.number_input(t("page"), min_value=1, max_value=pages, step=1, key=page_key))
    first = (number - 1) * PAGE_SIZE
    shown = found[first : first + PAGE_SIZE]
    st.caption(t("shown", first=first + 1, last=first + len(shown), n=len(found)))
    for row in shown:
        _article_row(settings, key, row)


def _article_row(settings: Settings, key: str, row: corpus.Row) -> None:
    wid = _widget_id(row.article_id)
    with st.container(border=True, key=f"{_K}row-{wid}"):
        text, action = st.columns([6, 1], vertical_alignment="center")
        details = [
            long_date(row.date) if row.date else t("undated"),
            row.source or t("no_outlet"),
            t("passage") if row.passages == 1 else t("passages", n=row.passages),
        ]
        line = " · ".join(ui.safe_markdown(d) for d in details)
        if ui.source_link(row.url) is not None:  # only plain http(s) URLs become links
            line += f" · [{t('original')}](<{row.url.strip()}>)"
        text.markdown(f"**{ui.safe_markdown(row.title)}**  \n{line}")
        text.caption(ui.safe_markdown(row.article_id))
        if action.button(t("remove"), key=f"{_K}remove-{wid}", icon=":material/delete:"):
            st.session_state[f"{_K}confirm"] = row.article_id
        if st.session_state.get(f"{_K}confirm") == row.article_id:
            _confirm(settings, key, row, wid)


def _confirm(settings: Settings, key: str, row: corpus.Row, wid: str) -> None:
    st.warning(t("confirm", title=ui.safe_markdown(row.title)))
    yes, no = st.columns(2)
    if yes.button(t("confirm_yes"), key=f"{_K}yes-{wid}", type="primary"):
        _remove(settings, key, row.article_id)
    if no.button(t("cancel"), key=f"{_K}no-{wid}"):
        st.session_state.pop(f"{_K}confirm", None)
        st.rerun()


def _remove(settings: Settings, key: str, article_id: str, whole_file: bool = False) -> None:
    lock = refresh_lock(key)
    if not lock.acquire(blocking=False):
        st.warning(t("busy_tab"))
        return
    try:
        report = corpus.remove(settings, article_id, index=shared_index(key), whole_file=whole_file)
        if report.removed:
            _after_change(key)
    except expected_errors() as exc:
        st.error(ui.safe_markdown(t("failed", error=exc)))
        return
    finally:
        lock.release()
    st.session_state.pop(f"{_K}confirm", None)
    st.session_state[f"{_K}remove-report"] = (article_id, report)
    st.rerun()


def _removal_message(settings: Settings, key: str) -> None:
    """The outcome of the last removal, above the list."""
    done = st.session_state.get(f"{_K}remove-report")
    if done is None:
        return
    article_id, report = done
    if report.busy:
        st.warning(ui.safe_markdown(t("busy", holder=report.busy)))
    elif report.removed:
        titles = ", ".join(f"“{e.title}”" for e in report.removed)
        if report.moved_to is not None:
            text = t("removed", titles=titles, where=report.moved_to.parent)
        else:
            text = t("removed_no_file", titles=titles)
        st.success(ui.safe_markdown(text))
    else:
        st.warning(ui.safe_markdown(report.refused))
        if report.file_articles > 1:
            label = t("remove_all", n=report.file_articles)
            if st.button(label, key=f"{_K}remove-all", icon=":material/delete_sweep:"):
                st.session_state.pop(f"{_K}remove-report", None)
                _remove(settings, key, article_id, whole_file=True)


def _after_change(key: str) -> None:
    """Make every view see the change now: drop cached content, follow the index's writes."""
    forget_content()
    _listing.clear()
    shared_assistant(key).retriever.refresh()
