"""Hybrid retrieval against a real Chroma index and the real embedding model.

Test indexes are built by ingest's own core (`sync_articles`), so chunks carry the title
prefix, ids and metadata exactly as in the product.
"""

from __future__ import annotations

import warnings

import pytest

from rag.errors import UserError
from rag.fusion import collapse_duplicates, keyword_weight
from rag.retrieve import Filters, Retriever
from rag.schema import Article, Passage

ARTICLES = [
    Article(
        id="kreml.txt",
        title="Kreml lehnt NATO-Truppen ab",
        date="2025-09-05",
        source="Kurier",
        text="Kremlsprecher Dmitri Peskow lehnte die Entsendung von NATO-Truppen in die "
        "Ukraine entschieden ab. Russland werde ausländische Soldaten auf ukrainischem Boden "
        "als legitimes Ziel betrachten, sagte Peskow am Freitag in Moskau.",
    ),
    Article(
        id="hochwasser.txt",
        title="Hochwasser in Niederösterreich",
        date="2024-09-16",
        source="ORF",
        text="Nach tagelangem Regen traten in Niederösterreich mehrere Flüsse über die Ufer. "
        "Die Feuerwehren pumpten die Keller der überfluteten Häuser aus. Im Bezirk Tulln "
        "wurden zweihundert Menschen in Sicherheit gebracht.",
    ),
    Article(
        id="wahl.txt",
        title="Nationalratswahl",
        date="2024-09-30",
        source="Der Standard",
        text="Bei der Nationalratswahl erreichte die Volkspartei den zweiten Platz. Die "
        "Wahlbeteiligung lag bei knapp achtzig Prozent und damit höher als vor fünf Jahren.",
    ),
    Article(
        id="gewerkschaft.txt",
        title="All-in-Verträge",
        date="2016-03-10",
        source="Der Standard",
        text="Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei sogenannten All-in-Verträgen. "
        "Ein Online-Rechner soll Arbeitnehmern zeigen, ob ihr Gehalt die Überstunden deckt.",
    ),
    Article(
        # the same story republished under another id with a dateline (an exact copy
        # would be stored once by ingest)
        id="gewerkschaft-kopie.txt",
        title="All-in-Verträge (Kopie)",
        date="2016-03-11",
        source="Kurier",
        text="Wien – Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei sogenannten "
        "All-in-Verträgen. Ein Online-Rechner soll Arbeitnehmern zeigen, ob ihr Gehalt die "
        "Überstunden deckt.",
    ),
]


def _sync(settings, embedder, articles, index=None):
    """Make the index hold exactly `articles`, through ingest's own core."""
    from ingest.pipeline import sync_articles
    from rag.store import Index

    index = index or Index(settings)
    summary = sync_articles(lambda _summary: articles, settings, index=index, embedder=embedder)
    assert not (summary.failed or summary.duplicates), summary
    return index


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, embedder):
    from rag.settings import Settings

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("retrieve-index"))
    return Retriever(settings, _sync(settings, embedder, ARTICLES), embedder)


def test_german_question_relies_on_keywords_and_finds_the_article(retriever):
    hits = retriever.search("Was sagte Peskow über NATO-Truppen?", k=3)
    assert hits[0].article_id == "kreml.txt"
    top = hits[0]
    assert {"dense", "bm25", "fused", "sentence"} <= set(top.scores)
    assert top.score != top.scores["fused"]  # re-ranked by its best sentence too
    assert top.scores["keyword_weight"] >= 0.7
    assert top.scores["bm25"] > 0


def test_english_question_over_german_text_gets_low_keyword_weight(retriever):
    hits = retriever.search("How many people were evacuated because of the flooding?", k=3)
    assert hits
    assert hits[0].scores["keyword_weight"] <= 0.3
    assert hits[0].scores["keyword_weight"] < keyword_weight(1.0)


def test_results_are_best_first_and_at_most_k(retriever):
    hits = retriever.search("Gewerkschaft Gehalt Überstunden", k=2)
    assert len(hits) <= 2
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_blank_query_returns_nothing(retriever, query):
    assert retriever.search(query) == []


