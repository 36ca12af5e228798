"""Extractive answers (no LLM): quoting the right sentences, in the right language."""

from __future__ import annotations

import time

import pytest
from fixtures_llm import *  # noqa: F403 - shared fixtures
from fixtures_llm import INJECTION

from rag import extractive, followup, prompts


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did Peskow say about NATO troops?", "Peskow"),
        ("what did kremlin spokesman Dmitri Peskov say?", "Peskov"),
        ("What has Selenskyj told reporters?", "Selenskyj"),
        ("Was sagte Peskow über NATO-Truppen?", "Peskow"),
        ("Was hat Putin zur NATO gesagt?", "Putin"),
        ("Wie äußerte sich Trump?", "Trump"),
        ("What did he say?", None),
        ("Where is Wladiwostok?", None),
        ("", None),
    ],
)
def test_speaker_of_finds_the_person_asked_about(question, speaker):
    assert extractive.speaker_of(question) == speaker


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What did Peskow say about NATO troops?", "en"),
        ("Was sagte Peskow über NATO-Truppen?", "de"),
        ("Wer ist der Kreml-Sprecher?", "de"),
        ("Peskow?", "en"),
        ("¿Qué dijo Peskow?", "en"),  # other languages get English wording
        ("", "en"),
    ],
)
def test_detect_language(text, language):
    assert prompts.detect_language(text) == language


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("Peskow", "betonte Peskow.", True),
        ("Peskov", "betonte Peskow.", True),
        ("Peskow", "Peskows Aussage", True),
        ("Peskow", "Kreml-Sprecher Dmitri Peskow deutlich", True),
        ("Putin", "Trump sprach mit Selenskyj.", False),
        ("Putin", "putin klein geschrieben", False),
    ],
)
def test_name_in_matches_names_fuzzily(name, text, found):
    assert extractive.name_in(name, text) is found


@pytest.fixture
def no_statement_route(monkeypatch):
    """The answer path without the statement index's route (as when it is not installed):
    `import rag.quotes.answer` raises ImportError."""
    import sys

    monkeypatch.setitem(sys.modules, "rag.quotes.answer", None)


def test_what_did_peskow_say_returns_his_quote_with_a_citation(make_assistant, no_statement_route):
    assistant = make_assistant()
    started = time.perf_counter()
    answer = assistant.ask("What did Peskow say about NATO troops?")
    elapsed = time.perf_counter() - started
    assert answer.mode == "extractive"
    assert "„Wir betrachten dies als eine Gefahr für uns" in answer.text
    assert answer.text.startswith("What the sources quote from Peskow")
    quoted = [c for c in answer.citations if "Wir betrachten dies als eine Gefahr" in c.quote]
    assert quoted and all(c.supported for c in answer.citations)
    line = next(ln for ln in answer.text.splitlines() if "Wir betrachten dies" in ln)
    assert f"[{quoted[0].n}]" in line
    # the highlight points at the quoted sentence inside the passage
    c = quoted[0]
    assert any("Wir betrachten dies" in c.quote[s:e] for s, e in c.highlight)
    assert elapsed < 30, f"extractive answer took {elapsed:.1f} s"


def test_german_question_gets_a_german_header(make_assistant, no_statement_route):
    answer = make_assistant().ask("Was sagte Peskow über die NATO?")
    assert answer.text.startswith("Was die Quellen von Peskow zitieren")
    assert "Peskow" in answer.text and answer.citations


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the best recipe for apple strudel?", prompts.NO_ANSWER["en"]),
        ("Wie backt man einen Apfelstrudel mit Zimt?", prompts.NO_ANSWER["de"]),
        ("Wer gewann das Fußballspiel gestern?", prompts.NO_ANSWER["de"]),
    ],
)
def test_no_relevant_source_says_so_plainly(make_assistant, question, expected):
    answer = make_assistant().ask(question)
    assert answer.text == expected
    assert answer.citations == []


def test_extractive_answer_is_not_steered_by_an_injected_instruction(make_assistant):
    answer = make_assistant().ask("What happened to the Antoniwka bridge in Cherson?")
    assert "HACKED" not in answer.text.replace(INJECTION, "")
    assert answer.text.startswith(prompts.EXTRACTIVE_HEADER["en"])
    assert any("Antoniwka" in c.quote for c in answer.citations)


