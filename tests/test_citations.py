"""Citation markers: parsing, cleaning, claims, and the support check."""

from __future__ import annotations

import json
import random

import pytest

from rag import citations
from rag.text import sentence_spans


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1", [1]),
        (" 2 ", [2]),
        ("1, 3", [1, 3]),
        ("1,3", [1, 3]),
        ("1; 3", [1, 3]),
        ("1-3", [1, 2, 3]),
        ("1 – 3", [1, 2, 3]),
        ("3-1", [1, 2, 3]),
        ("2, 2, 1", [2, 1]),
        ("1-3, 5", [1, 2, 3, 5]),
        ("1-100000", list(range(1, 52))),  # ranges are capped
    ],
)
def test_parse_group_expands_lists_and_ranges(body, expected):
    assert citations.parse_group(body) == expected


@pytest.mark.parametrize(
    ("text", "n", "clean", "removed"),
    [
        ("Er lehnt ab [1].", 3, "Er lehnt ab [1].", []),
        ("A [1][2].", 2, "A [1][2].", []),
        ("A [1,3].", 3, "A [1, 3].", []),
        ("A [1-3].", 3, "A [1, 2, 3].", []),
        ("A [9].", 6, "A.", ["[9]"]),
        ("A [0].", 6, "A.", ["[0]"]),
        ("A [2, 9].", 6, "A [2].", ["[9]"]),
        ("A [5-8].", 6, "A [5, 6].", ["[7-8]"]),
        ("A [1]. B [9]. C [9].", 2, "A [1]. B. C.", ["[9]"]),
        ("No markers at all.", 2, "No markers at all.", []),
        ("", 2, "", []),
        ("Years [2025] are not citations? [2025]", 3, "Years are not citations?", ["[2025]"]),
        ("A list [a] and [1a] stay.", 3, "A list [a] and [1a] stay.", []),
        ("A [1-100000].", 6, "A [1, 2, 3, 4, 5, 6].", ["[7-100000]"]),  # one per marker
        ("A [0-9, 12].", 6, "A [1, 2, 3, 4, 5, 6].", ["[0, 7-9, 12]"]),
    ],
)
def test_clean_markers_rewrites_and_removes_out_of_range(text, n, clean, removed):
    assert citations.clean_markers(text, n) == (clean, removed)


def test_claims_attach_numbers_to_their_sentences():
    text = "Peskow warnte vor NATO-Truppen [1]. Selenskyj sprach von Tausenden Soldaten [2][3]."
    found = citations.claims(text, "de")
    assert [(c.text, c.numbers) for c in found] == [
        ("Peskow warnte vor NATO-Truppen.", [1]),
        ("Selenskyj sprach von Tausenden Soldaten.", [2, 3]),
    ]


def test_marker_after_the_full_stop_belongs_to_the_sentence_before():
    found = citations.claims("Moscow rejects NATO troops. [2] Trump is pessimistic.", "en")
    assert found[0].numbers == [2]
    assert found[1].numbers == []


def test_anchors_are_names_and_numbers_not_function_words():
    assert citations.anchors("The Kremlin said 26 countries joined on Friday.") == {
        "kremlin",
        "26",
        "friday",
    }


PASSAGE = (
    "Moskau lehnt auch nach einer möglichen Friedensvereinbarung mit Kiew Truppen aus "
    "NATO-Staaten in der Ukraine kategorisch ab. Das machte Kreml-Sprecher Dmitri Peskow "
    "deutlich. Nach Angaben Frankreichs zeigten sich 26 Länder bereit, sich an einem "
    "Einsatz zu beteiligen."
)


def test_support_check_accepts_a_correct_claim_and_flags_a_wrong_one(embedder):
    right = "Kremlin spokesman Peskow said Moscow rejects troops from NATO states in Ukraine."
    wrong = (
        "Chancellor Merz announced that Germany will send 5000 Bundeswehr soldiers to Lithuania."
    )
    (good, good_span), (bad, _) = citations.support_scores(
        [right, wrong], PASSAGE, embedder.encode_passages
    )
    assert good >= citations.SUPPORT_THRESHOLD > bad
    assert (
        "Peskow" in PASSAGE[good_span[0] : good_span[1]]
        or "NATO" in PASSAGE[good_span[0] : good_span[1]]
    )