@pytest.mark.parametrize(
    "filters, allowed",
    [
        (Filters(date_from="2024-09-01", date_to="2024-09-30"), {"hochwasser.txt", "wahl.txt"}),
        (Filters(date_from="2025-01-01"), {"kreml.txt"}),
        (Filters(date_to="2016-12-31"), {"gewerkschaft.txt", "gewerkschaft-kopie.txt"}),
        (Filters(sources=("ORF",)), {"hochwasser.txt"}),
        (Filters(sources=("Der Standard",), date_from="2024-01-01"), {"wahl.txt"}),
        (Filters(sources=("Nirgendwo",)), set()),
    ],
)
def test_filters_restrict_both_signals(retriever, filters, allowed):
    # The query matches every article by keyword, so only the filter decides.
    query = "Peskow Hochwasser Nationalratswahl Gewerkschaft"
    hits = retriever.search(query, k=10, filters=filters)
    assert {h.article_id for h in hits} <= allowed
    if allowed:
        assert hits


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"date_from": "05.09.2025"}, "YYYY-MM-DD"),
        ({"date_to": "2025-13-01"}, "YYYY-MM-DD"),
        ({"date_from": "2025-09-05", "date_to": "2025-01-01"}, "swap"),
    ],
)
def test_bad_filter_dates_raise_a_clear_message(kwargs, message):
    with pytest.raises(UserError, match=message):
        Filters(**kwargs)


def test_same_text_in_two_articles_is_returned_once(retriever):
    hits = retriever.search("Gewerkschaft GPA-djp All-in-Verträge", k=5)
    copies = [h for h in hits if h.article_id.startswith("gewerkschaft")]
    assert len(copies) == 1
    assert copies[0].scores["duplicates"] == 1


def test_overlapping_chunks_of_one_article_collapse_to_the_better_one():
    text = "Erster Satz über Peskow. Zweiter Satz über Moskau. Dritter Satz über die NATO."
    first = Passage("a#1", "a", text[:50], 0, 50, score=0.9)
    overlapping = Passage("a#2", "a", text[10:60], 10, 60, score=0.8)
    elsewhere = Passage("b#1", "b", "Ganz anderer Text über Hochwasser.", 0, 34, score=0.7)
    kept = collapse_duplicates([first, overlapping, elsewhere], k=5)
    assert [p.chunk_id for p in kept] == ["a#1", "b#1"]


def test_adjacent_chunks_of_one_article_are_both_kept():
    a = Passage("a#1", "a", "Peskow sprach in Moskau über die Lage.", 0, 38)
    b = Passage("a#2", "a", "Die Feuerwehr pumpte Keller in Tulln aus.", 38, 79)
    assert len(collapse_duplicates([a, b], k=5)) == 2


@pytest.mark.slow
def test_keyword_index_follows_every_change_to_the_index(make_settings, embedder):
    settings = make_settings()
    index = _sync(settings, embedder, ARTICLES[:2])
    retriever = Retriever(settings, index, embedder)
    assert retriever.search("Nationalratswahl Wahlbeteiligung", k=3)[0].article_id != "wahl.txt"

    # add
    _sync(settings, embedder, ARTICLES[:3], index)
    hits = retriever.search("Nationalratswahl Wahlbeteiligung", k=3)
    assert hits[0].article_id == "wahl.txt" and hits[0].scores["bm25"] > 0

    # change: the old wording disappears, the new one is found
    changed = Article(
        id="hochwasser.txt",
        title="Waldbrand",
        date="2024-09-16",
        source="ORF",
        text="Ein Waldbrand bei Hirschwang zerstörte vierzig Hektar Schutzwald.",
    )
    _sync(settings, embedder, [ARTICLES[0], changed, ARTICLES[2]], index)
    hits = retriever.search("Waldbrand Hirschwang Schutzwald", k=3)
    assert hits[0].article_id == "hochwasser.txt" and "Waldbrand" in hits[0].text
    stale = retriever.search("Feuerwehren pumpten Keller überfluteten", k=5)
    assert all("Keller" not in h.text for h in stale)

    # remove
    _sync(settings, embedder, [changed, ARTICLES[2]], index)
    assert all(h.article_id != "kreml.txt" for h in retriever.search("Peskow NATO-Truppen", k=5))


def test_deleted_chunks_never_come_back_even_before_a_refresh(make_settings, embedder):
    settings = make_settings()
    index = _sync(settings, embedder, ARTICLES[:3])
    retriever = Retriever(settings, index, embedder)
    assert retriever.search("Peskow NATO-Truppen", k=1)[0].article_id == "kreml.txt"
    ids = [
        cid
        for (aid, _h), cids in index.chunk_versions().items()
        if aid == "kreml.txt"
        for cid in cids
    ]
    index.remove_article("kreml.txt", ids)  # no mark_refreshed(): the writer forgot it
    assert all(h.article_id != "kreml.txt" for h in retriever.search("Peskow NATO-Truppen", k=5))


