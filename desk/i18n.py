"""Interface language: English or German, chosen per browser session.

Each view keeps its own strings beside its code, as `STRINGS = {"key": ("English",
"Deutsch"), ...}`, and makes a translator from them: `t = translator(STRINGS)`, then
`t("key", n=3)`. `set_language()` is called once per script run by app.py, with the
language `pick_language()` chose from the setting `RAG_UI_LANGUAGE` (auto = the browser's
`navigator.language`) unless the reader switched it in the sidebar.

Dates are shown the reader's way: `long_date("2025-09-05")` is "5 September 2025" or
"5. September 2025", and `DATE_INPUT_FORMAT` is the format `st.date_input` takes
(the calendar's first weekday follows the browser's locale: Monday in German).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Mapping

LANGUAGES = ("en", "de")
NAMES = {"en": "English", "de": "Deutsch"}
DATE_INPUT_FORMAT = {"en": "YYYY-MM-DD", "de": "DD.MM.YYYY"}
_MONTH_NAMES = """
January February March April May June July August September October November December
Januar Februar März April Mai Juni Juli August September Oktober November Dezember
"""
_MONTHS = dict(zip(LANGUAGES, (x.split() for x in _MONTH_NAMES.split("\n")[1:3]), strict=True))
_current: contextvars.ContextVar[str] = contextvars.ContextVar("ui_language", default="en")


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else "en")


def language() -> str:
    return _current.get()


def translator(strings: Mapping[str, tuple[str, str]]) -> Callable[..., str]:
    def t(key: str, **values) -> str:
        text = strings[key][LANGUAGES.index(language())]
        return text.format(**values) if values else text

    return t


def pick_language(setting: str, browser_locale: str | None) -> str:
    """The interface language for a setting (auto|de|en) and the browser's locale.

    >>> pick_language("auto", "de-AT"), pick_language("auto", "fr-FR"), pick_language("de", "en")
    ('de', 'en', 'de')
    """
    if setting in LANGUAGES:
        return setting
    code = (browser_locale or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"


def long_date(iso: str | None, lang: str | None = None) -> str:
    """An ISO date written out for the reader; anything else is returned unchanged.

    >>> long_date("2025-09-05", "de"), long_date("2025-09-05", "en"), long_date("", "de")
    ('5. September 2025', '5 September 2025', '')
    """
    try:
        day = dt.date.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    lang = lang or language()
    dot = "." if lang == "de" else ""
    return f"{day.day}{dot} {_MONTHS[lang][day.month - 1]} {day.year}"
