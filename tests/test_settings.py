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
    mini = Settings(_env_file=None)
    assert (mini.query_prefix, mini.passage_prefix) == ("", "")
    custom = Settings(_env_file=None, embedding_query_prefix="Q: ")
    assert custom.query_prefix == "Q: "


def test_empty_optional_values_mean_unset(monkeypatch):
    monkeypatch.setenv("RAG_CHROMA_HOST", "")
    assert load_settings().chroma_host is None