def test_verbatim_quote_is_fully_supported(embedder):
    sentence = "Das machte Kreml-Sprecher Dmitri Peskow deutlich."
    [(score, span)] = citations.support_scores([sentence], PASSAGE, embedder.encode_passages)
    assert score >= 1.0
    assert PASSAGE[span[0] : span[1]] == sentence


def test_cached_encoder_encodes_each_text_once(embedder):
    calls = []

    def counting(texts):
        calls.append(list(texts))
        return embedder.encode_passages(texts)

    enc = citations.CachedEncoder(counting)
    first = enc(["eins", "zwei", "eins"])
    second = enc(["zwei", "drei"])
    assert calls == [["eins", "zwei"], ["drei"]]
    assert (first[1] == second[0]).all()


@pytest.mark.slow
def test_support_score_separates_parallel_xquad_pairs(data_dir, embedder):
    """Re-runs the calibration behind SUPPORT_THRESHOLD on 20 XQuAD paragraphs.

    An English sentence against its own German paragraph (correct) must score above the
    threshold far more often than against another paragraph of the same article.
    """
    de_path, en_path = data_dir / "xquad" / "xquad.de.json", data_dir / "xquad" / "xquad.en.json"
    if not de_path.exists() or not en_path.exists():
        pytest.skip(f"XQuAD de/en not found under {data_dir / 'xquad'}")
    de = json.loads(de_path.read_text(encoding="utf-8"))["data"]
    en = json.loads(en_path.read_text(encoding="utf-8"))["data"]
    rng = random.Random(0)
    encode = citations.CachedEncoder(embedder.encode_passages)
    correct, mismatched = [], []
    for art_de, art_en in list(zip(de, en, strict=True))[:10]:
        paras_de = [p["context"] for p in art_de["paragraphs"]]
        paras_en = [p["context"] for p in art_en["paragraphs"]]
        for j in rng.sample(range(len(paras_de)), 2):
            en_text = paras_en[j]
            sents = [en_text[s:e] for s, e in sentence_spans(en_text, "en") if e - s > 30]
            claim = rng.choice(sents)
            other = paras_de[(j + 1) % len(paras_de)]
            correct.append(citations.support_scores([claim], paras_de[j], encode)[0][0])
            mismatched.append(citations.support_scores([claim], other, encode)[0][0])
    t = citations.SUPPORT_THRESHOLD
    kept = sum(s >= t for s in correct) / len(correct)
    flagged = sum(s < t for s in mismatched) / len(mismatched)
    assert kept >= 0.65, (kept, correct)
    assert flagged >= 0.6, (flagged, mismatched)


SOURCE_WITH_BRACKETS = (
    "Laut Krapf [2] soll der Bau im Frühjahr beginnen; siehe Fußnote [12] und [1-3]."
)


@pytest.mark.parametrize(
    ("answer", "markers"),
    [
        # quoted from the source: data, whichever side of the group matches
        (f"Der Artikel: „{SOURCE_WITH_BRACKETS}“ [1]", ["[1]"]),
        ("Krapf zufolge „soll der Bau im Frühjahr beginnen; siehe Fußnote [12]“ [1].", ["[1]"]),
        # the model's own sentences: markers, even next to the same numbers or names
        ("Laut Krapf beginnt der Bau im Frühjahr [2].", ["[2]"]),
        ("Der Bau beginnt im Frühjahr [1][2]. Krapf [2] bestätigt das.", ["[1]", "[2]", "[2]"]),
        ("[2] Krapf", ["[2]"]),  # too little context to call it a quote
    ],
)
def test_only_brackets_quoted_from_a_source_are_protected(answer, markers):
    protected = citations.protect_quoted(answer, [SOURCE_WITH_BRACKETS])
    assert citations.unprotect(protected) == answer
    assert [m.group(0) for m in citations._GROUP.finditer(protected)] == markers
