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


# --- chunks fit the embedding model's window --------------------------------------------


def _words_fit(text: str, limit: int):
    return lambda s, e: len(text[s:e].split()) <= limit


def _assert_cover_with_exact_offsets(text, spans):
    covered = set()
    for s, e in spans:
        assert text[s:e] == text[s:e].strip() and s < e
        covered.update(range(s, e))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize("limit", [3, 7, 12, 40])
def test_chunks_that_would_not_fit_take_fewer_sentences_or_are_cut_at_words(limit):
    text = _text(20)
    spans = chunk_spans(text, 800, 150, fits=_words_fit(text, limit))
    assert all(len(text[s:e].split()) <= limit for s, e in spans)
    _assert_cover_with_exact_offsets(text, spans)
    ends = {e for _, e in sentence_spans(text)}
    for _s, e in spans:  # a chunk ends at a sentence end, else at a word end
        assert e in ends or text[e].isspace()


def test_whole_sentences_are_kept_when_they_fit():
    text = _text(20)
    spans = chunk_spans(text, 800, 150, fits=_words_fit(text, 30))
    bounds = set(sentence_spans(text))
    assert all(s in {b[0] for b in bounds} and e in {b[1] for b in bounds} for s, e in spans)


def test_a_word_longer_than_the_window_is_cut_inside_it():
    text = "Siehe " + "x" * 300 + " und weiter."
    spans = chunk_spans(text, 800, 0, fits=lambda s, e: e - s <= 100)
    assert all(e - s <= 100 for s, e in spans)
    _assert_cover_with_exact_offsets(text, spans)


def test_a_span_that_can_never_fit_is_kept_whole_not_looped_on():
    text = "Eins zwei drei. Vier fünf."
    assert chunk_spans(text, 800, 0, fits=lambda s, e: False) == [(0, 15), (16, 26)]


def test_token_fits_measures_title_prefix_and_chunk_as_embedded():
    from ingest.chunk import token_fits
    from rag.embeddings import HashingEmbedder, passage_for_embedding

    model = HashingEmbedder(max_tokens=20, passage_prefix="passage: ")
    title = "Kreml lehnt Truppen ab"
    text = _text(10)
    spans = chunk_spans(text, 800, 150, fits=token_fits(text, title, model))
    for s, e in spans:
        embedded = "passage: " + passage_for_embedding(title, text[s:e])
        assert model.count_tokens(embedded) <= 20
    assert len(spans) > 1


def test_real_tokenizers_see_every_chunk_of_the_sample_corpus_whole(embedder, minilm):
    """The sample articles chunked for e5 (512 tokens) and MiniLM (256 word pieces)."""
    from ingest.chunk import token_fits
    from rag.embeddings import passage_for_embedding
    from tests.conftest import SAMPLE_CORPUS

    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLE_CORPUS.glob("*.txt")))
    title = "Kremlsprecher Peskow: Keine NATO-Truppen in der Ukraine"
    for model in (embedder, minilm):
        spans = chunk_spans(text, 800, 150, fits=token_fits(text, title, model))
        worst = max(model.passage_tokens(passage_for_embedding(title, text[s:e])) for s, e in spans)
        assert worst <= model.max_tokens


def test_ingest_records_token_counts_and_counts_truncated_chunks(tmp_path, make_settings):
    """Chunks are cut to the window; only a title that alone fills it still truncates."""
    from ingest.pipeline import run_ingest
    from rag.embeddings import HashingEmbedder
    from rag.store import Index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Kurz\n\n" + _text(12), encoding="utf-8")
    (corpus / "b.md").write_text("# " + "Titel " * 40 + "\n\nEin Satz.", encoding="utf-8")
    settings = make_settings()
    model = HashingEmbedder(max_tokens=30)
    summary = run_ingest([corpus], settings, embedder=model)
    assert not summary.failed
    index = Index(settings)
    tokens = {m["article_id"]: [] for _, _, m in index.iter_chunks()}
    for _, _, meta in index.iter_chunks():
        tokens[meta["article_id"]].append((meta["tokens"], meta["truncated"]))
    assert all(t <= 30 and not cut for t, cut in tokens["a.md"]) and len(tokens["a.md"]) > 3
    assert tokens["b.md"] == [(model.passage_tokens("Titel " * 39 + "Titel\nEin Satz."), True)]
    assert index.stats().truncated_chunks == 1


def test_the_embedding_model_is_part_of_an_articles_version(make_settings):
    from ingest.pipeline import version_hash
    from rag import schema

    article = schema.Article(id="a", text="Ein Satz.")
    e5 = version_hash(article, make_settings())
    assert e5 != version_hash(article, make_settings(embedding_model="all-MiniLM-L6-v2"))
    assert e5 == version_hash(article, make_settings())


def test_an_index_with_unmeasured_chunks_reports_truncation_as_unknown(make_settings):
    """Chunks written before token counts were stored: unknown (null), not 0."""
    import numpy as np

    from rag import schema
    from rag.store import Index

    index = Index(make_settings())
    article = schema.Article(id="a", text="Ein Satz. Noch einer.")
    index.write_articles([(article, "v1", [(0, 9), (10, 21)], np.ones((2, 4)), "t")])
    assert index.stats().truncated_chunks is None
