"""Sentence segmentation and chunking keep German sentences, quotes and offsets intact."""

from __future__ import annotations

import pytest

from ingest.chunk import chunk_spans
from rag.text import sentence_spans, sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Das ist z. B. ein Test. Dr. Müller kam am 5. September nach Wien.",
            ["Das ist z. B. ein Test.", "Dr. Müller kam am 5. September nach Wien."],
        ),
        (
            "„Wir sind bereit. Ganz bereit“, sagte er. Danach ging er.",
            ["„Wir sind bereit. Ganz bereit“, sagte er.", "Danach ging er."],
        ),
        (
            "Die Partei (ca. 30 Prozent) u. a. Gruppen. Am 24. Februar 2022 begann der Krieg.",
            ["Die Partei (ca. 30 Prozent) u. a. Gruppen.", "Am 24. Februar 2022 begann der Krieg."],
        ),
        (
            "Erster Absatz.\n\nZweiter Absatz ohne Punkt",
            ["Erster Absatz.", "Zweiter Absatz ohne Punkt"],
        ),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_sentences_respect_german_abbreviations_dates_and_quotes(text, expected):
    assert sentences(text) == expected


def test_sentence_offsets_point_into_the_text_even_for_repeated_sentences():
    text = "Ja. Nein. Ja. Vielleicht 🙂 ist das so."
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["Ja.", "Nein.", "Ja.", "Vielleicht 🙂 ist das so."]
    assert spans[2][0] > spans[0][0]


def _text(n: int) -> str:
    return " ".join(
        f"Satz {i} über die Lage in der Ukraine, z. B. am {i % 28 + 1}. September."
        for i in range(n)
    )


@pytest.mark.parametrize("size, overlap", [(200, 0), (400, 100), (800, 150), (120, 60)])
def test_chunks_are_whole_sentences_within_size_and_cover_the_text(size, overlap):
    text = _text(60)
    spans = chunk_spans(text, size, overlap)
    bounds = set(sentence_spans(text))
    starts = {s for s, _ in bounds}
    ends = {e for _, e in bounds}
    for s, e in spans:
        assert s in starts and e in ends, "a chunk was cut inside a sentence"
        assert e - s <= size or (s, e) in bounds
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert all(i in covered for s, e in bounds for i in range(s, e))


def test_overlap_repeats_the_last_sentences_of_the_previous_chunk():
    text = _text(30)
    spans = chunk_spans(text, 300, 120)
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
        assert s2 < e1 and e1 - s2 <= 120


def test_a_huge_sentence_is_cut_at_whitespace_not_kept_whole():
    text = "Wort " * 2000  # 10,000 characters without a full stop
    spans = chunk_spans(text.strip(), 800, 100)
    assert len(spans) > 10 and max(e - s for s, e in spans) <= 800
    assert all(text[s] != " " and text[e - 1] != " " for s, e in spans)


def test_empty_text_has_no_chunks():
    assert chunk_spans("", 800, 100) == []
