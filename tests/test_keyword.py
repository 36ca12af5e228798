"""The BM25 keyword index: German tokenization, match strength, filters."""

from __future__ import annotations

import pytest

from rag import schema
from rag.keyword import KeywordIndex, stop_words, tokenize

ARTICLES = {
    "gewerkschaft": (
        "Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei sogenannten All-in-Verträgen. "
        "Die Gewerkschaften fordern mehr Transparenz für Arbeitnehmer.",
        20160310,
        "Der Standard",
    ),
    "kreml": (
        "Kremlsprecher Dmitri Peskow lehnte die Entsendung von NATO-Truppen in die Ukraine "
        "ab. Russland werde das nicht hinnehmen, sagte Peskow in Moskau.",
        20250905,
        "Kurier",
    ),
    "hochwasser": (
        "Nach tagelangem Regen traten in Niederösterreich mehrere Flüsse über die Ufer. "
        "Die Feuerwehren pumpten die Keller der überfluteten Häuser aus.",
        20240916,
        "ORF",
    ),
    "wahl": (
        "Bei der Nationalratswahl erreichte die Volkspartei den zweiten Platz. Die Wahlbeteiligung "
        "lag bei knapp achtzig Prozent, höher als vor fünf Jahren.",
        20240930,
        "Der Standard",
    ),
}


@pytest.fixture(scope="module")
def kw() -> KeywordIndex:
    chunks = [
        (f"{aid}#0", text, {schema.DATE_INT: date, schema.SOURCE: source})
        for aid, (text, date, source) in ARTICLES.items()
    ]
    return KeywordIndex(chunks, fingerprint="test")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("   ", []),
        ("Die und der", []),  # German stop words only
        ("What did the", []),  # English stop words only
        ("Häuser", ["haus"]),  # stemmed, umlaut folded
        ("ÖSTERREICHISCHEN", ["osterreich"]),  # case folded before stemming
        ("Wann wurde das gebaut?", ["gebaut"]),  # question words are stop words
        ("im Jahr 1973", ["jahr", "1973"]),  # numbers kept
        ("Peskow's", ["peskow"]),  # a stray letter is dropped
    ],
)
def test_tokenize_folds_german_inflection_and_drops_stop_words(text, expected):
    assert tokenize(text) == expected


def test_inflected_forms_share_a_stem():
    assert tokenize("Gewerkschaften")[0] == tokenize("Gewerkschaft")[0]
    assert tokenize("überfluteten")[0] == tokenize("überflutet")[0]


def test_stop_words_keep_german_content_words():
    # English stop words must not swallow German content words of the same spelling.
    assert {"kind", "gift", "rat", "arm"}.isdisjoint(stop_words())


def test_german_query_finds_the_article_with_inflected_terms(kw):
    hits = kw.search(tokenize("Welche Forderungen stellt die Gewerkschaft?"), k=2)
    assert hits[0].chunk_id == "gewerkschaft#0"
    assert hits[0].score > 0


def test_query_without_known_terms_finds_nothing(kw):
    assert kw.search(tokenize("quantum chromodynamics lattice"), k=3) == []
    assert kw.search([], k=3) == []


def test_match_strength_is_high_for_german_and_low_for_english_questions(kw):
    german = kw.match_strength(tokenize("Was sagte Peskow über NATO-Truppen in der Ukraine?"))
    english = kw.match_strength(
        tokenize("What did the spokesman say about sending troops to the country?")
    )
    english_with_names = kw.match_strength(tokenize("What did Peskow say about NATO troops?"))
    assert german > 0.9
    assert english < 0.2
    assert english < english_with_names < german


def test_match_strength_of_empty_query_is_zero(kw):
    assert kw.match_strength([]) == 0.0


@pytest.mark.parametrize(
    "date_from, date_to, sources, expected",
    [
        (0, 0, (), {"gewerkschaft#0", "kreml#0", "hochwasser#0", "wahl#0"}),
        (20240901, 20241231, (), {"hochwasser#0", "wahl#0"}),
        (20250101, 0, (), {"kreml#0"}),
        (0, 20161231, (), {"gewerkschaft#0"}),
        (0, 0, ("Der Standard",), {"gewerkschaft#0", "wahl#0"}),
        (20240101, 0, ("Der Standard", "Kurier"), {"kreml#0", "wahl#0"}),
        (0, 0, ("Unbekannt",), set()),
    ],
)
def test_mask_selects_by_date_range_and_source(kw, date_from, date_to, sources, expected):
    mask = kw.mask(date_from, date_to, sources)
    assert {cid for cid, keep in zip(kw.ids, mask, strict=True) if keep} == expected


def test_empty_corpus_is_searchable():
    empty = KeywordIndex([], fingerprint="")
    assert len(empty) == 0
    assert empty.search(tokenize("Peskow"), k=5) == []
    assert empty.match_strength(tokenize("Peskow")) == 0.0