def test_dense_only_retriever_ignores_keywords(retriever):
    dense = Retriever(retriever.settings, retriever.index, retriever.embedder, signals=("dense",))
    hits = dense.search("Was sagte Peskow über NATO-Truppen?", k=3)
    assert hits and all(h.scores["bm25"] == 0 and h.score == h.scores["dense"] for h in hits)


def test_empty_index_returns_nothing(make_settings, embedder):
    from rag.store import Index

    settings = make_settings()
    assert Retriever(settings, Index(settings), embedder).search("Peskow") == []


def test_search_does_not_count_the_archive(retriever, monkeypatch):
    """A row count scans the whole chunk collection: at a million chunks it was more than
    half of each search's time. Searching must not need one."""
    from chromadb.api.models.Collection import Collection

    def counted(self):
        raise AssertionError(f"search counted the rows of {self.name}")

    monkeypatch.setattr(Collection, "count", counted)
    hits = retriever.search("Was sagte Peskow über NATO-Truppen?", k=3)
    assert hits and hits[0].article_id == "kreml.txt"


def test_unloadable_reranker_warns_once_and_search_goes_on(retriever, tmp_path):
    settings = retriever.settings.model_copy(
        update={"reranker_model": str(tmp_path / "no-such-cross-encoder")}
    )
    reranked = Retriever(settings, retriever.index, retriever.embedder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = reranked.search("Was sagte Peskow über NATO-Truppen?", k=3)
        second = reranked.search("Hochwasser Niederösterreich", k=3)
    assert first[0].article_id == "kreml.txt" and second[0].article_id == "hochwasser.txt"
    assert "rerank" not in first[0].scores
    messages = [str(w.message) for w in caught if "Reranker" in str(w.message)]
    assert len(messages) == 1 and "RAG_RERANKER_MODEL" in messages[0]


# --- filtered dense search: post-filtered unfiltered query vs Chroma's filtered query ---

_OUTLETS = ("Kurier", "ORF", "Der Standard")
_TOPICS = (
    "Die Gemeinde beschloss ein neues Budget für Schulen und Kindergärten.",
    "Der Fußballverein gewann das Derby nach einem späten Elfmeter.",
    "Die Notenbank ließ den Leitzins unverändert und warnte vor der Inflation.",
    "Ein Sturm deckte Dächer ab und legte den Bahnverkehr im Westen lahm.",
    "Die Regierung stellte ein Paket gegen die Teuerung bei Energie vor.",
    "Forscher entdeckten in den Alpen eine bisher unbekannte Käferart.",
)


def _spread_articles() -> list[Article]:
    """36 articles over 2016-2025, three outlets, the last three without a date."""
    out = []
    for i in range(36):
        undated = i >= 33
        out.append(
            Article(
                id=f"meldung-{i:02d}.txt",
                title=f"Meldung {i}",
                date=None if undated else f"{2016 + i % 10}-{1 + i % 12:02d}-{1 + i % 27:02d}",
                source=_OUTLETS[i % 3],
                text=f"{_TOPICS[i % len(_TOPICS)]} Das berichtete die Redaktion in Folge {i}. "
                f"{_TOPICS[(i * 5 + 1) % len(_TOPICS)]}",
            )
        )
    return out


@pytest.fixture(scope="module")
def spread(tmp_path_factory, embedder):
    from rag.settings import Settings

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("spread-index"))
    return Retriever(settings, _sync(settings, embedder, _spread_articles()), embedder)


def _filtered_truth(retriever, qvec, filters, n):
    """Chroma's own filtered query: the ids the dense signal must give."""
    got = retriever.index.chunks.query(
        query_embeddings=[qvec.tolist()], n_results=n, where=filters.where(), include=[]
    )
    return got["ids"][0]


def _dense_pool(retriever, qvec, filters, monkeypatch):
    """Run the dense signal and record the Chroma queries it made: ("unfiltered", n) for a
    query whose results are checked in Python, ("filtered", where) for Chroma's filter."""
    from rag import retrieve

    calls = []
    query, nearest = retrieve.Retriever._query, retrieve.Retriever._nearest_inside

    def spy_query(self, qvec_, n, where):
        calls.append(("filtered", where) if where is not None else ("unfiltered", n))
        return query(self, qvec_, n, where)

    def spy_nearest(self, qvec_, n, filters_):
        calls.append(("unfiltered", n))
        return nearest(self, qvec_, n, filters_)

    monkeypatch.setattr(retrieve.Retriever, "_query", spy_query)
    monkeypatch.setattr(retrieve.Retriever, "_nearest_inside", spy_nearest)
    pool = {}
    retriever._dense(qvec, filters, pool)
    return pool, calls