def test_extractive_sentences_are_embedded_in_one_batch(embedder):
    from rag.schema import Passage

    calls = []

    def encode(texts):
        calls.append(len(texts))
        return embedder.encode_passages(texts)

    passages = [
        Passage("a#1", "a", "Peskow sprach. „Nein“, sagte er. Dann ging er.", 0, 47, title="A"),
        Passage("b#1", "b", "Trump sprach auch. Er sagte ja.", 0, 31, title="B"),
    ]
    extractive.extract("What did Peskow say?", passages, encode, embedder.encode_queries)
    assert calls == [5]


def test_follow_up_is_rewritten_with_the_previous_question_terms():
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", "…")]
    assert followup.rewrite_deterministic("And what did Putin say?", history) == (
        "And what did Putin say? (NATO troops)"
    )
    # a question that stands on its own is left alone
    standalone = "How many countries offered soldiers for Ukraine after a ceasefire?"
    assert followup.rewrite_deterministic(standalone, history) == standalone
    assert followup.rewrite_deterministic("And Putin?", []) == "And Putin?"


def test_follow_up_in_extractive_mode_searches_with_context(make_assistant):
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", "…")]
    events = list(make_assistant().stream("And what did Putin say?", history=history))
    statuses = [e.text for e in events if type(e).__name__ == "Status"]
    assert statuses[0] == "Rewriting question…"
    answer = events[-1].answer
    assert answer.standalone_question == "And what did Putin say? (NATO troops)"
    assert "Putin" in answer.text


# --- bracketed numbers in article text are data, not citations ------------------------------
KRAPF_SENTENCE = "Laut Krapf [2] soll der Bau im Frühjahr beginnen; siehe Fußnote [12] und [1-3]."
KRAPF_ARTICLE = (
    "# Neue Brücke über die Mur\n\n"
    "Die Stadt Graz plant eine neue Fußgängerbrücke über die Mur. "
    f"{KRAPF_SENTENCE} "
    "Die Kosten werden auf zwölf Millionen Euro geschätzt.\n"
)


@pytest.fixture(scope="module")
def krapf_parts(tmp_path_factory, embedder):
    """(settings, index, retriever) over the QA articles plus one with bracketed numbers."""
    import shutil

    from fixtures_llm import INJECTION_ARTICLE, SAMPLE_ARTICLE

    from ingest.pipeline import run_ingest
    from rag.retrieve import Retriever
    from rag.settings import Settings
    from rag.store import Index

    corpus = tmp_path_factory.mktemp("krapf-corpus")
    shutil.copy(SAMPLE_ARTICLE, corpus / SAMPLE_ARTICLE.name)
    (corpus / "001_injection.txt").write_text(INJECTION_ARTICLE, encoding="utf-8")
    (corpus / "002_bruecke.md").write_text(KRAPF_ARTICLE, encoding="utf-8")
    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("krapf-index"))
    summary = run_ingest([corpus], settings, embedder=embedder)
    assert len(summary.added) == 3 and not summary.failed
    index = Index(settings)
    return settings, index, Retriever(settings, index, embedder)


def test_bracketed_numbers_in_a_quoted_sentence_stay_verbatim_and_cite_nothing(
    krapf_parts, embedder, no_statement_route
):
    from rag.assistant import Assistant

    settings, index, retriever = krapf_parts
    assistant = Assistant.from_settings(
        settings, index=index, embedder=embedder, retriever=retriever
    )
    answer = assistant.ask("Was sagte Krapf über den Bau der Brücke?")
    assert answer.mode == "extractive"
    assert KRAPF_SENTENCE in answer.text  # verbatim: nothing deleted or rewritten
    assert not any("removed citation" in n for n in answer.notices), answer.notices
    line = next(ln for ln in answer.text.splitlines() if KRAPF_SENTENCE in ln)
    assert line.startswith("> ")
    marker = line[len("> " + KRAPF_SENTENCE) :].strip()
    assert marker.startswith("[") and marker.endswith("]"), line
    cited = {c.n: c for c in answer.citations}
    # the marker after the quote leads to the article the sentence comes from
    krapf = cited[int(marker[1:-1])]
    assert krapf.article_id == "002_bruecke.md"
    assert KRAPF_SENTENCE in krapf.quote and krapf.supported
    # every citation is a real passage: its quote is the article's text at start/end,
    # sources are numbered 1..n without gaps, and each one is cited in the text
    assert sorted(cited) == list(range(1, len(cited) + 1))
    quote_lines = [ln for ln in answer.text.splitlines() if ln.startswith("> ")]
    for c in answer.citations:
        article = index.get_article(c.article_id)
        assert article.text[c.start : c.end] == c.quote
        assert any(ln.endswith(f"[{c.n}]") for ln in quote_lines)
        assert all(" ".join(s.split()) in " ".join(c.quote.split()) for s in c.cited_sentences)
    assert len(answer.citations) <= len(quote_lines)


