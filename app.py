"""The newsroom desk: one Streamlit app with three views, in English or German.

- **Chat** (`desk.chat`): ask the article archive, read the answer, check every source;
- **Who said what** (`desk.speakers`): the statements of the people the articles quote;
- **Archive** (`desk.archive`): what is indexed, upload, remove, refresh.

This file is the shell around them: page setup, the settings, the interface language
(`RAG_UI_LANGUAGE`: auto = the browser's `navigator.language`, German or English;
switchable in the sidebar for the session) and the navigation (`st.navigation`, at the
top, where a phone shows it too). Each view gets the settings and their cache key and
shares the process-wide resources of `desk.resources` (one index client, one Assistant
with its models, for every tab and view).

Everything that comes from articles or from a model is rendered as text
(`rag.ui.safe_markdown`); the only HTML the views write is their own highlight markup.
"""

from __future__ import annotations

import logging

import streamlit as st

from desk import archive, chat, speakers
from desk.i18n import LANGUAGES, NAMES, pick_language, set_language, translator
from rag import ui
from rag.settings import Settings, SettingsError, load_settings

log = logging.getLogger("newsroom.app")

STRINGS = {
    "app": ("Newsroom archive", "Nachrichtenarchiv"),
    "chat": ("Chat", "Chat"),
    "speakers": ("Who said what", "Wer sagte was"),
    "archive": ("Archive", "Archiv"),
    "language": ("Language · Sprache", "Sprache · Language"),
    "failed": (
        "Something went wrong ({what}). The details are in the server log; reload the page "
        "to try again.",
        "Etwas ist schiefgegangen ({what}). Details stehen im Server-Log; laden Sie die "
        "Seite neu, um es noch einmal zu versuchen.",
    ),
}
t = translator(STRINGS)

# (name in STRINGS, the view's `page(settings, key)`, icon, URL path); the chat first.
VIEWS = [
    ("chat", chat.page, ":material/chat:", "chat"),
    ("speakers", speakers.page, ":material/record_voice_over:", "who-said-what"),
    ("archive", archive.page, ":material/inventory_2:", "archive"),
]


def choose_language(settings: Settings | None) -> str:
    """The session's interface language: the sidebar switch, else the setting (auto =
    the browser's language)."""
    setting = settings.ui_language if settings is not None else "auto"
    default = pick_language(setting, st.context.locale)
    chosen = st.sidebar.segmented_control(
        STRINGS["language"][LANGUAGES.index(st.session_state.get("ui-language", default))],
        LANGUAGES,
        format_func=NAMES.get,
        default=default,
        required=True,
        key="ui-language",
    )
    set_language(chosen or default)
    return chosen or default


def view_page(name: str, view, icon: str, path: str, settings: Settings, key: str) -> st.Page:
    """An `st.Page` that runs `view(settings, key)`."""

    def run_view() -> None:
        view(settings, key)

    return st.Page(run_view, title=t(name), icon=icon, url_path=path, default=name == "chat")


def main() -> None:
    st.set_page_config(page_title="Newsroom", page_icon=":material/newspaper:", layout="wide")
    title = st.sidebar.empty()  # above the language switch, in the language it picks
    try:
        settings = load_settings()
    except SettingsError as exc:
        choose_language(None)
        st.error(ui.safe_markdown(str(exc)))
        st.stop()
    choose_language(settings)
    title.title(f":material/newspaper: {t('app')}")
    key = settings.model_dump_json()
    pages = [view_page(*view, settings, key) for view in VIEWS]
    current = st.navigation(pages, position="top")
    current.run()


def run() -> None:
    """The app, with any unexpected failure shown as one line (details go to the log)."""
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - st.stop()/st.rerun() are BaseExceptions
        log.exception("the page failed")
        st.error(ui.safe_markdown(t("failed", what=f"{exc.__class__.__name__}: {exc}")))


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    run()
