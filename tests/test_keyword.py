"""The keyword index: German tokenization, BM25 search with filters inside the engine,
match strength, and the side-index contract (write, replace, delete, versions, drop)."""

from __future__ import annotations

import pytest

from rag.keyword import KeywordIndex, stop_words, tokenize
from rag.schema import Article, chunk_id
from rag.sidecar import ArticleVersion

ARTICLES = {
    "gewerkschaft": (
        "Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei sogenannten All-in-Verträgen. "
        "Die Gewerkschaften fordern mehr Transparenz für Arbeitnehmer.",
        "2016-03-10",
        "Der Standard",
    ),
    "kreml": (
        "Kremlsprecher Dmitri Peskow lehnte die Entsendung von NATO-Truppen in die Ukraine "
        "ab. Russland werde das nicht hinnehmen, sagte Peskow in Moskau.",
        "2025-09-05",
        "Kurier",
    ),
    "hochwasser": (
        "Nach tagelangem Regen traten in Niederösterreich mehrere Flüsse über die Ufer. "
        "Die Feuerwehren pumpten die Keller der überfluteten Häuser aus.",
        "2024-09-16",
        "ORF",
    ),
    "wahl": (
        "Bei der Nationalratswahl erreichte die Volkspartei den zweiten Platz. Die Wahlbeteiligung "
        "lag bei knapp achtzig Prozent, höher als vor fünf Jahren.",
        "2024-09-30",
        "Der Standard",
    ),
}


def version_of(aid: str, text: str, date: str | None, source: str, version: str = "v1"):
    """One article version with a single chunk spanning its whole text."""
    article = Article(id=aid, text=text, title=aid.title(), date=date, source=source)
    return ArticleVersion(article, version, [chunk_id(aid, version, 0)], [(0, len(text))])


def cid(aid: str, version: str = "v1") -> str:
    return chunk_id(aid, version, 0)


@pytest.fixture
def kw(tmp_path) -> KeywordIndex:
    index = KeywordIndex(tmp_path / "articles.keyword")
    index.write([version_of(aid, *fields) for aid, fields in ARTICLES.items()])
    return index


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
    assert hits[0].chunk_id == cid("gewerkschaft")
    assert hits[0].score > 0


def test_query_without_known_terms_finds_nothing(kw):
    assert kw.search(tokenize("quantum chromodynamics lattice"), k=3) == []
    assert kw.search([], k=3) == []


@pytest.mark.parametrize("query", ['"Peskow" OR', "NEAR(a b)", "kreml* -x", "a:b", "'"])
def test_query_syntax_in_questions_is_data_not_syntax(kw, query):
    kw.search(tokenize(query), k=3)  # no FTS5 syntax error whatever the question holds


def test_match_strength_is_high_for_german_and_low_for_english_questions(kw):
    def strength(question: str) -> float:
        terms = tokenize(question)
        hits = kw.search(terms, k=1)
        return kw.match_strength(terms, hits[0] if hits else None)

    german = strength("Was sagte Peskow über NATO-Truppen in der Ukraine?")
    english = strength("What did the spokesman say about sending troops to the country?")
    english_with_names = strength("What did Peskow say about NATO troops?")
    assert german > 0.9
    assert english < 0.2
    assert english < english_with_names < german


def test_match_strength_weighs_unseen_terms_by_idf(kw):
    terms = tokenize("Was erklärte Peskow in Moskau?")  # "erklärte" appears in no chunk
    strength = kw.match_strength(terms, kw.search(terms, k=1)[0])
    assert 0.3 < strength < 0.7


def test_match_strength_of_empty_query_is_zero(kw):
    assert kw.match_strength([], None) == 0.0


@pytest.mark.parametrize(
    "date_from, date_to, sources, expected",
    [
        (0, 0, (), {"gewerkschaft", "kreml", "hochwasser", "wahl"}),
        (20240901, 20241231, (), {"hochwasser", "wahl"}),
        (20250101, 0, (), {"kreml"}),
        (0, 20161231, (), {"gewerkschaft"}),
        (0, 0, ("Der Standard",), {"gewerkschaft", "wahl"}),
        (20240101, 0, ("Der Standard", "Kurier"), {"kreml", "wahl"}),
        (0, 0, ("Unbekannt",), set()),
    ],
)
def test_search_filters_by_date_range_and_source(kw, date_from, date_to, sources, expected):
    query = tokenize("Gewerkschaft Peskow Niederösterreich Nationalratswahl")
    hits = kw.search(query, k=10, date_from=date_from, date_to=date_to, sources=sources)
    assert {h.chunk_id for h in hits} == {cid(a) for a in expected}


