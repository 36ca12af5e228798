"""Corpus readers: every supported format, and every kind of bad input as a Problem."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest

from ingest.clean import clean_text
from ingest.readers import (
    SUPPORTED_SUFFIXES,
    Problem,
    ReadOptions,
    iter_files,
    read_file,
    read_sources,
    walk,
)
from rag.schema import Article

FIXTURES = Path(__file__).parent / "data" / "readers"
SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "000_5949ef0a0ed3a1cb.txt"
DEFAULT = ReadOptions()
GNAD_OPTIONS = ReadOptions(csv_columns=("label", "text"), csv_delimiter=";", csv_quotechar="'")


def read(path: Path, options: ReadOptions = DEFAULT) -> tuple[list[Article], list[Problem]]:
    """Everything read_sources yields for `path`, split into articles and problems."""
    items = list(read_sources([path], options))
    return (
        [i for i in items if isinstance(i, Article)],
        [i for i in items if isinstance(i, Problem)],
    )


def only_article(path: Path, options: ReadOptions = DEFAULT) -> Article:
    articles, problems = read(path, options)
    assert len(articles) == 1 and not problems, problems
    return articles[0]


def the_problem(path: Path, options: ReadOptions = DEFAULT) -> Problem:
    articles, problems = read(path, options)
    assert not articles and len(problems) == 1, (articles, problems)
    return problems[0]


# --- the newsroom's own format -------------------------------------------------------


def test_sample_article_has_its_date_and_fourteen_paragraphs():
    article = only_article(SAMPLE)
    assert article.id == SAMPLE.name
    assert article.date == "2025-09-05"
    assert article.path == str(SAMPLE.resolve())
    paragraphs = article.text.split("\n\n")
    # 13 `<BR \/><BR \/>` pairs in the file separate 14 paragraphs
    assert SAMPLE.read_text(encoding="utf-8").count("<BR \\/><BR \\/>") == 13
    assert len(paragraphs) == 14
    assert paragraphs[0].startswith("Putin hob hervor, dass eine Entsendung")
    assert paragraphs[-1].endswith("zu einer Stärkung der ukrainischen Luftabwehr.")
    assert "<" not in article.text and "\\/" not in article.text and "date 2025" not in article.text


def test_sample_article_keeps_typographic_quotes_exactly():
    text = only_article(SAMPLE).text
    assert "„Das ist gefährlich für unser Land“, betonte Peskow." in text
    assert "„Koalition der Willigen“" in text


def test_article_without_title_gets_its_first_sentence_as_title():
    assert only_article(SAMPLE).title == (
        "Putin hob hervor, dass eine Entsendung von Soldaten aus dem Westen nicht förderlich "
        "für einen langfristigen Frieden sei"
    )


@pytest.mark.parametrize(
    "content",
    [
        " date 2025-09-05 Eins.<BR \\/><BR \\/>Zwei.",
        "date 2025-09-05 Eins.<br><br>Zwei.",
        "\n\tdate 2025-09-05 Eins.<br/>Zwei.",
        "date 2025-09-05 Eins.<BR />Zwei.",
        "date: 2025-09-05\nEins.\n\nZwei.",
        "Date 05.09.2025 Eins.<br /><br />Zwei.",
    ],
)
def test_export_format_variants_give_date_and_paragraphs(tmp_path, content):
    path = tmp_path / "a.txt"
    path.write_text(content, encoding="utf-8")
    article = only_article(path)
    assert (article.date, article.text) == ("2025-09-05", "Eins.\n\nZwei.")


def test_plain_text_without_date_line_is_plain_text(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Das Datum steht hier nicht.\n\nZweiter Absatz.", encoding="utf-8")
    article = only_article(path)
    assert (article.date, article.text) == (None, "Das Datum steht hier nicht.\n\nZweiter Absatz.")


def test_unparseable_date_is_a_warning_and_the_article_is_still_read(tmp_path):
    path = tmp_path / "bad-date.txt"
    path.write_text(" date 2025-13-45 Ein Artikel mit kaputtem Datum.", encoding="utf-8")
    articles, problems = read(path)
    assert [a.text for a in articles] == ["Ein Artikel mit kaputtem Datum."]
    assert articles[0].date is None
    assert [(p.skipped, p.reason) for p in problems] == [(False, "unparseable date '2025-13-45'")]


# --- ids and walking -----------------------------------------------------------------


def test_ids_are_paths_relative_to_the_folder_given(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Eins.", encoding="utf-8")
    (tmp_path / "sub" / "x.md").write_text("# Titel\n\nZwei.", encoding="utf-8")
    assert [a.id for a in read(tmp_path)[0]] == ["a.txt", "sub/x.md"]
    assert [a.id for a in read(tmp_path / "sub")[0]] == ["x.md"]
    assert [a.id for a in read(tmp_path / "sub" / "x.md")[0]] == ["x.md"]


def test_iter_files_walks_sorted_skips_hidden_and_reads_a_file_given_twice_once(tmp_path):
    for name in ["b.txt", "a.txt", ".hidden.txt", ".git/config.txt", "c/d.txt", "c/.e.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = list(iter_files([tmp_path, tmp_path / "a.txt"]))
    assert [(root, f.relative_to(tmp_path).as_posix()) for root, f in found] == [
        (tmp_path, "a.txt"),
        (tmp_path, "b.txt"),
        (tmp_path, "c/d.txt"),
    ]
    single = tmp_path / "c" / "d.txt"
    assert list(iter_files([single])) == [(single.parent, single)]


def test_missing_path_is_a_problem_not_an_exception(tmp_path):
    problem = the_problem(tmp_path / "nicht-da")
    assert problem.reason == "no such file or folder" and problem.skipped
    assert list(iter_files([tmp_path / "nicht-da"])) == []


def test_symlink_loops_and_broken_links_are_problems(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "sub" / "back").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["sub/a.txt"]
    reasons = sorted((Path(p.path).name, p.reason) for p in problems)
    assert reasons == [
        ("back", "symlink loop (links back to a parent folder); skipped"),
        ("dangling.txt", "broken symbolic link or symlink loop"),
        ("self.txt", "broken symbolic link or symlink loop"),
    ]


def test_folder_named_like_a_file_is_walked_and_refused_as_a_file(tmp_path):
    (tmp_path / "x.txt").mkdir()
    (tmp_path / "x.txt" / "y.txt").write_text("Drinnen.", encoding="utf-8")
    assert [a.id for a in read(tmp_path)[0]] == ["x.txt/y.txt"]
    problems = list(read_file(tmp_path / "x.txt", tmp_path, ReadOptions()))
    assert [p.reason for p in problems] == ["is a folder, not a file"]


def test_unlistable_folder_is_a_problem(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    original = Path.iterdir

    def iterdir(self):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    problem = the_problem(tmp_path)
    assert (Path(problem.path).name, problem.reason) == (
        "locked",
        "cannot list folder: Permission denied",
    )
    assert next(walk([tmp_path])) == problem


def test_unreadable_file_is_a_problem(tmp_path, monkeypatch):
    path = tmp_path / "geheim.txt"
    path.write_text("Text.", encoding="utf-8")
    original = Path.read_bytes

    def read_bytes(self):
        if self.name == "geheim.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert the_problem(path).reason == "cannot read: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_file_without_read_permission_is_a_problem(tmp_path):
    path = tmp_path / "geheim.txt"
    path.write_text("Text.", encoding="utf-8")
    path.chmod(0)
    try:
        assert the_problem(path).reason == "cannot read: Permission denied"
    finally:
        path.chmod(0o644)


# --- every format from its fixture ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "articles.jsonl",
            {
                "articles.jsonl:apa-001": ("Waffenruhe in Sicht?", "2025-09-05", "APA"),
                "articles.jsonl:apa-002": ("Kreml lehnt Truppen ab", "2025-09-05", "APA"),
                "articles.jsonl:4": ("Ohne eigene ID", "2025-09-05", ""),
                "articles.jsonl:apa-005": ("Unbekanntes Datum", None, ""),
            },
        ),
        (
            "articles.json",
            {
                "articles.json:17": ("Graz eröffnet Straßenbahnlinie", "2025-09-06",
                                     "Kleine Zeitung"),
                "articles.json:18": ("Linz plant Stadtbahn", "2025-09-07", ""),
            },
        ),
        (
            "feed.json",
            {
                "feed.json:1": ("Budget: Regierung einigt sich auf Sparpaket", "2025-09-08",
                                "Der Standard"),
                "feed.json:2": ("Nur ein Teaser", "2025-09-08", "Die Presse"),
            },
        ),
        (
            "article.md",
            {"article.md": ("Putin lehnt westliche Truppen ab", "2025-09-05", "Redaktion Wien")},
        ),
        (
            "news_page.html",
            {"news_page.html": ("Selenskyj fordert mehr Luftabwehr", "2025-09-06",
                                "Wiener Tagblatt")},
        ),
        (
            "with_header.csv",
            {
                "with_header.csv:k-1": ("Neue Brücke in Linz", "2025-09-01", "OÖN"),
                "with_header.csv:k-2": ("Regen, Sturm und Hagel", "2025-09-02", "ORF"),
            },
        ),
        (
            "gnad_style.csv",
            {
                "gnad_style.csv:1": ('Die Gewerkschaft lanciert den "All-in-Rechner"', None, ""),
                "gnad_style.csv:2": ("Franzosen verteidigen 2:1-Führung – Kritische Stimmen "
                                     "zu Schwedens Superstar", None, ""),
                "gnad_style.csv:3": ("Der Minister sagte, man werde die 'Reform' prüfen", None, ""),
                "gnad_style.csv:4": ("Neues Video von Designern macht im Netz die Runde", None, ""),
            },
        ),
    ],
)  # fmt: skip
def test_each_format_gives_ids_titles_dates_and_sources(name, expected):
    articles, _ = read(FIXTURES / name)
    assert {a.id: (a.title, a.date, a.source) for a in articles} == expected
    assert all(a.path == str((FIXTURES / name).resolve()) for a in articles)
    assert all(a.text and a.text == clean_text(a.text) for a in articles)


def test_fixtures_cover_every_supported_suffix_family():
    suffixes = {p.suffix for p in FIXTURES.iterdir()} | {".txt"}
    assert {".jsonl", ".json", ".md", ".html", ".csv"} <= suffixes <= SUPPORTED_SUFFIXES


def test_malformed_json_line_is_reported_with_its_line_and_the_rest_is_read():
    articles, problems = read(FIXTURES / "articles.jsonl")
    assert len(articles) == 4
    skipped = [p for p in problems if p.skipped]
    assert [(p.line, p.reason.split(":")[0]) for p in skipped] == [(3, "malformed JSON")]
    assert "Expecting ',' delimiter" in skipped[0].reason
    warnings = [(p.line, p.reason) for p in problems if not p.skipped]
    assert warnings == [(6, "unparseable date 'irgendwann im Herbst'")]


def test_html_in_record_text_becomes_paragraphs():
    articles, _ = read(FIXTURES / "articles.jsonl")
    by_id = {a.id: a for a in articles}
    assert by_id["articles.jsonl:apa-001"].text == (
        "Die Gespräche in Genf gehen weiter.\n\n"
        "„Wir sind vorsichtig optimistisch“, sagte ein Diplomat."
    )
    assert by_id["articles.jsonl:apa-002"].text == (
        "Moskau lehnt ausländische Truppen in der Ukraine ab.\n\nDas sagte Kreml-Sprecher Peskow."
    )
    assert by_id["articles.jsonl:apa-001"].url == "https://example.org/apa-001"


def test_json_feed_takes_source_names_and_puts_the_teaser_first():
    articles, problems = read(FIXTURES / "feed.json")
    assert not problems
    assert articles[0].text == (
        "Die Koalition hat sich nach langen Verhandlungen geeinigt.\n\n"
        "Wien – Die Regierung hat sich auf ein Sparpaket geeinigt. "
        "Betroffen sind vor allem Förderungen."
    )
    assert articles[1].text == "Dieser Eintrag hat nur eine Kurzfassung und keinen Volltext."
    assert articles[0].url == "https://example.org/budget"


def test_markdown_is_stripped_to_faithful_text():
    article = only_article(FIXTURES / "article.md")
    assert article.text == (
        "Kremlchef Wladimir Putin hat eine Entsendung westlicher Soldaten in die Ukraine als "
        "nicht förderlich für einen langfristigen Frieden bezeichnet.\n\n"
        "Reaktionen\n\n"
        "„Das ist gefährlich für unser Land“, betonte Kreml-Sprecher Dmitri Peskow.\n\n"
        "Die wichtigsten Punkte:\n\n"
        "26 Länder sind zu einem Einsatz bereit\n\n"
        "Österreich hat Beobachterstatus"
    )


def test_html_page_gives_article_text_without_navigation_or_footer():
    article = only_article(FIXTURES / "news_page.html")
    assert article.url == "https://www.wiener-tagblatt.example/international/selenskyj-luftabwehr"
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("Der ukrainische Präsident Wolodymyr Selenskyj hat")
    assert (
        "„Jede Nacht greifen Drohnen unsere Städte an“, sagte er am Samstag in Kiew."
        in article.text
    )
    assert "humanitäre Hilfe & Unterstützung beim Wiederaufbau." in article.text
    for chrome in ["Startseite", "Meistgelesen", "Impressum", "dataLayer", "font-family"]:
        assert chrome not in article.text


def test_html_page_without_article_text_is_a_problem(tmp_path):
    path = tmp_path / "leer.html"
    path.write_text("<html><head><title>Nichts</title></head><body></body></html>", "utf-8")
    assert the_problem(path).reason.startswith("no article text found in this HTML page")


def test_csv_with_header_maps_columns_and_keeps_quoted_paragraphs():
    articles, problems = read(FIXTURES / "with_header.csv")
    assert not problems
    assert (
        articles[1].text
        == "Ein Unwetter zog über die Steiermark.\n\nDie Feuerwehr rückte 200-mal aus."
    )


def test_headerless_csv_with_column_names_ignores_the_label_and_undoubles_quotes():
    articles, problems = read(FIXTURES / "gnad_style.csv", GNAD_OPTIONS)
    assert not problems
    assert [a.id for a in articles] == [f"gnad_style.csv:{n}" for n in range(1, 5)]
    assert articles[0].text.endswith("Handlungsbedarf; sie will Transparenz.")
    assert "'Reform'" in articles[2].text
    assert not any(a.text.startswith(("Wirtschaft", "Sport", "Inland", "Web")) for a in articles)


def test_headerless_csv_without_column_names_is_sniffed_with_a_warning():
    guessed, problems = read(FIXTURES / "gnad_style.csv")
    given, _ = read(FIXTURES / "gnad_style.csv", GNAD_OPTIONS)
    assert guessed == given
    assert [(p.skipped, p.reason.split(";")[0]) for p in problems] == [
        (False, "no header row and no column names given")
    ]
    assert "column 2 of 2" in problems[0].reason


def test_default_source_fills_records_that_name_none(tmp_path):
    articles, _ = read(FIXTURES / "articles.json", ReadOptions(default_source="Archiv"))
    assert [a.source for a in articles] == ["Kleine Zeitung", "Archiv"]
    assert only_article(SAMPLE, ReadOptions(default_source="Archiv")).source == "Archiv"


# --- records: edge cases -------------------------------------------------------------


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "ids", "reasons"),
    [
        ("plain.json", '{"title": "Eins", "text": "Ein einzelner Artikel."}', ["plain.json"], []),
        (
            "lines.json",  # JSON Lines saved as .json
            '{"text": "Erster."}\n{"text": "Zweiter."}\n',
            ["lines.json:1", "lines.json:2"],
            [],
        ),
        ("strings.json", '["Nur Text.", "Noch ein Text."]', ["strings.json:1", "strings.json:2"],
         []),
        (
            "nested.json",
            '{"response": {"docs": [{"_id": "a1", "fields": {"bodyText": "Tief."}}]}}',
            ["nested.json:a1"],
            [],
        ),
        (
            "notext.json",
            '[{"id": 1, "label": "Sport"}, {"id": 2, "text": "Hat Text."}]',
            ["notext.json:2"],
            ["record has no text field (looked for text, body, content, article, fulltext, …; "
             "fields: id, label)"],
        ),
        (
            "dupes.jsonl",
            '{"id": "x", "text": "Eins."}\n{"id": "x", "text": "Zwei."}\n',
            ["dupes.jsonl:x"],
            ["duplicate id 'dupes.jsonl:x' (first at 1); record skipped"],
        ),
        (
            "mixed.jsonl",
            '{"text": "Gut."}\n42\n{"text": "   "}\n',
            ["mixed.jsonl:1"],
            ["record 2 is a int, not an object; skipped", "empty article (no text after cleaning)"],
        ),
        ("scalar.json", "42", [], ["no articles found"]),
        ("meta.json", '{"status": "ok", "count": 0}', [], ["no articles found"]),
        ("broken.json", '[{"text": "a"},\n {"text": }]', [],
         ["malformed JSON: Expecting value (line 2, column 11)"]),
    ],
)  # fmt: skip
def test_json_shapes_and_record_problems(tmp_path, name, content, ids, reasons):
    articles, problems = read(write(tmp_path / name, content))
    assert [a.id for a in articles] == ids
    assert [p.reason[: len(r)] for p, r in zip(problems, reasons, strict=False)] == reasons
    assert len(problems) == len(reasons) and all(p.skipped for p in problems)


@pytest.mark.parametrize(
    ("name", "content", "options", "texts", "reasons"),
    [
        (
            "tabs.tsv",
            "title\ttext\nEins\tErster Text.\nZwei\tZweiter Text.\n",
            ReadOptions(),
            ["Erster Text.", "Zweiter Text."],
            [],
        ),
        (
            "pipes.csv",
            "titel|inhalt|datum\nA|Text A.|2025-01-02\nB|Text B.|2025-01-03\n",
            ReadOptions(),
            ["Text A.", "Text B."],
            [],
        ),
        (
            "width.csv",
            'id,text\n1,"Gut."\n2,"Zu",viele,Felder\n3,"Auch gut."\n',
            ReadOptions(),
            ["Gut.", "Auch gut."],
            ["row has 4 fields, expected 2"],
        ),
        (
            "noname.csv",
            "kategorie,beschreibung\nSport,Ein langer Text über Fußball in Wien.\n"
            "Kultur,Ein langer Text über die Oper in Graz.\n",
            ReadOptions(),
            ["Ein langer Text über Fußball in Wien.", "Ein langer Text über die Oper in Graz."],
            ["no text column in the header"],
        ),
        (
            "named.csv",  # the header repeats the names given: it is skipped, not read as data
            "label;text\nSport;Ein Text.\n",
            ReadOptions(csv_columns=("label", "text")),
            ["Ein Text."],
            [],
        ),
        (
            "long.csv",
            "text\nKurz.\n" + "x" * 200 + "\nAuch kurz.\n",
            ReadOptions(max_article_chars=100),
            ["Kurz.", "Auch kurz."],
            ["article has 200 characters, over the 100 limit"],
        ),
    ],
)
def test_csv_dialects_headers_and_bad_rows(tmp_path, name, content, options, texts, reasons):
    articles, problems = read(write(tmp_path / name, content), options)
    assert [a.text for a in articles] == texts
    assert [p.reason[: len(r)] for p, r in zip(problems, reasons, strict=False)] == reasons
    assert len(problems) == len(reasons)


def test_csv_problems_name_the_line(tmp_path):
    path = write(tmp_path / "lines.csv", 'id,text\n1,"Zwei\n\nZeilen."\n2,"x",y\n')
    problems = read(path)[1]
    assert [(p.line, p.skipped) for p in problems] == [(5, True)]


def test_json_lines_are_streamed_record_by_record(tmp_path):
    """The first article arrives while the writer still holds the rest: nothing waits for EOF."""
    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    first_read = threading.Event()

    def writer():
        with fifo.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps({"text": "Erster Artikel."}) + "\n")
            fh.flush()
            first_read.wait(timeout=10)
            fh.write(json.dumps({"text": "Zweiter Artikel."}) + "\n")

    thread = threading.Thread(target=writer)
    thread.start()
    items = read_file(fifo, tmp_path, ReadOptions())
    assert next(items).text == "Erster Artikel."
    first_read.set()
    assert [a.text for a in items] == ["Zweiter Artikel."]
    thread.join(timeout=10)


def test_overlong_json_line_is_skipped_without_holding_it(tmp_path):
    long_line = json.dumps({"text": "x" * 5000})
    path = write(
        tmp_path / "long.jsonl", f'{{"text": "Eins."}}\n{long_line}\n{{"text": "Drei."}}\n'
    )
    articles, problems = read(path, ReadOptions(max_article_chars=1000))
    assert [a.id for a in articles] == ["long.jsonl:1", "long.jsonl:3"]
    assert [(p.line, p.reason) for p in problems] == [
        (2, "line longer than 4,000 characters; skipped")
    ]


# --- bad input -----------------------------------------------------------------------

CP1252_TEXT = "Österreichs Außenministerin: „Das ist gefährlich“ – sagte sie in Wien."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bild.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
        ("bild.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "unknown file type .png"),
        ("kaputt.txt", b"Text\x00\x00\x01\x02mit NUL", "binary file (contains NUL bytes)"),
        ("kaputt.jsonl", b'{"text": "a"}\n\x00\x00\x00', "binary file (contains NUL bytes)"),
        ("kaputt.csv", b"text\n\x00\x00", "binary file (contains NUL bytes)"),
        ("leer.txt", b"", "empty file"),
        ("leer.md", b"", "empty file"),
        ("leer.html", b"", "empty file"),
        ("leer.json", b"", "empty file"),
        ("leer.csv", b"", "empty file"),
        ("leer-raum.txt", b"  \n\t\r\n  \n", "empty article (no text after cleaning)"),
        (
            "nur-datum.txt",
            b" date 2025-09-05 <BR \\/><BR \\/>",
            "empty article (no text after cleaning)",
        ),
        ("nur-tags.md", b"# \n\n<div></div>\n", "empty article (no text after cleaning)"),
        (
            "brief.docx",
            b"PK\x03\x04",
            "unknown file type .docx (supported: .csv .htm .html .json .jsonl",
        ),
        ("LIESMICH", b"Hallo", "unknown file type (no extension)"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path, name, content, reason):
    problem = the_problem(write(tmp_path / name, content))
    assert problem.reason.startswith(reason) and problem.skipped
    assert problem.path == str(tmp_path / name)


def test_binary_problem_says_how_to_fix_utf16_without_bom(tmp_path):
    path = write(tmp_path / "utf16.txt", "Text ohne BOM".encode("utf-16-le"))
    assert "save it as UTF-8" in the_problem(path).reason


def test_huge_article_file_is_skipped_before_reading(tmp_path):
    path = write(tmp_path / "riesig.txt", "Wort " * 1000)
    problem = the_problem(path, ReadOptions(max_article_chars=1000))
    assert problem.reason.startswith("file has 5,000 bytes, over the 4,000-byte limit")


def test_article_over_the_character_limit_after_cleaning_is_skipped(tmp_path):
    path = write(tmp_path / "lang.txt", "<b>Wort</b> " * 100)  # 1,200 bytes, 499 characters clean
    problem = the_problem(path, ReadOptions(max_article_chars=400))
    assert problem.reason.startswith("article has 499 characters, over the 400 limit")


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("cp1252.txt", lambda t: t.encode("cp1252")),
        ("cp1252.md", lambda t: t.encode("cp1252")),
        ("cp1252.json", lambda t: json.dumps({"text": t}, ensure_ascii=False).encode("cp1252")),
        ("cp1252.html", lambda t: f"<html><body><p>{t}</p></body></html>".encode("cp1252")),
    ],
)  # fmt: skip
def test_cp1252_file_is_read_with_a_warning(tmp_path, name, encode):
    articles, problems = read(write(tmp_path / name, encode(CP1252_TEXT)))
    assert [a.text for a in articles] == [CP1252_TEXT]
    assert [(p.reason, p.skipped) for p in problems] == [("not valid UTF-8; read as cp1252", False)]


@pytest.mark.parametrize("name", ["cp1252.jsonl", "cp1252.csv"])
def test_cp1252_lines_in_streamed_files_are_read_with_a_warning_naming_the_line(tmp_path, name):
    header = b"text\n" if name.endswith(".csv") else b""
    record = (
        (CP1252_TEXT + "\n").encode("cp1252")
        if name.endswith(".csv")
        else (json.dumps({"text": CP1252_TEXT}, ensure_ascii=False) + "\n").encode("cp1252")
    )
    good = "Grüße aus Graz.\n" if name.endswith(".csv") else '{"text": "Grüße aus Graz."}\n'
    articles, problems = read(write(tmp_path / name, header + good.encode() + record))
    assert [a.text for a in articles] == ["Grüße aus Graz.", CP1252_TEXT]
    line = 3 if name.endswith(".csv") else 2
    assert [(p.line, p.skipped) for p in problems] == [(line, False)]
    assert problems[0].reason.endswith("read as cp1252")


def test_cyrillic_legacy_code_page_is_recognised(tmp_path):
    text = (
        "Президент Украины Владимир Зеленский призвал союзников усилить противовоздушную оборону."
    )
    articles, problems = read(write(tmp_path / "ru.txt", text.encode("cp1251")))
    assert [a.text for a in articles] == [text]
    assert problems[0].reason == "not valid UTF-8; read as cp1251"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.txt", "\ufeff date 2025-09-05 Grüße.<BR \\/>Zwei.".encode()),
        ("utf16le.txt", " date 2025-09-05 Grüße.<BR \\/>Zwei.".encode("utf-16")),
        ("utf16be.txt", b"\xfe\xff" + " date 2025-09-05 Grüße.<BR \\/>Zwei.".encode("utf-16-be")),
        ("bom.jsonl", '\ufeff{"date": "2025-09-05", "text": "Grüße.<br>Zwei."}\n'.encode()),
        ("utf16.jsonl", '{"date": "2025-09-05", "text": "Grüße.<br>Zwei."}\n'.encode("utf-16")),
        ("bom.json", '\ufeff{"date": "2025-09-05", "text": "Grüße.<br>Zwei."}'.encode()),
        ("utf16.csv", "date,text\n2025-09-05,Grüße.<br>Zwei.\n".encode("utf-16")),
        ("bom.csv", "\ufeffdate;text\r\n2025-09-05;Grüße.<br>Zwei.\r\n".encode()),
    ],
)
def test_unicode_with_byte_order_mark_reads_cleanly(tmp_path, name, data):
    article = only_article(write(tmp_path / name, data))
    assert (article.date, article.text) == ("2025-09-05", "Grüße.\n\nZwei.")


def test_folder_of_every_bad_input_never_raises(tmp_path):
    write(tmp_path / "bin.txt", b"\x00\x01")
    write(tmp_path / "empty.json", b"")
    write(tmp_path / "x.docx", b"PK")
    write(tmp_path / "bad.jsonl", b"{{{\n")
    write(tmp_path / "bad.csv", b'"unterminated\n')
    write(tmp_path / "bad.html", b"<<<>>>")
    write(tmp_path / "ok.txt", b"Ein gutes Dokument.")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["ok.txt"]
    assert {Path(p.path).name for p in problems} >= {
        "bin.txt", "empty.json", "x.docx", "bad.jsonl", "bad.html", "loop"
    }  # fmt: skip


def test_problem_reads_as_one_line_with_place():
    assert str(Problem("a/b.jsonl", 3, "malformed JSON")) == "a/b.jsonl:3: malformed JSON"
    assert str(Problem("a.txt", None, "unparseable date '?'", skipped=False)) == (
        "a.txt: unparseable date '?' (warning)"
    )


# --- the real 10kGNAD test split -----------------------------------------------------


@pytest.fixture(scope="module")
def gnad_csv(data_dir) -> Path:
    path = data_dir / "10kGNAD" / "test.csv"
    if not path.is_file():
        pytest.skip(f"10kGNAD test split not found at {path}")
    return path


def test_10kgnad_test_split_reads_all_1028_articles_with_unique_ids(gnad_csv):
    articles, problems = read(gnad_csv, GNAD_OPTIONS)
    assert not problems
    assert len(articles) == 1028
    assert len({a.id for a in articles}) == 1028
    assert articles[0].id == "test.csv:1" and articles[-1].id == "test.csv:1028"
    with gnad_csv.open(encoding="utf-8", newline="") as fh:
        reference = [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'")]
    assert [a.text for a in articles] == [clean_text(t) for t in reference]


def test_10kgnad_dialect_is_sniffed_without_options(gnad_csv):
    articles, problems = read(gnad_csv)
    assert len(articles) == 1028
    assert [p.skipped for p in problems] == [False]  # only the "no header" warning
    assert articles[0].text.startswith("Die Gewerkschaft GPA-djp lanciert den")


def test_csv_row_too_large_is_skipped_and_later_rows_keep_their_numbers(tmp_path):
    path = write(tmp_path / "big.csv", "text\nEins.\n" + "y" * 300_000 + "\nDrei.\n")
    articles, problems = read(path, ReadOptions(max_article_chars=10_000))
    assert [(a.id, a.text) for a in articles] == [("big.csv:1", "Eins."), ("big.csv:3", "Drei.")]
    assert [(p.line, p.skipped) for p in problems] == [(3, True)]
    assert problems[0].reason.startswith("a field is longer than")


def test_html_page_labelled_latin1_is_read_as_windows_1252_like_browsers_do(tmp_path):
    page = (
        '<html><head><meta charset="iso-8859-1"></head>'
        f"<body><article><p>{CP1252_TEXT}</p></article></body></html>"
    )
    article = only_article(write(tmp_path / "latin1.html", page.encode("cp1252")))
    assert article.text == CP1252_TEXT


def test_real_path_resolves_links_and_leaves_a_symlink_loop_as_it_is(tmp_path):
    from ingest.readers import real_path

    (tmp_path / "target.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    assert real_path(tmp_path / "link.txt") == (tmp_path / "target.txt").resolve()
    assert real_path(tmp_path / "loop.txt") == tmp_path.resolve() / "loop.txt"


@pytest.mark.parametrize(
    "name",
    [
        b"plain.txt",
        "ünicode-€.txt".encode(),
        b"\xff\xfe.txt",
        b"latin-\xe4\xfc.txt",
        b"\\xff.txt",  # a UTF-8 name that looks like an escape
        b"\\\\xff.txt",
        b"\\\xff.txt",  # a real backslash, then an undecodable byte
        b"\xff\\x41\\",
        b"back\\slash\\",
    ],
)
def test_escaped_file_names_are_utf8_and_reversible(name):
    from ingest.readers import escape_name, unescape_name

    decoded = os.fsdecode(name)
    escaped = escape_name(decoded)
    escaped.encode("utf-8")  # storable and printable
    assert unescape_name(escaped) == decoded
    if b"\\x" not in name and name.decode("utf-8", "replace") == name.decode("utf-8", "ignore"):
        assert escaped == decoded  # UTF-8 names keep their ids


def test_names_that_are_not_utf8_give_escaped_ids_paths_and_problems(tmp_path):
    (tmp_path / os.fsdecode(b"gut-\xff.txt")).write_text("Ein Text.", encoding="utf-8")
    (tmp_path / os.fsdecode(b"leer-\xfe.txt")).write_bytes(b"")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["gut-\\xff.txt"]
    assert articles[0].path == str(tmp_path.resolve() / "gut-\\xff.txt")
    assert [Path(p.path).name for p in problems] == ["leer-\\xfe.txt"]
