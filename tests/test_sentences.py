"""Sentence vectors stored with each chunk, and search's re-ranking by the best sentence
(rag.sentences, rag.retrieve): real model, real Chroma, indexes built by ingest's core."""

from __future__ import annotations

import numpy as np
import pytest

from rag import schema, sentences
from rag.retrieve import Retriever
from rag.schema import Article, Passage
from tests.test_retrieve import _sync

ARTICLES = [
    Article(
        id="stimme.txt",
        title="Studie aus Leipzig",
        date="2025-03-02",
        source="Der Standard",
        text="Forscher der Universität Leipzig haben Stimmen von 2.000 Menschen untersucht. "
        "Die Teilnehmer lasen Texte vor und sangen Tonleitern. Im Alter sinkt die Stimme "
        "von Frauen im Schnitt um eine halbe Oktave, die von Männern steigt leicht. Die "
        "Ergebnisse erscheinen im Fachjournal Voice.",
    ),
    Article(
        id="marathon.txt",
        title="Vienna City Marathon",
        date="2024-04-21",
        source="ORF",
        text="Beim Vienna City Marathon liefen am Sonntag mehr als 40.000 Menschen durch die "
        "Innenstadt. Der Sieger aus Kenia brauchte zwei Stunden und sechs Minuten. Wegen der "
        "Hitze versorgten Sanitäter zahlreiche Läuferinnen und Läufer.",
    ),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    from rag.settings import Settings

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("sentence-index"))
    return _sync(settings, embedder, ARTICLES)


def test_packed_vectors_keep_their_cosines():
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(6, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    back = sentences.unpack(sentences.pack(rows), 384)
    assert back.shape == rows.shape
    query = rows[2] * 0.8 + rows[4] * 0.6
    assert np.abs(back @ query - rows @ query).max() < 0.01


@pytest.mark.parametrize("blob", ["", "not base64!", sentences.pack(np.ones((2, 8))), 42, None])
def test_damaged_or_foreign_vectors_give_no_signal(blob):
    assert sentences.best_cosine(blob, np.ones(384, dtype=np.float32) / 384**0.5) is None


def test_ingest_stores_one_vector_per_sentence_of_each_chunk(index, embedder):
    got = index.chunks.get(include=["metadatas"])
    assert got["ids"]
    for meta in got["metadatas"]:
        article = index.get_article(meta[schema.ARTICLE_ID])
        chunk = article.text[meta[schema.START] : meta[schema.END]]
        wanted = sentences.sentence_texts(chunk)
        stored = sentences.unpack(meta[schema.SENTENCE_VECTORS], embedder.dimension)
        assert len(stored) == len(wanted) >= 1
        fresh = embedder.encode_passages(wanted)
        assert np.min(np.sum(stored * fresh, axis=1)) > 0.99  # the same vectors, int8


def test_search_scores_the_best_sentence_and_ranks_by_it(index, embedder):
    retriever = Retriever(index.settings, index, embedder)
    hits = retriever.search("By how much does women's voice drop with age?", k=2)
    assert hits[0].article_id == "stimme.txt"
    qvec = embedder.encode_queries(["By how much does women's voice drop with age?"])[0]
    best = max(
        float(v @ qvec)
        for v in embedder.encode_passages(sentences.sentence_texts(ARTICLES[0].text))
    )
    assert hits[0].scores["sentence"] == pytest.approx(best, abs=0.01)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def _passage(cid: str, fused: float, dense: float, sentence: float | None) -> Passage:
    p = Passage(chunk_id=cid, article_id=cid, text=cid, start=0, end=len(cid))
    p.scores = {"fused": fused, "dense": dense, "bm25": 0.0}
    if sentence is not None:
        p.scores["sentence"] = sentence
    p.score = fused
    return p


def test_a_passage_whose_best_sentence_answers_overtakes_a_slightly_better_chunk(index, embedder):
    retriever = Retriever(index.settings, index, embedder)
    passages = [
        _passage("a", 1.0, 0.82, 0.80),
        _passage("b", 0.9, 0.81, 0.90),
        _passage("c", -1.9, 0.70, 0.70),
    ]
    ranked = retriever._by_sentence(passages, retriever.calibration.sentence_weight)
    assert [p.chunk_id for p in ranked] == ["b", "a", "c"]


def test_an_index_without_sentence_vectors_ranks_as_before(index, embedder):
    retriever = Retriever(index.settings, index, embedder)
    passages = [_passage("a", 1.0, 0.8, None), _passage("b", 0.9, 0.9, None)]
    ranked = retriever._by_sentence(passages, retriever.calibration.sentence_weight)
    assert [p.chunk_id for p in ranked] == ["a", "b"]
    assert [p.score for p in ranked] == [1.0, 0.9]


def test_an_index_from_before_sentence_vectors_still_answers(make_settings, embedder):
    """Chunks written without the key (an index built by an earlier release) are searched
    by chunk vectors alone until the next ingest re-embeds them."""
    index = _sync(make_settings(), embedder, ARTICLES)
    ids = index.chunks.get(include=[])["ids"]
    index.chunks.update(ids=ids, metadatas=[{schema.SENTENCE_VECTORS: None}] * len(ids))
    assert all(
        schema.SENTENCE_VECTORS not in m
        for m in index.chunks.get(include=["metadatas"])["metadatas"]
    )
    hits = Retriever(index.settings, index, embedder).search("Marathon Sieger Kenia", k=2)
    assert hits[0].article_id == "marathon.txt"
    assert all("sentence" not in h.scores for h in hits)
    assert [h.score for h in hits] == [h.scores["fused"] for h in hits]
