"""Shared language facts: the English/German guess and the word lists behind it."""

from __future__ import annotations

import pytest

from rag import lang


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What did Peskow say about the NATO troops?", "en"),
        ("Was sagte Peskow über die NATO-Truppen?", "de"),
        ("Wer ist der Sprecher des Kremls?", "de"),
        # Mixed: the question's grammar decides, not the German names in it.
        ("What did the Bundeskanzler say about the Sondervermögen?", "en"),
        ("Was hat der Minister zum Ceasefire Agreement gesagt?", "de"),
        # No stop words either way: umlauts/ß tip the tie to German, otherwise English.
        ("Selenskyj Kyjiw Drohnen", "en"),
        ("Präsident Selenskyj", "de"),
        ("Straße", "de"),
        ("", "en"),
        ("   ", "en"),
        ("2025 26 ?!", "en"),
        ("Путин", "en"),
    ],
)
def test_detect_language_guesses_english_or_german(text, language):
    assert lang.detect_language(text) == language


def test_detect_language_ignores_case():
    assert lang.detect_language("WAS SAGTE ER ÜBER DIE NATO") == "de"


@pytest.mark.parametrize(
    "name", ["STOP_WORDS en", "STOP_WORDS de", "NON_CONTENT", "CAPITALISED_NON_NAMES", "PRONOUNS"]
)
def test_word_lists_are_non_empty_lower_case_single_words(name):
    attr, _, key = name.partition(" ")
    words = getattr(lang, attr)[key] if key else getattr(lang, attr)
    assert words
    assert all(w == w.lower() and w.strip() and " " not in w for w in words)


def test_connectives_are_lower_case_phrases():
    assert lang.CONNECTIVES
    assert all(c == c.lower() and c == c.strip() and c for c in lang.CONNECTIVES)


def test_non_content_words_include_both_languages_stop_words():
    assert lang.STOP_WORDS["en"] | lang.STOP_WORDS["de"] <= lang.NON_CONTENT


@pytest.mark.parametrize(
    ("pattern", "text", "words"),
    [
        (lang.LETTERS, "NATO-Truppen 2025 über_alles", ["NATO", "Truppen", "über", "alles"]),
        (lang.WORD, "NATO-Truppen 2025 über_alles", ["NATO-Truppen", "2025", "über_alles"]),
        (lang.WORD, "-Peskow", ["Peskow"]),
    ],
)
def test_word_patterns(pattern, text, words):
    assert pattern.findall(text) == words
