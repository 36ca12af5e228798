"""Text cleaning: paragraphs, markup, entities, whitespace, invisible characters, dates, hashes."""

from __future__ import annotations

import doctest
import unicodedata

import pytest

import ingest.clean
import ingest.readers.text
from ingest.clean import clean_text, derive_title, parse_date, text_hash


@pytest.mark.parametrize("module", [ingest.clean, ingest.readers.text])
def test_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "raw",
    [
        "Eins.<BR \\/><BR \\/>Zwei.",
        "Eins.<BR \\/>Zwei.",
        "Eins.<br>Zwei.",
        "Eins.<br/><br/>Zwei.",
        "Eins.<BR />Zwei.",
        "Eins.<br \\/>Zwei.",
        "Eins. <Br/> <bR> \n <br> Zwei.",
        "<p>Eins.</p><p>Zwei.</p>",
        "<div>Eins.</div>\n\n\n\n<div>Zwei.</div>",
        "Eins.\\n\\nZwei.",
        "Eins.\r\n\r\nZwei.",
        "Eins.\u2029Zwei.",
        "  Eins.  \n \t \n\n  Zwei.  ",
    ],
)
def test_paragraph_marks_become_one_blank_line(raw):
    assert clean_text(raw) == "Eins.\n\nZwei."


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("A&nbsp;B", "A B"),
        ("&#8222;Ja&#8220;", "„Ja“"),
        ("&#x201E;Ja&#x201C;", "„Ja“"),
        ("&lt;b&gt; ist ein Tag", "<b> ist ein Tag"),
        ("Er sagte <b>nein</b> und <a href='x'>ging</a>.", "Er sagte nein und ging."),
        ("a < b und c > d", "a < b und c > d"),
        ("Text<script>alert(1)</script> weiter", "Text weiter"),
        ("<style>p {color: red}</style>Text", "Text"),
        ("Vor<!-- Kommentar -->her", "Vorher"),
        ("viele    Leer\t\tzeichen", "viele Leer zeichen"),
        ("schmal\u202fes\u00a0und\u2009dünnes Leerzeichen", "schmal es und dünnes Leerzeichen"),
        ("Null\u200bbreite\u200c und\ufeff BOM\u2060", "Nullbreite und BOM"),
        ("Sicher\u00adheits\u00adgarantien", "Sicherheitsgarantien"),
        ("Steuer\x07zeichen\x1b weg", "Steuer zeichen weg"),
        ("Kiew \\/ Moskau", "Kiew / Moskau"),
        ('Er sagte \\"ja\\"', 'Er sagte "ja"'),
        ("Gr\\u00fc\\u00dfe \\ud83d\\ude00", "Grüße 😀"),
        ("", ""),
        ("   \n\n\t  ", ""),
    ],
)
def test_markup_entities_whitespace_and_invisible_characters(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "quoted",
    [
        "„Das ist gefährlich für unser Land“",
        "‚einfach‘",
        "»französisch«",
        "›einfach französisch‹",
        "“English” and ‘single’",
        "Gedanken – Strich — und Bis-Strich 2024–2025",
        "Auslassung…",
    ],
)
def test_typographic_quotes_and_dashes_are_kept_exactly(quoted):
    assert clean_text(quoted) == quoted
    assert clean_text(f"<p>{quoted}</p>") == quoted


def test_text_is_composed_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Grüße aus Österreich")
    assert decomposed != "Grüße aus Österreich"
    assert clean_text(decomposed) == "Grüße aus Österreich"


def test_lines_within_a_paragraph_stay_lines():
    assert clean_text("Zeile eins\nZeile zwei\n\nNeuer Absatz") == (
        "Zeile eins\nZeile zwei\n\nNeuer Absatz"
    )


def test_text_without_blank_lines_is_one_paragraph_per_line():
    assert clean_text("Absatz eins.\nAbsatz zwei.\r\nAbsatz drei.") == (
        "Absatz eins.\n\nAbsatz zwei.\n\nAbsatz drei."
    )


@pytest.mark.parametrize(
    "raw",
    [
        " Eins.<BR \\/><BR \\/>„Zwei“ –  drei.",
        "<p>Tom &amp; Jerry</p>\n\n\n<p>Grüße\u00a0aus\u200b Wien</p>",
        "Zeile\nZeile\n\nAbsatz",
    ],
)
def test_cleaning_twice_changes_nothing(raw):
    once = clean_text(raw)
    assert clean_text(once) == once