def test_filters_apply_inside_the_ranking_not_to_its_top_k(tmp_path):
    kw = KeywordIndex(tmp_path / "k.keyword")
    strong = "Peskow Peskow Peskow sprach in Moskau."
    kw.write([version_of(f"neu{i}", strong, f"2025-01-0{1 + i % 9}", "ORF") for i in range(60)])
    kw.write(
        [
            version_of(
                "alt",
                "Ein Satz, in dem Peskow einmal vorkommt, lang und breit.",
                "2001-05-05",
                "ORF",
            )
        ]
    )
    hits = kw.search(tokenize("Peskow"), k=1, date_to=20011231)
    assert [h.chunk_id for h in hits] == [cid("alt")]


def test_undated_chunks_are_outside_any_upper_date_bound(tmp_path):
    kw = KeywordIndex(tmp_path / "k.keyword")
    kw.write([version_of("ohne", "Peskow ohne Datum.", None, "ORF")])
    assert kw.search(["peskow"], k=5, date_to=20991231) == []
    assert [h.chunk_id for h in kw.search(["peskow"], k=5)] == [cid("ohne")]


def test_scores_of_given_chunks_match_their_search_scores(kw):
    terms = tokenize("Peskow Gewerkschaft")
    by_search = {h.chunk_id: h.score for h in kw.search(terms, k=10)}
    wanted = [cid("kreml"), cid("wahl"), "missing#0"]
    assert kw.scores(terms, wanted) == pytest.approx({cid("kreml"): by_search[cid("kreml")]})


def test_writing_a_version_again_replaces_its_entries(kw):
    text, date, source = ARTICLES["kreml"]
    kw.write([version_of("kreml", text, date, source)])
    assert len(kw.search(["peskow"], k=10)) == 1
    assert kw.summary().chunks == 4


def test_two_versions_of_an_article_live_side_by_side_until_one_is_deleted(kw):
    kw.write([version_of("kreml", "Waldbrand bei Hirschwang.", "2025-09-06", "Kurier", "v2")])
    assert ("kreml", "v1") in kw.versions() and ("kreml", "v2") in kw.versions()
    kw.delete([("kreml", "v1")])
    assert kw.search(["peskow"], k=5) == []
    assert [h.chunk_id for h in kw.search(tokenize("Waldbrand"), k=5)] == [cid("kreml", "v2")]
    assert ("kreml", "v1") not in kw.versions()
    assert kw.summary().chunks == 4


def test_versions_lists_every_written_version(kw):
    assert kw.versions() == {(aid, "v1") for aid in ARTICLES}


def test_summary_answers_the_app_without_a_scan(kw):
    summary = kw.summary()
    assert summary.articles == 4 and summary.chunks == 4
    assert (summary.date_min, summary.date_max) == ("2016-03-10", "2025-09-05")
    assert summary.sources == ["Der Standard", "Kurier", "ORF"]


def test_another_reader_sees_each_commit_without_reopening(kw):
    reader = KeywordIndex(kw.path)  # as another process would open it
    assert reader.search(["hirschwang"], k=1) == []
    kw.write([version_of("brand", "Waldbrand bei Hirschwang.", "2025-09-06", "ORF")])
    assert [h.chunk_id for h in reader.search(["hirschwang"], k=1)] == [cid("brand")]
    kw.delete([("brand", "v1")])
    assert reader.search(["hirschwang"], k=1) == []


def test_a_missing_index_reads_as_empty_and_reading_creates_nothing(tmp_path):
    path = tmp_path / "none" / "x.keyword"
    kw = KeywordIndex(path)
    with pytest.warns(UserWarning, match="python -m ingest"):
        assert kw.search(["peskow"], k=3) == []
    assert kw.versions() == set() and kw.summary() is None
    kw.delete([("a", "v1")])
    assert not path.parent.exists()


def test_drop_removes_the_files(kw):
    reader = KeywordIndex(kw.path)
    assert reader.search(["peskow"], k=1)
    kw.drop()
    assert not kw.path.exists()
    assert reader.search(["peskow"], k=1) == []  # a reader of a dropped index finds nothing


def test_unwritable_folder_is_a_clear_error(tmp_path):
    from rag.store import StoreError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    kw = KeywordIndex(blocker / "k.keyword")
    with pytest.raises(StoreError, match="RAG_KEYWORD_DIR"):
        kw.write([version_of("a", "Peskow.", None, "ORF")])
