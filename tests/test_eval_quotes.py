"""`python -m rag eval-quotes`: the SpkAtt scoring on hand-made pairs whose scores are
known, the text rebuilt from tokens, and the command end to end on real SpkAtt documents
(from the benchmark data folder; skipped when it is absent)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.quotes import Document, Group, Scores, rebuild_text, score_document

PROJECT = Path(__file__).resolve().parents[1]


def _scores(sys_groups: list[Group], gold_groups: list[Group]) -> dict:
    scores = Scores()
    score_document(scores, sys_groups, gold_groups)
    return scores.summary()


def test_half_overlapping_message_and_exact_source():
    gold = [Group(list(range(0, 10)), [20, 21], "indirect")]
    pred = [Group(list(range(5, 15)), [20, 21], "indirect")]
    s = _scores(pred, gold)
    assert s["messages"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert s["sources"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert s["joint"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}


def test_a_missed_and_a_spurious_annotation_count_zero_each():
    gold = [Group([0, 1, 2, 3], [5], "direct"), Group([10, 11], [12], "indirect")]
    pred = [Group([0, 1, 2, 3], [5], "direct"), Group([30, 31], [], "reported")]
    s = _scores(pred, gold)
    # messages: precision (1 + 0) / 2, recall (1 + 0) / 2
    assert s["messages"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    # sources: the spurious one has no source, so it adds no precision value
    assert s["sources"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}


def test_pairs_are_chosen_by_message_overlap_not_by_order():
    gold = [Group([0, 1, 2], [], "direct"), Group([10, 11, 12], [], "indirect")]
    pred = [Group([10, 11, 12], [], "indirect"), Group([0, 1, 2], [], "direct")]
    assert _scores(pred, gold)["messages"]["f1"] == 1.0


def test_per_form_scores_use_the_predicted_form_for_precision_and_the_gold_for_recall():
    scores = Scores()
    score_document(
        scores,
        [Group([0, 1], [], "indirect"), Group([5, 6], [], "direct")],
        [Group([0, 1], [], "indirect"), Group([8, 9], [], "reported")],
    )
    assert scores.summary("indirect")["messages"]["f1"] == 1.0
    assert scores.summary("direct")["messages"]["precision"] == 0.0
    assert scores.summary("reported")["messages"]["recall"] == 0.0


def test_rebuilt_text_keeps_every_token_at_its_offset():
    sentences = [
        ["Er", "sagte", ":", "„", "Ja", ",", "wir", "kommen", "“", "."],
        ["Zum", "Thema"],
        ["Das", "sei", '"', "gut", '"', "(", "sagte", "er", ")", "."],
    ]
    text, spans, addresses, offsets = rebuild_text(sentences)
    assert text == 'Er sagte: „Ja, wir kommen“. Zum Thema\nDas sei "gut" (sagte er).'
    tokens = [t for s in sentences for t in s]
    assert [text[a:b] for a, b in spans] == tokens
    assert addresses[10] == "1:0" and offsets == [0, 10, 12]
    doc = Document(Path("x.json"), {}, text, spans, addresses, offsets)
    assert [tokens[i] for i in doc.tokens_in(3, 8)] == ["sagte"]


# --- the command, end to end -------------------------------------------------------------


@pytest.fixture
def spkatt_dir(data_dir) -> Path:
    folder = data_dir / "spkatt" / "train"
    if not folder.is_dir():
        pytest.skip(f"SpkAtt-2023 training documents not found at {folder}")
    return folder


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "rag", "eval-quotes", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_eval_quotes_writes_one_prediction_file_per_document_and_scores(spkatt_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for path in sorted(spkatt_dir.glob("*.json"))[:4]:
        shutil.copy(path, data / path.name)
    out = tmp_path / "predictions"
    result = _run(str(data), "--predictions", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 4 and report["gold_statements"] > 0
    for role in ("messages", "sources", "joint"):
        assert set(report[role]) == {"precision", "recall", "f1"}
        assert all(0.0 <= v <= 1.0 for v in report[role].values())
    assert set(report["forms"]) == {"direct", "indirect", "reported"}
    assert report["messages"]["f1"] > 0.2  # the extractor finds real statements here

    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in data.iterdir())
    predicted = 0
    for name in written:
        gold = json.loads((data / name).read_text(encoding="utf-8"))
        pred = json.loads((out / name).read_text(encoding="utf-8"))
        assert pred["Sentences"] == gold["Sentences"]
        assert pred["DocumentName"] == gold["DocumentName"]
        for a in pred["Annotations"]:
            assert {"Cue", "Source", "Message", "Form", "IsNested"} <= set(a)
            assert a["IsNested"] is False and a["Form"] in ("Direct", "Indirect", "Reported")
            assert a["Message"]
            for address in a["Message"] + a["Cue"] + a["Source"]:
                sentence, token = map(int, address.split(":"))
                assert 0 <= token < len(gold["Sentences"][sentence]["Tokens"])
            predicted += 1
    assert predicted == report["predicted_statements"] > 0


def test_eval_quotes_prints_a_table_without_json(spkatt_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sorted(spkatt_dir.glob("*.json"))[0], data)
    result = _run(str(data), "--predictions", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "messages" in result.stdout and "joint" in result.stdout


def test_a_fold_keeps_only_its_documents(spkatt_dir, tmp_path):
    from evaluation.quotes import fold_of

    data = tmp_path / "data"
    data.mkdir()
    paths = sorted(spkatt_dir.glob("*.json"))[:10]
    for path in paths:
        shutil.copy(path, data / path.name)
    result = _run(
        str(data), "--predictions", str(tmp_path / "out"), "--json", "--folds", "2", "--fold", "1"
    )
    assert result.returncode == 0, result.stderr
    expected = sum(1 for p in paths if fold_of(p.name, 2) == 1)
    assert json.loads(result.stdout)["documents"] == expected


def test_a_missing_folder_is_a_clear_error(tmp_path):
    result = _run(str(tmp_path / "nope"), "--predictions", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.stderr


def test_broken_json_names_the_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.json").write_text('{"Sentences": [', encoding="utf-8")
    result = _run(str(data), "--predictions", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "broken.json" in result.stderr and "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_json_file_of_another_kind_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "other.json").write_text('{"articles": []}', encoding="utf-8")
    result = _run(str(data), "--predictions", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "other.json" in result.stderr and "not a SpkAtt-2023 document" in result.stderr


def test_predictions_into_a_file_is_a_clear_error(spkatt_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sorted(spkatt_dir.glob("*.json"))[0], data)
    (tmp_path / "out").write_text("", encoding="utf-8")
    result = _run(str(data), "--predictions", str(tmp_path / "out"))
    assert result.returncode == 2 and "is a file" in result.stderr
