"""The statement index: names that match across spellings, the side index's write /
delete / versions contract on real Chroma, committed-only reads, and search by person,
topic and date. Statements are the sample article's, written down by hand
(tests/quotes_fixtures.py), embedded with the real default model."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from ingest.pipeline import run_ingest
from rag.quotes import names
from rag.quotes.search import StatementSearch, build_directory, on_topic
from rag.quotes.store import MARKER, ROW, StatementIndex, collection_name, speaker_keys
from rag.quotes.types import Statement
from rag.settings import ARTICLES_SUFFIX, GENERATION_SUFFIX_LEN, MINILM_MODEL
from rag.sidecar import ArticleVersion
from rag.store import Index
from tests.quotes_fixtures import (  # noqa: F401 - fixtures
    SAMPLE,
    hand_extractor,
    quotes_index_dir,
    quotes_settings,
    statements_in,
)
from tests.test_concurrency import Proc, paused_ingest
from tests.test_ingest import article_file

# --- names ------------------------------------------------------------------------------

SAME_PERSON = [
    ("Peskow", "Dmitri Peskow"),
    ("Peskov", "Dmitri Peskow"),
    ("Peskov's", "Dmitri Peskow"),
    ("Dmitry Peskov", "Dmitri Peskow"),
    ("dmitrij peskow", "Dmitri Peskow"),
    ("Zelensky", "Wolodymyr Selenskyj"),
    ("Volodymyr Zelenskyy", "Wolodymyr Selenskyj"),
    ("Selenski", "Wolodymyr Selenskyj"),
    ("Sergey Lavrov", "Sergej Lawrow"),
    ("Medvedev", "Dmitri Medwedew"),
    ("Shoigu", "Sergej Schoigu"),
    ("Khodorkovsky", "Michail Chodorkowski"),
    ("Gerhard Schroeder", "Gerhard Schröder"),
    ("Alexei Navalny", "Alexej Nawalny"),
    ("Navalny", "Alexej Nawalny"),
    ("von der Leyen", "Ursula von der Leyen"),
    ("Kramp-Karrenbauer", "Annegret Kramp-Karrenbauer"),
    ("Macron", "Emmanuel Macron"),
    ("Strauss", "Franz Josef Strauß"),
    ("D. Peskow", "Dmitri Peskow"),
]

DIFFERENT = [
    ("Donald Trump", "Melania Trump"),
    ("Putin", "Dmitri Peskow"),
    ("Dmitri Medwedew", "Dmitri Peskow"),
    ("Sebastian Kurz", "Heinz Kurzweil"),
    ("Peskow", "Peskowa Straße Institut"),
    ("Joe Biden", "Hunter Biden"),
]


@pytest.mark.parametrize(("query", "name"), SAME_PERSON)
def test_spelling_variants_of_one_person_match(query, name):
    assert names.NameQuery(query).matches(name, "person")


@pytest.mark.parametrize(("query", "name"), DIFFERENT)
def test_different_people_do_not_match(query, name):
    assert not names.NameQuery(query).matches(name, "person")


def test_german_genitive_finds_the_person():
    assert names.NameQuery("Peskows").matches("Dmitri Peskow", "person")
    assert names.NameQuery("Selenskyjs").matches("Wolodymyr Selenskyj", "person")


def test_institutions_match_only_their_own_name_never_a_person_surname():
    assert names.NameQuery("Polizei").matches("Polizei", "institution")
    assert names.NameQuery("Kreml").matches("Kreml", "institution")
    assert not names.NameQuery("Kreml").matches("Kreml-Sprecher", "institution")
    # a person called like an institution's word is not the institution, nor vice versa
    assert not names.NameQuery("Ministerium").matches("Maria Ministerium", "institution")
    assert not names.NameQuery("Polizei").matches("Hans Polizei", "institution")


def test_speaker_keys_of_persons_institutions_and_unresolved():
    person = statements_in("Peskow sagte: „Das ist gefährlich für unser Land“.")
    assert speaker_keys(person[0]) == ("dmitri peskov", "peskov")
    ministry = Statement(
        0,
        4,
        "Text",
        "reported",
        "teilte mit",
        (),
        "das Ministerium",
        None,
        None,
        kind="institution",
    )
    assert speaker_keys(ministry) == ("ministerium", "")
    unknown = Statement(0, 4, "Text", "direct", "sagte", (), "er", None, None)
    assert speaker_keys(unknown) == ("", "")


# --- the side index ---------------------------------------------------------------------


@pytest.fixture
def sample(sample_settings):
    """The sample index (chunks and record, no statements), its article and version."""
    index = Index(sample_settings)
    StatementIndex(index).drop()  # the ingest filled it: start empty
    ((aid, rec),) = index.records().items()
    return index, index.get_article(aid), rec.version


def version_of(article, version) -> ArticleVersion:
    return ArticleVersion(article=article, version=version, chunk_ids=(), spans=())


def test_statement_collection_name_fits_chromas_limit_for_the_longest_generation():
    longest = "x" * (63 - GENERATION_SUFFIX_LEN - len(ARTICLES_SUFFIX)) + ".g0a1b2c"
    assert len(collection_name(longest)) <= 63


def test_write_stores_exact_spans_and_a_marker_per_version(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    store.write([version_of(article, version)], embedder.encode_passages)
    rows = store.rows()
    assert len(rows) == len(SAMPLE)
    for row in rows:
        assert article.text[row.start : row.end] == row.text
        assert row.version == version and row.article_id == article.id
    assert store.versions() == {(article.id, version)}
    peskow = [r for r in rows if r.speaker == "Dmitri Peskow"]
    assert {r.speaker_key for r in peskow} == {"dmitri peskov"}
    assert all(r.role == "Kreml-Sprecher" for r in peskow)
    vectors = store.rows(vectors=True)
    expected = embedder.encode_passages([vectors[0].text])[0]
    assert np.allclose(vectors[0].vector, expected, atol=1e-5)  # same model, passage prefix


def test_rewriting_a_version_replaces_its_statements(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    item = version_of(article, version)
    store.write([item], embedder.encode_passages)
    store.write([item], embedder.encode_passages)
    assert len(store.rows()) == len(SAMPLE)
    assert len(store.collection().get(where={ROW: MARKER})["ids"]) == 1


def test_statements_extracted_ahead_are_taken_once_instead_of_extracting(sample, embedder):
    index, article, version = sample
    calls = []

    def extractor(text):
        calls.append(text)
        return hand_extractor(text)

    store = StatementIndex(index, extractor=extractor)
    store.use_extracted({article.text: hand_extractor(article.text)[:1]})
    item = version_of(article, version)
    store.write([item], embedder.encode_passages)
    assert calls == [] and len(store.rows()) == 1  # what was extracted ahead, as given
    store.write([item], embedder.encode_passages)  # taken once: now extracted here
    assert calls == [article.text] and len(store.rows()) == len(SAMPLE)


def test_an_article_without_statements_is_complete(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=lambda text: [])
    store.write([version_of(article, version)], embedder.encode_passages)
    assert store.versions() == {(article.id, version)}
    assert store.rows() == []


def test_a_statement_that_is_not_the_article_text_is_left_out(sample, embedder):
    index, article, version = sample
    good = statements_in(article.text)[:1]
    bad = Statement(0, 10, "not there!", "direct", "sagte", (), "er", None, "X Y", kind="person")

    store = StatementIndex(index, extractor=lambda text: [*good, bad])
    store.write([version_of(article, version)], embedder.encode_passages)
    assert [r.text for r in store.rows()] == [good[0].text]


def test_delete_removes_statements_and_marker_of_that_version_only(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    old = version_of(article, "0" * 64)
    store.write([old, version_of(article, version)], embedder.encode_passages)
    assert len(store.rows()) == 2 * len(SAMPLE)
    store.delete([(article.id, "0" * 64)])
    assert store.versions() == {(article.id, version)}
    assert {r.version for r in store.rows()} == {version}


def test_readers_keep_only_the_committed_version(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    store.write([version_of(article, "f" * 64)], embedder.encode_passages)  # not committed
    assert store.rows() and store.committed(store.rows()) == []
    search = StatementSearch(index, embedder)
    assert search.search("Peskow").statements == []
    store.write([version_of(article, version)], embedder.encode_passages)
    assert {s.version for s in search.search("Peskow").statements} == {version}


def test_drop_removes_the_collection_and_readers_create_nothing(sample, embedder):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    assert store.versions() == set() and store.rows() == []
    names_now = {c.name for c in index.client.list_collections()}
    assert store.collection_name not in names_now  # reading did not create it
    store.write([version_of(article, version)], embedder.encode_passages)
    store.drop()
    assert store.collection_name not in {c.name for c in index.client.list_collections()}


def test_without_a_model_statements_wait_for_a_run_that_has_one(sample):
    index, article, version = sample
    store = StatementIndex(index, extractor=hand_extractor)
    store.write([version_of(article, version)], None)
    assert store.versions() == set()  # incomplete: reconcile writes it again later


# --- search -----------------------------------------------------------------------------


@pytest.fixture
def search(quotes_settings, embedder):  # noqa: F811 - the fixture
    return StatementSearch(Index(quotes_settings), embedder)


@pytest.mark.parametrize("name", ["Peskow", "Peskov", "Peskov's", "Dmitry Peskov", "PESKOW"])
def test_every_spelling_finds_peskows_statements(search, name):
    result = search.search(name)
    assert [s.name for s in result.speakers] == ["Dmitri Peskow"]
    assert len(result.statements) == sum(s.speaker == "Dmitri Peskow" for s in SAMPLE)


def test_a_person_query_never_returns_an_institution(search):
    assert search.search("Kreml").speakers[0].kind == "institution"
    for name in ("Dmitri Peskow", "Putin", "Selenskyj"):
        assert all(s.kind == "person" for s in search.search(name).statements)


def test_surname_only_speaker_merges_with_the_one_full_name(search):
    directory = {s.name: s for s in search.directory()}
    assert directory["Dmitri Peskow"].count == 7
    assert "Peskow" not in directory


def test_directory_keeps_two_people_with_one_surname_apart():
    from rag.quotes.store import StoredStatement

    def row(speaker, key):
        return StoredStatement(
            "i",
            "t",
            speaker,
            "",
            "",
            "person",
            "direct",
            "sagte",
            "a",
            "v",
            "",
            "2025-01-01",
            "",
            "",
            0,
            1,
            speaker_key=key,
        )

    rows = [
        row("Donald Trump", "donald trump"),
        row("Melania Trump", "melania trump"),
        row("Trump", "trump"),
    ]
    assert sorted(s.name for s in build_directory(rows)) == [
        "Donald Trump",
        "Melania Trump",
        "Trump",
    ]


def test_topic_puts_statements_on_it_first_in_english_and_german(search):
    for topic in ("NATO troops", "NATO-Truppen"):
        result = search.search("Peskow", about=topic)
        top = result.statements[0]
        assert "NATO" in top.text, topic
        assert on_topic(top)
    alaska = search.search("Peskow", about="Gipfeltreffen in Alaska").statements[0]
    assert "Alaska" in alaska.text


def test_unrelated_topic_is_not_on_topic(search):
    for topic in ("Fußball", "inflation", "climate change"):
        assert not any(on_topic(s) for s in search.search("Peskow", about=topic).statements)


def test_date_filter_applies(search):
    from rag.retrieve import Filters

    assert search.search("Putin", filters=Filters(date_from="2025-09-06")).statements == []
    assert search.search("Putin", filters=Filters(date_to="2025-09-05")).statements


def test_suggestions_for_a_misspelt_name(search):
    assert search.search("Putn").speakers == []
    assert "Putin" in search.suggest("Putn")


def test_search_latency_is_well_under_100_ms(search):
    search.search("Peskow", about="warmup")
    times = []
    for name, about in [("Peskow", "NATO troops"), ("Putin", None), ("Selenskyj", "Soldaten")]:
        for _ in range(5):
            t = time.perf_counter()
            search.search(name, about=about)
            times.append(time.perf_counter() - t)
    assert sorted(times)[int(0.95 * len(times)) - 1] < 0.1


# --- in step with incremental ingest (real `python -m ingest` processes) -------------------

LUDWIG_1 = "„Wir bauen bis 2030 zwanzig neue Schulen“"
LUDWIG_2 = "„Wir bauen bis 2032 dreißig neue Schulen“"
KAHR = "„Die Straßenbahn ist ein großer Erfolg“"


def ludwig(folder, quote: str) -> None:
    article_file(
        folder,
        "wien.txt",
        "2025-10-01",
        "Wiens Bürgermeister Michael Ludwig kündigte neue Schulen an.",
        f"{quote}, sagte Ludwig am Montag.",
    )


def kahr(folder) -> None:
    article_file(
        folder,
        "graz.txt",
        "2025-10-02",
        "Die Grazer Bürgermeisterin Elke Kahr zeigte sich zufrieden.",
        f"{KAHR}, sagte Kahr. Sie sagte, die Stadt werde weitere Linien bauen.",
    )


def quotes_json(name: str, env: dict) -> list[dict]:
    proc = Proc(["rag", "quotes", name, "--json"], env)
    assert proc.finish() == 0, proc.stderr
    return json.loads(proc.stdout)["statements"]


def assert_in_step(settings) -> None:
    """The statement index holds exactly the committed versions, each complete."""
    index = Index(settings)
    store = StatementIndex(index)
    committed = {(aid, rec.version) for aid, rec in index.records().items()}
    assert store.versions() == committed
    assert {(r.article_id, r.version) for r in store.rows()} <= committed
    for row in store.rows():
        article = index.get_article(row.article_id)
        assert article.text[row.start : row.end] == row.text


@pytest.mark.slow
def test_ingest_keeps_statements_in_step_with_changed_and_deleted_articles(tmp_path, make_settings):
    folder = tmp_path / "corpus"
    folder.mkdir()
    ludwig(folder, LUDWIG_1)
    kahr(folder)
    settings = make_settings(index_dir=tmp_path / "idx", embedding_model=MINILM_MODEL)
    env = {"RAG_INDEX_DIR": str(settings.index_dir)}
    assert Proc(["ingest", str(folder), "-q"], env).finish() == 0
    assert_in_step(settings)
    assert LUDWIG_1 in [s["text"] for s in quotes_json("Michael Ludwig", env)]
    assert [s["text"] for s in quotes_json("Kahr", env)][0] == KAHR  # text order in an article

    ludwig(folder, LUDWIG_2)  # changed: its statements are replaced
    (folder / "graz.txt").unlink()  # deleted: its statements go
    assert Proc(["ingest", str(folder), "-q"], env).finish() == 0
    assert_in_step(settings)
    texts = [s["text"] for s in quotes_json("Ludwig", env)]
    assert LUDWIG_2 in texts and LUDWIG_1 not in texts
    assert quotes_json("Elke Kahr", env) == []
    assert not [r for r in StatementIndex(Index(settings)).rows() if r.article_id == "graz.txt"]


@pytest.mark.slow
def test_a_killed_ingest_leaves_old_statements_served_and_is_repaired(tmp_path, make_settings):
    folder = tmp_path / "corpus"
    folder.mkdir()
    ludwig(folder, LUDWIG_1)
    settings = make_settings(index_dir=tmp_path / "idx", embedding_model=MINILM_MODEL)
    env = {"RAG_INDEX_DIR": str(settings.index_dir)}
    assert Proc(["ingest", str(folder), "-q"], env).finish() == 0

    ludwig(folder, LUDWIG_2)
    kahr(folder)
    # the new versions' chunks and statements are written, their records are not
    writer = paused_ingest("records", tmp_path / "flags", [str(folder), "-q"], env)
    store = StatementIndex(Index(settings))
    assert LUDWIG_2 in [r.text for r in store.rows()]  # written, not committed
    served = [s["text"] for s in quotes_json("Ludwig", env)]
    assert LUDWIG_1 in served and LUDWIG_2 not in served  # readers see the old version
    assert quotes_json("Kahr", env) == []
    writer.kill()

    assert Proc(["ingest", str(folder), "-q"], env).finish() == 0
    assert_in_step(settings)
    texts = [s["text"] for s in quotes_json("Ludwig", env)]
    assert LUDWIG_2 in texts and LUDWIG_1 not in texts
    assert KAHR in [s["text"] for s in quotes_json("Kahr", env)]


@pytest.mark.slow
def test_an_index_built_before_statements_is_back_filled_by_the_next_ingest(
    tmp_path, make_settings, minilm
):
    folder = tmp_path / "corpus"
    folder.mkdir()
    kahr(folder)
    settings = make_settings(index_dir=tmp_path / "idx", embedding_model=MINILM_MODEL)
    run_ingest([folder], settings, embedder=minilm)
    StatementIndex(Index(settings)).drop()  # as an index from before the feature
    assert StatementIndex(Index(settings)).versions() == set()
    summary = run_ingest([folder], settings, embedder=minilm)
    assert summary.unchanged == 1  # nothing re-embedded for the chunks ...
    assert_in_step(settings)  # ... and the statements are there
    assert StatementIndex(Index(settings)).rows()


@pytest.mark.slow
def test_rebuild_builds_a_new_statement_index_and_drops_the_old_one(
    tmp_path, make_settings, minilm
):
    folder = tmp_path / "corpus"
    folder.mkdir()
    kahr(folder)
    settings = make_settings(index_dir=tmp_path / "idx", embedding_model=MINILM_MODEL)
    run_ingest([folder], settings, embedder=minilm)
    old = StatementIndex(Index(settings)).collection_name
    run_ingest([folder], settings, embedder=minilm, rebuild=True)
    index = Index(settings)
    new = StatementIndex(index).collection_name
    names_now = {c.name for c in index.client.list_collections()}
    assert new != old and new in names_now and old not in names_now
    assert_in_step(settings)
    assert KAHR in [s.text for s in StatementSearch(index, minilm).search("Elke Kahr").statements]


def test_a_full_name_finds_briefly_named_speakers_only_where_the_article_names_them(
    tmp_path, make_settings, minilm
):
    folder = tmp_path / "corpus"
    folder.mkdir()
    article_file(folder, "un.txt", "2015-04-02", "UN-Generalsekretär Ban Ki-moon sprach im "
                 "Parlament. Jedoch bin ich höchst beunruhigt, sagte Ban.")  # fmt: skip
    article_file(folder, "other.txt", "2015-04-03", "Der Musiker Ban trat auf. Es war ein "
                 "schöner Abend, sagte Ban.")  # fmt: skip
    settings = make_settings(index_dir=tmp_path / "idx", embedding_model=MINILM_MODEL)
    run_ingest([folder], settings, embedder=minilm)
    index = Index(settings)

    def ban(text):  # the extractor resolved the speaker to the one word the cue gives
        first = "Jedoch bin ich" if "Jedoch" in text else "Es war ein"
        start = text.find(first)
        end = text.find(", sagte", start)
        return [Statement(start, end, text[start:end], "direct", "sagte", (), "Ban", None,
                          "Ban", kind="person")]  # fmt: skip

    StatementIndex(index, extractor=ban).write(
        [version_of(index.get_article(a), r.version) for a, r in index.records().items()],
        minilm.encode_passages,
    )
    found = StatementSearch(index, minilm).search("Ban Ki-moon").statements
    assert [(s.article_id, s.speaker) for s in found] == [("un.txt", "Ban Ki-moon")]
    assert len(StatementSearch(index, minilm).search("Ban").statements) == 2
