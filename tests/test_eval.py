"""`python -m rag eval` (the evaluation package): metric arithmetic, distractors read by
ingest's readers, input errors, and a run on a tiny XQuAD subset."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation import metrics as ev
from evaluation.data import XQUAD_FILES, load_distractors
from rag.errors import UserError
from rag.schema import Passage

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _p(article_id: str) -> Passage:
    return Passage(f"{article_id}#0", article_id, "", 0, 0)


@pytest.mark.parametrize(
    "ranked, gold, expected",
    [
        (["a", "b", "c"], "a", 1),
        (["a", "b", "c"], "c", 3),
        (["a", "b", "b"], "b", 2),
        (["a", "b"], "z", None),
        ([], "a", None),
    ],
)
def test_rank_of_gold_is_the_first_passage_of_the_gold_article(ranked, gold, expected):
    assert ev.rank_of_gold([_p(a) for a in ranked], gold) == expected


def test_score_run_counts_recall_and_mrr():
    m = ev.score_run([1, 2, 6, None, 11], [10.0, 20.0, 30.0, 40.0, 50.0])
    assert m.recall == {1: 0.2, 5: 0.4, 10: 0.6}
    assert m.mrr10 == pytest.approx((1 + 1 / 2 + 1 / 6) / 5)
    assert m.p95_ms == 50.0


def test_score_run_of_no_questions_is_zero():
    m = ev.score_run([], [])
    assert m.recall == {1: 0.0, 5: 0.0, 10: 0.0} and m.mrr10 == 0.0 and m.p95_ms == 0.0


@pytest.mark.parametrize(
    "answer, gold, hit",
    [
        ("Die Verteidigung gab nur 308 Punkte ab.", ["308"], True),
        ("Die  Denver\nBroncos gewannen.", ["Denver Broncos"], True),
        ("die denver broncos", ["Denver Broncos"], True),
        ("Die Panthers verloren.", ["Denver Broncos"], False),
        ("", ["308"], False),
        ("irgendwas", ["", "  "], False),
    ],
)
def test_answer_hit_ignores_case_and_spacing(answer, gold, hit):
    assert ev.answer_contains(answer, gold) is hit


def _answered(*sources: str) -> ev.Answered:
    return ev.Answered(" ".join(sources), tuple(sources))


def test_citation_precision_counts_cited_articles_that_hold_the_answer():
    right = "Die Broncos gewannen mit 24:10 Punkten."
    wrong = "Ein Virus breitet sich in Südindien aus."
    pairs = [
        (_answered(right), ["24:10"]),  # 1 of 1
        (_answered(right, wrong, wrong), ["24:10"]),  # 1 of 3: padding costs precision
        (_answered(wrong), ["24:10"]),  # 0 of 1
        (ev.Answered("Die Quellen enthalten keine Antwort."), ["24:10"]),  # cites nothing
    ]
    assert ev.citation_precision(pairs) == pytest.approx(2 / 5)
    assert ev.sources_per_answer(a for a, _ in pairs) == pytest.approx(5 / 3)


def test_the_answer_can_sit_in_the_source_card_rather_than_the_quote():
    card = "Die Gruppe trat in Leipzig auf. Die Stimme sank um eine halbe Oktave."
    answered = ev.Answered("Die Gruppe trat in Leipzig auf.", (card,))
    assert ev.citation_precision([(answered, ["halbe Oktave"])]) == 1.0
    assert not ev.answer_contains(answered.text, ["halbe Oktave"])


def test_citation_precision_of_answers_citing_nothing_is_none():
    assert ev.citation_precision([(ev.Answered("nichts"), ["x"])]) is None
    assert ev.sources_per_answer([ev.Answered("nichts")]) is None


def test_run_questions_scores_hits_and_precision_per_question():
    from evaluation.data import Question

    questions = [
        Question("q1", "a", {"de": "Wer?", "en": "Who?"}, {"de": ("Broncos",), "en": ("Broncos",)}),
        Question(
            "q2", "b", {"de": "Wo?", "en": "Where?"}, {"de": ("Leipzig",), "en": ("Leipzig",)}
        ),
    ]
    shown = {
        "Who?": _answered("Die Broncos gewannen.", "Ein Virus."),
        "Where?": _answered("In Leipzig."),
    }
    m = ev.run_questions(
        lambda q: None,
        lambda q, query_vector: [_p("a")],
        questions,
        "en",
        lambda q, passages: shown[q],
    )
    assert m.answer_hit == 1.0
    assert m.citation_precision == pytest.approx(2 / 3)
    assert m.sources_per_answer == pytest.approx(1.5)
    payload = m.as_dict(with_answer=True)
    assert payload["citation_precision"] == pytest.approx(0.6667)
    assert "citation_precision" not in m.as_dict(with_answer=False)


def _rag(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_missing_xquad_folder_exits_2_with_a_message(tmp_path):
    done = _rag("eval", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "xquad.de.json" in done.stderr and "Traceback" not in done.stderr


def test_missing_distractor_file_exits_2_with_a_message(tmp_path, data_dir):
    done = _rag("eval", str(data_dir / "xquad"), "--distractors", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr and "10kGNAD" in done.stderr
    assert "Traceback" not in done.stderr


# --- distractors: read as ingest reads them -------------------------------------------

JSONL = (
    '{"id": "a1", "title": "Budget", "date": "2025-09-01", "text": "Die Landesregierung '
    'beschloss am Montag ein neues Budget; die Opposition kritisierte es."}\n'
    '{"id": "a2", "text": "In Graz; Wien und Linz regnete es am Wochenende stark."}\n'
)


def test_json_lines_distractors_are_read_as_records_not_as_csv(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(JSONL, encoding="utf-8")
    articles = load_distractors([path])
    assert [(a.id, a.title, a.date) for a in articles] == [
        ("feed.jsonl:a1", "Budget", "2025-09-01"),
        ("feed.jsonl:a2", "In Graz; Wien und Linz regnete es am Wochenende stark", None),
    ]
    assert articles[0].text.startswith("Die Landesregierung beschloss am Montag")


def test_distractor_folders_are_read_in_every_format_with_problems_reported(tmp_path):
    (tmp_path / "feed.jsonl").write_text(JSONL, encoding="utf-8")
    (tmp_path / "notiz.md").write_text("# Titel\n\nEin Absatz über Wien.", encoding="utf-8")
    (tmp_path / "leer.txt").write_text("", encoding="utf-8")
    said: list[str] = []
    articles = load_distractors([tmp_path], say=said.append)
    assert sorted(a.id for a in articles) == ["feed.jsonl:a1", "feed.jsonl:a2", "notiz.md"]
    assert said[0].startswith("distractors: 3 articles") and "1 skipped" in said[0]
    assert any("leer.txt: empty file" in line for line in said[1:])


def test_nothing_readable_as_distractors_is_a_user_error(tmp_path):
    (tmp_path / "bild.png").write_bytes(b"\x89PNG")
    with pytest.raises(UserError, match="unknown file type .png"):
        load_distractors([tmp_path / "bild.png"])


def test_10kgnad_csv_distractors_are_recognised_without_options(data_dir):
    gnad = data_dir / "10kGNAD" / "test.csv"
    if not gnad.is_file():
        pytest.skip(f"10kGNAD test split not found at {gnad}")
    said: list[str] = []
    articles = load_distractors([gnad], say=said.append)
    assert len(articles) == 1028 and articles[0].id == "test.csv:1"
    assert articles[0].text.startswith("Die Gewerkschaft GPA-djp lanciert den")
    assert not any(a.text.startswith(("Wirtschaft;", "'")) for a in articles)
    assert "0 skipped" in said[0]


def test_rag_imports_neither_ingest_nor_evaluation():
    """rag/ is the library; ingest/, evaluation/ and app.py use it, never the other way.

    (`python -m rag eval` reaches evaluation through a module name in rag/__main__.py's
    command table, not through an import.)
    """
    offenders = []
    for path in sorted((PROJECT_ROOT / "rag").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                if name.split(".")[0] in ("ingest", "evaluation", "app", "bench"):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {name}")
    assert not offenders


@pytest.fixture
def tiny_xquad(tmp_path, data_dir):
    """The first XQuAD article in both languages (five paragraphs, 30 questions)."""
    folder = tmp_path / "xquad"
    folder.mkdir()
    for name in XQUAD_FILES.values():
        doc = json.loads((data_dir / "xquad" / name).read_text(encoding="utf-8"))
        doc["data"] = doc["data"][:1]
        (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.mark.slow
def test_eval_json_on_a_tiny_subset_has_the_documented_shape(tiny_xquad, tmp_path):
    cache = tmp_path / "eval-index"
    args = ("eval", str(tiny_xquad), "--limit", "20", "--json", "--index-dir", str(cache))
    done = _rag(*args)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"system", "baseline"}
    for who, by_lang in result.items():
        assert set(by_lang) == {"en", "de"}
        for metrics in by_lang.values():
            assert metrics["n"] == 20
            for key in ("recall@1", "recall@5", "recall@10", "mrr@10"):
                assert 0.0 <= metrics[key] <= 1.0
            assert metrics["recall@1"] <= metrics["recall@5"] <= metrics["recall@10"]
            assert 0 < metrics["p95_retrieval_ms"] <= metrics["p95_ms"]
            if who == "system":
                assert metrics["answer_hit"] is None or 0.0 <= metrics["answer_hit"] <= 1.0
                precision = metrics["citation_precision"]
                assert precision is None or 0.0 <= precision <= 1.0
            else:
                assert "answer_hit" not in metrics and "citation_precision" not in metrics
    assert "5 added" in done.stderr

    again = _rag(*args, "--no-answers")  # the cached index is reused, nothing re-embedded
    assert again.returncode == 0, again.stderr
    assert "5 unchanged" in again.stderr and "0 chunks embedded" in again.stderr
    assert json.loads(again.stdout)["system"]["de"]["answer_hit"] is None
