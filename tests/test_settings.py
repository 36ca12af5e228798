"""Settings: environment variables, validation messages, and the README staying current."""

from __future__ import annotations

import pytest

from rag.commands.config import rows
from rag.settings import Settings, SettingsError, load_settings
from tests.conftest import PROJECT_ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var, _, _ in rows() if f"`{var}`" not in readme]
    assert not missing, f"add these to the README (python -m rag config --markdown): {missing}"


def test_every_setting_has_a_description():
    assert all(desc for _, _, desc in rows())


def test_environment_variables_set_fields(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "i"))
    monkeypatch.setenv("RAG_CHUNK_SIZE", "600")
    monkeypatch.setenv("RAG_LLM_BACKEND", "ollama")
    s = load_settings()
    assert (s.index_dir, s.chunk_size, s.llm_backend) == (tmp_path / "i", 600, "ollama")


@pytest.mark.parametrize(
    "var, value",
    [
        ("RAG_LLM_BACKEND", "gpt"),
        ("RAG_CHUNK_SIZE", "-5"),
        ("RAG_TOP_K", "many"),
        ("RAG_CHROMA_PORT", "70000"),
        ("RAG_CHUNK_OVERLAP", "5000"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert var in message or "chunk_overlap" in message


def test_e5_models_get_their_prefixes_by_default():
    e5 = Settings(_env_file=None, embedding_model="intfloat/multilingual-e5-small")
    assert (e5.query_prefix, e5.passage_prefix) == ("query: ", "passage: ")
    mini = Settings(_env_file=None, embedding_model="sentence-transformers/all-MiniLM-L6-v2")
    assert (mini.query_prefix, mini.passage_prefix) == ("", "")
    custom = Settings(_env_file=None, embedding_query_prefix="Q: ")
    assert custom.query_prefix == "Q: "


def test_empty_optional_values_mean_unset(monkeypatch):
    monkeypatch.setenv("RAG_CHROMA_HOST", "")
    assert load_settings().chroma_host is None


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 47,  # a rebuild's "<name>.g<6 hex>-articles" would pass Chroma's 63 limit
        "news articles",  # space
        "news/articles",
        "nachrichtenä",
        "_articles",  # must start with a letter or digit
        "articles-",  # must end with a letter or digit
        "news..articles",
        "192.168.0.1",  # an IPv4 address
        "999.999.999.999",  # shaped like one: chromadb's Python check rejects it
    ],
)
def test_collection_names_chroma_rejects_name_the_variable(monkeypatch, name):
    monkeypatch.setenv("RAG_COLLECTION", name)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "RAG_COLLECTION" in str(err.value)


@pytest.mark.parametrize("name", ["abc", "news-2026_v1.e5", "a" * 46, "1.2.3"])
def test_collection_names_chroma_accepts_pass(monkeypatch, name):
    monkeypatch.setenv("RAG_COLLECTION", name)
    assert load_settings().collection == name


def test_every_accepted_collection_name_opens_in_chroma(tmp_path):
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path))
    for name in ["abc", "news-2026_v1.e5", "a" * 46, "1.2.3"]:
        settings = Settings(_env_file=None, collection=name)
        longest = f"{settings.collection}.gabcdef-articles"  # a rebuild's (rag/store.py)
        for collection in (settings.collection, f"{settings.collection}-articles", longest):
            client.get_or_create_collection(collection)


@pytest.mark.parametrize(
    "value, expected",
    [("auto", "auto"), ("always", "always"), ("never", "never"), ("1", "always"), ("0", "never")],
)
def test_progress_setting_takes_auto_always_never(monkeypatch, value, expected):
    monkeypatch.setenv("RAG_PROGRESS", value)
    assert load_settings().progress == expected