# --- derive_title --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Kiew meldet Angriffe. Die Lage bleibt angespannt.", "Kiew meldet Angriffe"),
        ("Wer zahlt? Die Regierung schweigt.", "Wer zahlt?"),
        ("Das ist z. B. ein Test. Zweiter Satz.", "Das ist z. B. ein Test"),
        ("Am 5. September kam Dr. Müller. Danach nicht.", "Am 5. September kam Dr. Müller"),
        ("Ohne Punkt am Ende", "Ohne Punkt am Ende"),
        ("Erste Zeile\nohne Punkt. Zweiter Satz.", "Erste Zeile ohne Punkt"),
        ("„Wir sind bereit“, sagte Selenskyj. Mehr folgt.", "„Wir sind bereit“, sagte Selenskyj"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_title_is_the_first_sentence(text, title):
    assert derive_title(text) == title


def test_long_first_sentence_is_cut_at_a_word_with_an_ellipsis():
    text = "Die Bundesregierung hat nach langen und zähen Verhandlungen ein Sparpaket beschlossen."
    title = derive_title(text, max_chars=40)
    assert title == "Die Bundesregierung hat nach langen und…"
    assert len(title) <= 40 and text.startswith(title[:-1])


def test_single_overlong_word_is_cut_hard():
    assert derive_title("Donaudampfschifffahrtsgesellschaftskapitän", max_chars=10) == "Donaudamp…"


# --- parse_date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2025-09-05", "2025-09-05"),
        ("2025-09-05T10:00:00Z", "2025-09-05"),
        ("2025-09-05T23:30:00-05:00", "2025-09-05"),
        ("2025-09-05 10:00:00", "2025-09-05"),
        ("2025-9-5", "2025-09-05"),
        ("2025/09/05", "2025-09-05"),
        ("20250905", "2025-09-05"),
        ("05.09.2025", "2025-09-05"),
        ("5.9.2025", "2025-09-05"),
        ("05.09.25", "2025-09-05"),
        ("Stand: 05.09.2025, 10:00 Uhr", "2025-09-05"),
        ("5. September 2025", "2025-09-05"),
        ("5. Sept. 2025", "2025-09-05"),
        ("5 Sep 2025", "2025-09-05"),
        ("05 September 2025", "2025-09-05"),
        ("September 5, 2025", "2025-09-05"),
        ("Sep 5th, 2025", "2025-09-05"),
        ("Fri, 05 Sep 2025 10:00:00 +0000", "2025-09-05"),
        ("Freitag, 5. September 2025", "2025-09-05"),
        ("3. Jänner 2016", "2016-01-03"),
        ("3. Januar 2016", "2016-01-03"),
        ("1. Feber 2016", "2016-02-01"),
        ("1. März 2016", "2016-03-01"),
        ("1. Maerz 2016", "2016-03-01"),
        ("1. Mai 2016", "2016-05-01"),
        ("1 May 2016", "2016-05-01"),
        ("1. Oktober 2016", "2016-10-01"),
        ("24. Dez. 2016", "2016-12-24"),
        ("December 24, 2016", "2016-12-24"),
        ("1757066400", "2025-09-05"),
        ("1757066400000", "2025-09-05"),
    ],
)
def test_dates_parse_to_iso(value, iso):
    assert parse_date(value) == iso


@pytest.mark.parametrize(
    "value",
    [
        "",
        "bald",
        "irgendwann im Herbst",
        "2025-13-45",
        "31.02.2025",
        "05/09/2025",  # day/month or month/day: ambiguous, so unknown
        "5. Septober 2025",
        "0999-01-01",
        "2025",
        "12345",
    ],
)
def test_unparseable_dates_give_none(value):
    assert parse_date(value) is None


# --- text_hash -----------------------------------------------------------------------


def test_text_hash_is_sha256_hex_and_changes_with_any_character():
    h = text_hash("Grüße aus Wien.")
    assert len(h) == 64 and set(h) <= set("0123456789abcdef")
    assert h == text_hash("Grüße aus Wien.")
    assert h != text_hash("Grüße aus Wien!")


def test_text_hash_of_cleaned_text_ignores_markup_and_normalisation():
    a = clean_text("<p>Grüße&nbsp;aus Wien.</p>")
    b = clean_text(unicodedata.normalize("NFD", "Grüße aus  Wien."))
    assert text_hash(a) == text_hash(b)