@pytest.mark.parametrize("model", ["embedder", "minilm"])
def test_each_model_answers_with_its_own_calibration(request, model):
    """Thresholds live on each model's cosine scale: MiniLM with e5's numbers answered
    'the sources do not contain it' to a question its passage answers word for word."""
    from rag.calibration import for_model
    from rag.schema import Passage

    embedder = request.getfixturevalue(model)
    text = "Der Alpenzoo in Innsbruck bekam zwei junge Pinguine aus einem Zoo in Schweden."
    passages = [Passage("zoo#1", "zoo", text, 0, len(text), title="Zoo")]
    got = extractive.extract(
        "Pinguine im Alpenzoo Innsbruck",
        passages,
        embedder.encode_passages,
        embedder.encode_queries,
        calibration=for_model(embedder.model_id),
    )
    assert [q.text for q in got.quotes] == [text]


# --- never put words in the wrong mouth -------------------------------------------------------
@pytest.mark.parametrize(
    ("speaker", "sentence", "before", "said"),
    [
        ("Peskow", "„Das ist gefährlich für unser Land“, betonte Peskow.", "", True),
        ("Peskow", "Peskow erinnerte daran, dass der Krieg Wurzeln habe.", "", True),
        (
            "Selenskyj",
            "Es wird nach den Worten von Präsident Wolodymyr Selenskyj diskutiert.",
            "",
            True,
        ),  # fmt: skip
        ("Peskow", "„Wir sind bereit“, sagte er.", "Das machte Peskow deutlich.", True),
        ("Putin", "Peskow sagte, Putin habe nichts entschieden.", "", False),
        ("Putin", "Trump will nach eigenen Angaben erneut mit Putin sprechen.", "", False),
        ("Putin", "„Wir sind bereit“, sagte er.", "Peskow sprach über Putin.", True),
        ("Putin", "Ein Treffen von Putin und Trump wäre möglich.", "", False),
    ],
)
def test_attributed_only_when_the_speaker_is_the_one_who_speaks(speaker, sentence, before, said):
    assert extractive.attributed(speaker, sentence, before) is said


def test_putin_follow_up_never_lists_peskows_words_as_putins(make_assistant, no_statement_route):
    history = [("user", "What did Peskow say about NATO troops?"), ("assistant", "…")]
    answer = make_assistant().ask("And what did Putin say?", history=history)
    header = prompts.EXTRACTIVE_SPEAKER_HEADER["en"].format(speaker="Putin")
    mention = prompts.EXTRACTIVE_MENTION_HEADER["en"].format(speaker="Putin")
    said = answer.text.split(mention)[0].split(prompts.EXTRACTIVE_OTHER_HEADER["en"])[0]
    if answer.text.startswith(header):
        for line in said.splitlines():
            if line.startswith("> "):
                assert "Peskow" not in line and "Wir betrachten dies" not in line, line
    else:  # nothing attributed to Putin: the answer says so
        assert answer.text.startswith(prompts.EXTRACTIVE_NOT_QUOTED["en"].format(speaker="Putin"))


def test_a_speaker_who_is_only_mentioned_is_labelled_as_mentioned(embedder):
    from rag.schema import Passage

    text = (
        "Ein Treffen von Putin und Trump wäre nach Angaben aus Moskau bald möglich. "
        "Das Wetter in Wladiwostok war sonnig."
    )
    passage = Passage("a#1", "a", text, 0, len(text), title="Treffen")
    got = extractive.extract(
        "What did Putin say about a meeting with Trump?",
        [passage],
        embedder.encode_passages,
        embedder.encode_queries,
    )
    assert got.found
    assert got.text.startswith(prompts.EXTRACTIVE_NOT_QUOTED["en"].format(speaker="Putin"))
    assert prompts.EXTRACTIVE_MENTION_HEADER["en"].format(speaker="Putin") in got.text