FILTERS = [
    pytest.param(Filters(date_from="2016-01-01", date_to="2024-12-31"), "wide", id="wide-range"),
    pytest.param(Filters(date_from="2019-01-01", date_to="2019-12-31"), "narrow", id="one-year"),
    pytest.param(Filters(date_from="2018-01-01"), "wide", id="from-only"),
    pytest.param(Filters(date_to="2030-12-31"), "wide", id="until-only-excludes-undated"),
    pytest.param(Filters(sources=("ORF", "Der Standard")), "wide", id="two-outlets"),
    pytest.param(Filters(sources=("ORF",), date_from="2021-01-01"), "narrow", id="outlet+dates"),
]


@pytest.mark.parametrize("filters, path", FILTERS)
def test_filtered_dense_search_equals_chromas_filtered_query(spread, filters, path, monkeypatch):
    from rag import retrieve

    monkeypatch.setattr(retrieve, "CANDIDATES", 4)
    monkeypatch.setattr(retrieve, "MAX_UNFILTERED", 12)  # 4 / share * 1.5 <= 12: share >= 0.5
    qvec = spread.encode_query("Wie reagierte die Notenbank auf die Inflation?")
    pool, calls = _dense_pool(spread, qvec, filters, monkeypatch)
    assert list(pool) == _filtered_truth(spread, qvec, filters, 4)
    assert all(filters.admits({"date_int": _day(p), "source": p.source}) for p in pool.values())
    if path == "wide":
        assert calls == [("unfiltered", calls[0][1])]  # checked in Python, no fallback
    else:
        assert len(calls) == 1 and calls[0][0] == "filtered"
        if filters.date_range != (0, 0):
            assert "$in" in str(calls[0][1])  # the days that have articles


def _day(p: Passage) -> int:
    from rag.schema import date_to_int

    return date_to_int(p.date)


def test_an_end_date_leaves_out_undated_articles_on_every_path(spread, monkeypatch):
    from rag import retrieve

    filters = Filters(date_to="2030-12-31")
    qvec = spread.encode_query("Die Redaktion berichtete")
    for limit in (10_000, 1):  # unfiltered + check in Python, then Chroma's filter
        monkeypatch.setattr(retrieve, "MAX_UNFILTERED", limit)
        hits = spread.search("Die Redaktion berichtete", k=40, filters=filters, query_vector=qvec)
        assert hits and all(h.date for h in hits)
        assert not {"meldung-33.txt", "meldung-34.txt", "meldung-35.txt"} & {
            h.article_id for h in hits
        }
    assert any(h.date is None or h.date == "" for h in spread.search("Folge 34", k=40))


def test_a_short_post_filter_falls_back_to_chromas_filtered_query(spread, monkeypatch):
    from rag import retrieve

    monkeypatch.setattr(retrieve, "CANDIDATES", 4)
    monkeypatch.setattr(retrieve, "OVERSAMPLE", 0.3)  # too few unfiltered results to fill 4
    filters = Filters(sources=("ORF", "Kurier"))
    qvec = spread.encode_query("Sturm Dächer Bahnverkehr")
    pool, calls = _dense_pool(spread, qvec, filters, monkeypatch)
    assert calls == [("unfiltered", 2), ("filtered", filters.where())]
    assert list(pool) == _filtered_truth(spread, qvec, filters, 4)


def test_a_filter_nothing_passes_gives_no_dense_candidates(spread, monkeypatch):
    qvec = spread.encode_query("Notenbank")
    pool, calls = _dense_pool(spread, qvec, Filters(sources=("Nirgendwo",)), monkeypatch)
    assert pool == {} and calls == []


def test_without_a_keyword_index_the_filter_goes_to_chroma(spread, monkeypatch):
    monkeypatch.setattr(type(spread.index), "side", lambda self, name: None)
    filters = Filters(date_from="2016-01-01", date_to="2024-12-31")
    qvec = spread.encode_query("Fußball Derby")
    pool, calls = _dense_pool(spread, qvec, filters, monkeypatch)
    assert calls == [("filtered", filters.where())]
    assert set(pool) == set(_filtered_truth(spread, qvec, filters, 50))


def test_a_start_date_makes_the_unknown_date_clause_unnecessary():
    assert Filters(date_from="2020-01-01", date_to="2020-12-31").where() == {
        "$and": [{"date_int": {"$gte": 20200101}}, {"date_int": {"$lte": 20201231}}]
    }
    assert {"date_int": {"$gt": 0}} in Filters(date_to="2020-12-31").where()["$and"]
