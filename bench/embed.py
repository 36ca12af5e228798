"""Embedding backends compared on real German news: speed, agreement with fp32, recall.

For each backend (torch = sentence-transformers fp32, onnx = ONNX Runtime fp32,
onnx-int8 = ONNX Runtime with int8 weights) it prints:
- passages/s on a fixed sample of 10kGNAD chunks, built like the ingest builds them
  (product reader, `chunk_spans`, title prefix `passage_for_embedding`);
- single-question latency p50/p95 (ms) over XQuAD questions, half English, half German;
- cosine agreement with the torch vectors of the same texts (min/mean over the chunks
  and questions);
- recall@5 of English XQuAD questions against the 240 German XQuAD paragraphs (dense only,
  exact cosine: a small self-contained retrieval check, not the product's eval).

The backends run interleaved (each slice of chunks and each question goes to every
backend in turn, the order rotating), so a busy machine slows them alike; the 1-minute
load average is printed before and after.

    .venv/bin/python bench/embed.py [--model NAME|PATH] [--data ../shared/data] [--json]
        [--backends torch,onnx,onnx-int8] [--passages 300] [--queries 200]
        [--no-recall | --only-recall]

On a busy machine keep one run short: time the backends with `--no-recall` and measure
recall (which does not depend on load) in a separate `--only-recall` run.

The data sets are not shipped; without them the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"
BACKENDS = ("torch", "onnx", "onnx-int8")
# Not a product backend: ONNX fp32 on one session with intra-op threads = cores and no
# batch workers, to compare the two ways of using the cores.
INTRA = "onnx-intra-op"


def news_chunks(csv_path: Path, n: int, size: int, overlap: int) -> list[str]:
    """The first `n` chunks of the 10kGNAD file, as the ingest would embed them."""
    from ingest.chunk import chunk_spans
    from ingest.readers import ReadOptions, read_sources
    from rag.embeddings import passage_for_embedding
    from rag.schema import Article

    options = ReadOptions(csv_columns=("label", "text"), csv_delimiter=";", csv_quotechar="'")
    chunks: list[str] = []
    for item in read_sources([csv_path], options):
        if not isinstance(item, Article):
            continue
        for s, e in chunk_spans(item.text, size, overlap):
            chunks.append(passage_for_embedding(item.title, item.text[s:e]))
        if len(chunks) >= n:
            break
    return chunks[:n]


def xquad(folder: Path) -> tuple[list[str], list[tuple[str, int]], list[tuple[str, int]]]:
    """German paragraphs, and (question, paragraph index) pairs in English and German."""
    data = {}
    for lang in ("de", "en"):
        data[lang] = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: dict[str, list[tuple[str, int]]] = {"en": [], "de": []}
    for art_de, art_en in zip(data["de"]["data"], data["en"]["data"], strict=True):
        for par_de, par_en in zip(art_de["paragraphs"], art_en["paragraphs"], strict=True):
            for lang, par in (("de", par_de), ("en", par_en)):
                questions[lang] += [(qa["question"], len(paragraphs)) for qa in par["qas"]]
            paragraphs.append(par_de["context"])
    return paragraphs, questions["en"], questions["de"]


def make_backend(name: str, model: str, batch_size: int):
    from rag.embeddings import Embedder
    from rag.embeddings_onnx import OnnxEmbedder

    if name == "torch":
        return Embedder(model, batch_size=batch_size)
    if name in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, batch_size=batch_size, quantized=name == "onnx-int8")
    if name == INTRA:
        from rag.embeddings_onnx import _cores, _session

        backend = OnnxEmbedder(model, batch_size=batch_size, threads=1)
        backend._session = _session(backend.path, threads=_cores())
        return backend
    raise SystemExit(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or folder (default: the product's setting)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the data sets")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--passages", type=int, default=300, help="news chunks to encode")
    parser.add_argument("--queries", type=int, default=200, help="single questions to time")
    parser.add_argument(
        "--recall-questions", type=int, default=0, help="English questions for recall (0 = all)"
    )
    parser.add_argument("--slice", type=int, default=50, help="chunks per interleaved slice")
    parser.add_argument("--no-recall", action="store_true", help="speed and agreement only")
    parser.add_argument("--only-recall", action="store_true", help="recall only (no timing)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    csv_path = args.data / "10kGNAD" / "test.csv"
    xquad_dir = args.data / "xquad"
    missing = [p for p in (csv_path, xquad_dir / "xquad.de.json") if not p.is_file()]
    if missing:
        print(f"skipped: {missing[0]} not found. Pass --data PATH to the folder with "
              "10kGNAD/test.csv and xquad/xquad.{de,en}.json.")  # fmt: skip
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np

    from rag.settings import load_settings

    settings = load_settings()
    model = args.model or settings.embedding_model
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.only_recall:
        args.passages = args.queries = 0
    elif "torch" not in names:
        names.insert(0, "torch")  # the reference for the agreement columns
    load_before = os.getloadavg()[0]

    chunks = news_chunks(csv_path, args.passages, settings.chunk_size, settings.chunk_overlap)
    paragraphs, q_en, q_de = xquad(xquad_dir)
    timed = [q for pair in zip(q_en, q_de, strict=False) for q, _ in pair][: args.queries]
    recall_qs = q_en[: args.recall_questions] if args.recall_questions else q_en

    backends, load_s = {}, {}
    for name in names:
        t = time.perf_counter()
        backends[name] = make_backend(name, model, settings.embedding_batch_size)
        load_s[name] = time.perf_counter() - t
    for b in backends.values():  # warm up: first calls allocate and compile
        b.encode_passages(chunks[:4] or ["warm-up"])
        b.encode_queries([timed[0] if timed else "warm-up"])

    # Passages: slices of chunks, each encoded by every backend, the order rotating.
    seconds = dict.fromkeys(names, 0.0)
    vectors = {name: [] for name in names}
    for k, start in enumerate(range(0, len(chunks), args.slice)):
        part = chunks[start : start + args.slice]
        for name in names[k % len(names) :] + names[: k % len(names)]:
            t = time.perf_counter()
            vectors[name].append(backends[name].encode_passages(part))
            seconds[name] += time.perf_counter() - t
    passage_vecs = {n: np.concatenate(v or [np.zeros((0, 1))]) for n, v in vectors.items()}

    # Single questions, one at a time, as a search does; every backend gets each in turn.
    latency = {name: [] for name in names}
    query_vecs = {name: [] for name in names}
    for k, question in enumerate(timed):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            t = time.perf_counter()
            query_vecs[name].append(backends[name].encode_queries([question])[0])
            latency[name].append((time.perf_counter() - t) * 1000)

    # Recall@5: English questions against the German paragraphs, exact cosine.
    gold = np.array([i for _, i in recall_qs])
    recall = dict.fromkeys(names, float("nan"))
    for name in [] if args.no_recall else names:
        par = backends[name].encode_passages(paragraphs)
        qv = backends[name].encode_queries([q for q, _ in recall_qs])
        top5 = np.argsort(-(qv @ par.T), axis=1)[:, :5]
        recall[name] = float(np.mean(np.any(top5 == gold[:, None], axis=1)))

    rows = []
    for name in names:
        if args.only_recall:
            rows.append({"backend": name, "model_id": backends[name].model_id,
                         "recall_at_5_en_de": round(recall[name], 4)})  # fmt: skip
            continue
        cos = np.concatenate(
            [
                np.sum(passage_vecs[name] * passage_vecs["torch"], axis=1),
                np.sum(np.array(query_vecs[name]) * np.array(query_vecs["torch"]), axis=1),
            ]
        )
        rows.append(
            {
                "backend": name,
                "model_id": backends[name].model_id,
                "load_s": round(load_s[name], 1),
                "passages_per_s": round(len(chunks) / max(seconds[name], 1e-9), 2),
                "query_p50_ms": round(percentile(latency[name], 50), 1),
                "query_p95_ms": round(percentile(latency[name], 95), 1),
                "cosine_vs_torch_min": round(float(cos.min()), 5),
                "cosine_vs_torch_mean": round(float(cos.mean()), 5),
                "recall_at_5_en_de": round(recall[name], 4),
            }
        )
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "model": model,
        "passages": len(chunks),
        "mean_passage_chars": round(sum(map(len, chunks)) / max(1, len(chunks))),
        "timed_questions": len(timed),
        "recall_questions": len(recall_qs),
        "paragraphs": len(paragraphs),
        "load_avg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "backends": rows,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for key, value in result.items():
        if key != "backends":
            print(f"{key:28} {value}")
    cols = list(rows[0])
    print(" | ".join(cols))
    for row in rows:
        print(" | ".join(str(row[c]) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
