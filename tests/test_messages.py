"""Messages for a user's mistakes say what is wrong in the user's words, with file and
line or the setting that fixes it."""

from __future__ import annotations

import json

import pytest

from ingest.readers import Problem, read_sources
from rag.errors import UserError
from rag.schema import Article


def test_a_file_at_the_index_path_is_called_a_file_not_a_folder(tmp_path, make_settings):
    from rag.store import StoreError, connect

    path = tmp_path / "index"
    path.write_text("not an index")
    with pytest.raises(StoreError) as caught:
        connect(make_settings(index_dir=path))
    message = str(caught.value)
    assert "is a file, not a folder" in message and "RAG_INDEX_DIR" in message
    assert str(path) in message
    assert "File exists" not in message


@pytest.mark.parametrize(
    ("since", "until", "words"),
    [("2025-09-10", "2025-09-01", "after"), ("5.9.2025", None, "not a date")],
)
def test_date_filter_errors_use_the_options_names(since, until, words):
    from rag.retrieve import Filters

    with pytest.raises(UserError) as caught:
        Filters(date_from=since, date_to=until)
    message = str(caught.value)
    assert words in message and "--since" in message
    assert "date_from" not in message and "date_to" not in message


@pytest.mark.parametrize(
    ("date", "kind"),
    [({"year": 2025, "month": 9}, "an object"), (True, "true"), ([{}], "a list")],
)
def test_a_date_that_is_not_a_date_is_reported_with_file_and_line(tmp_path, date, kind):
    rows = [
        {"id": "a", "text": "Erster Artikel über die Brücke.", "date": "2025-09-05"},
        {"id": "b", "text": "Zweiter Artikel über die Brücke.", "date": date},
    ]
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    items = list(read_sources([path]))
    articles = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, Problem)]
    assert [a.date for a in articles] == ["2025-09-05", None]  # kept, without a date
    [problem] = problems
    assert not problem.skipped and problem.line == 2
    assert str(problem).startswith(f"{path}:2: ") or str(problem).startswith("articles.jsonl:2")
    assert "date" in problem.reason and kind in problem.reason


def test_a_mongo_style_date_object_is_read(tmp_path):
    path = tmp_path / "articles.json"
    record = {"_id": "a", "text": "Ein Artikel.", "date": {"$date": "2025-09-05T10:00:00Z"}}
    path.write_text(json.dumps([record]), encoding="utf-8")
    items = list(read_sources([path]))
    assert [i.date for i in items if isinstance(i, Article)] == ["2025-09-05"]
    assert not [i for i in items if isinstance(i, Problem)]
