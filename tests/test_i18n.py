"""The desk's two languages: every view's strings exist in English and German with the
same placeholders, the language follows the setting and the browser, dates read the
reader's way, and the example questions come from what the index holds."""

from __future__ import annotations

import importlib
import string

import pytest

from desk import examples, i18n
from desk.i18n import long_date, pick_language

VIEWS = ["app", "desk.chat", "desk.examples", "desk.archive", "desk.speakers"]


def _modules():
    for name in VIEWS:
        try:
            yield pytest.param(importlib.import_module(name), id=name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("module", list(_modules()))
def test_every_string_is_in_both_languages_with_the_same_placeholders(module):
    strings = module.STRINGS
    assert strings
    for key, texts in strings.items():
        assert isinstance(texts, tuple) and len(texts) == len(i18n.LANGUAGES), key
        english, german = texts
        assert english.strip() and german.strip(), key
        assert placeholders(english) == placeholders(german), key


@pytest.mark.parametrize("module", list(_modules()))
def test_no_jargon_on_screen(module):
    """Newsroom words: passages, not chunks; the answer mode, not 'extractive' or 'LLM'."""
    for key, texts in module.STRINGS.items():
        for text in texts:
            lowered = text.lower()
            for word in ("chunk", "extractive", "extraktiv", "embedding", " llm"):
                assert word not in lowered, (module.__name__, key, text)


@pytest.mark.parametrize(
    ("setting", "locale", "expected"),
    [
        ("auto", "de-DE", "de"),
        ("auto", "de-AT", "de"),
        ("auto", "de", "de"),
        ("auto", "en-GB", "en"),
        ("auto", "fr-FR", "en"),  # neither: English
        ("auto", None, "en"),  # no browser (AppTest, scripts)
        ("de", "en-US", "de"),  # the setting wins over the browser
        ("en", "de-DE", "en"),
    ],
)
def test_language_follows_the_setting_then_the_browser(setting, locale, expected):
    assert pick_language(setting, locale) == expected


def test_translator_uses_the_current_language_and_fills_placeholders():
    t = i18n.translator({"n": ("{n} articles", "{n} Artikel")})
    try:
        i18n.set_language("de")
        assert t("n", n=3) == "3 Artikel"
        i18n.set_language("xx")  # unknown: English
        assert i18n.language() == "en" and t("n", n=3) == "3 articles"
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("iso", "lang", "expected"),
    [
        ("2025-09-05", "de", "5. September 2025"),
        ("2025-03-01", "de", "1. März 2025"),
        ("2025-09-05", "en", "5 September 2025"),
        ("", "de", ""),
        (None, "en", ""),
        ("2025-13-01", "en", "2025-13-01"),  # not a date: shown as it is
    ],
)
def test_long_dates(iso, lang, expected):
    assert long_date(iso, lang) == expected


def test_date_picker_format_per_language():
    assert i18n.DATE_INPUT_FORMAT == {"en": "YYYY-MM-DD", "de": "DD.MM.YYYY"}


# --- example questions ---------------------------------------------------------------------
def test_quoted_people_are_named_in_full_and_nouns_are_not_people():
    texts = [
        "„Wir bauen“, sagte Bürgermeisterin Anna Berger. Die Stadt sagte nichts dazu. "
        "„Es wird teuer“, betonte Berger. Die Regierung erklärte, sie prüfe das.",
        "Berger sagte, die Linie komme. Lukas Hofer meinte, es fehle ein Takt. Hofer sagte nein.",
    ]
    assert examples.quoted_people(texts) == ["Anna Berger", "Lukas Hofer"]
    assert examples.quoted_people(["Die Regierung sagte nichts. Die Regierung sagte es."]) == []


def test_examples_ask_about_people_and_the_newest_article_on_its_day():
    i18n.set_language("en")
    newest = ("2025-09-08", "Graz plant ein Sparpaket für 2026")
    built = examples.build(["Anna Berger"], newest, "Pinguine für den Alpenzoo")
    assert [e.question for e in built] == [
        "What did Anna Berger say?",
        "What was reported on 8 September 2025 about “Graz plant ein Sparpaket für 2026”?",
        "What does the article “Pinguine für den Alpenzoo” report?",
    ]
    assert [e.day for e in built] == [None, "2025-09-08", None]
    two = examples.build(["A B", "C D"], newest, "T")
    assert [e.question for e in two][2] == "What did C D say?"
    assert examples.build([], (None, "Ohne Datum"))[0].day is None  # an undated newest
    assert examples.build([], None) == []


def test_examples_from_a_real_index(sample_settings):
    from rag.store import Index

    i18n.set_language("de")
    try:
        found = examples.from_index(Index(sample_settings))
    finally:
        i18n.set_language("en")
    assert found[0].question == "Was sagte Dmitri Peskow?"
    assert found[1].question.startswith("Was wurde am 5. September 2025 über „Putin hob")
    assert found[1].day == "2025-09-05"


def test_the_assistants_progress_lines_are_shown_in_the_interface_language():
    from desk import chat

    i18n.set_language("de")
    try:
        assert chat.status_text("Searching 1,234 articles…") == "1,234 Artikel werden durchsucht…"
        assert chat.status_text("Rewriting question…") == "Die Frage wird eingeordnet…"
        assert chat.status_text("Writing answer…") == "Die Antwort wird geschrieben…"
        assert chat.status_text("The LLM failed — showing extractive answer").startswith(
            "Das Sprachmodell ist ausgefallen"
        )
        assert chat.status_text("Something new") == "Something new"  # unknown: as it is
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("notice", "english", "german"),
    [
        (
            "citation [2] is not clearly supported by its source — check it",
            "Citation [2] is not clearly supported by its source: check it.",
            "Quelle [2] trägt die Aussage nicht eindeutig: bitte prüfen.",
        ),
        (
            "connection refused — showing extractive answer",
            "The language model did not answer (connection refused): showing quotes only.",
            "Das Sprachmodell hat nicht geantwortet (connection refused): es folgen nur Zitate.",
        ),
        (
            "removed citation [7]: only 2 sources",
            "Removed the citation [7]: the answer has only 2 source(s).",
            "Die Quellenangabe [7] wurde entfernt: die Antwort hat nur 2 Quelle(n).",
        ),
        ("something else", "something else", "something else"),
    ],
)
def test_answer_notices_are_shown_in_newsroom_words(notice, english, german):
    from desk import chat

    assert chat.notice_text(notice) == english
    i18n.set_language("de")
    try:
        assert chat.notice_text(notice) == german
    finally:
        i18n.set_language("en")
