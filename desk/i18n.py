"""Interface language: English or German, chosen per browser session.

Each view keeps its own strings beside its code, as `STRINGS = {"key": ("English",
"Deutsch"), ...}`, and makes a translator from them: `t = translator(STRINGS)`, then
`t("key", n=3)`. `set_language()` is called once per script run by app.py.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping

LANGUAGES = ("en", "de")
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
