"""Ingest benchmark over the 10kGNAD test split (1,028 DER STANDARD articles).

Prints: full-ingest time, articles/s, chunks/s, where the time went (embedding vs.
reading/cleaning/chunking vs. writing to Chroma), peak memory at each quarter of the
run (it must stay flat as the corpus grows), and the wall time of an unchanged re-run
through the real command line (`python -m ingest`, process start included).

    .venv/bin/python bench/ingest.py [--data PATH/10kGNAD/test.csv] [--limit N] [--json]

The data set is CC BY-NC-SA 4.0 and is not shipped; without it the script says where
to put it and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "10kGNAD" / "test.csv"
CSV_ARGS = ["--csv-columns", "label,text", "--csv-delimiter", ";", "--csv-quotechar", "'"]


class PeakMemory:
    """Samples this process's RSS every 50 ms; `peak` is the highest seen so far."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="10kGNAD test.csv")
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found. Pass --data PATH to the 10kGNAD test.csv.")
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ingest.pipeline import run_ingest
    from ingest.readers import ReadOptions
    from rag.embeddings import Embedder
    from rag.settings import load_settings
    from rag.store import Index

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    data = args.data
    if args.limit:
        data = work / "subset.csv"
        with open(args.data, encoding="utf-8", newline="") as src:
            lines = src.read().split("\r\n")[: args.limit]
        data.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    index_dir = args.index_dir or work / "index"
    settings = load_settings(index_dir=index_dir)
    options = ReadOptions(
        csv_columns=("label", "text"),
        csv_delimiter=";",
        csv_quotechar="'",
        max_article_chars=settings.max_article_chars,
    )

    t0 = time.perf_counter()
    embedder = Embedder.from_settings(settings)
    load_s = time.perf_counter() - t0
    timings = {"embed": 0.0, "write": 0.0, "articles": 0}
    real_encode = embedder.encode_passages

    def timed_encode(texts):
        t = time.perf_counter()
        try:
            return real_encode(texts)
        finally:
            timings["embed"] += time.perf_counter() - t

    embedder.encode_passages = timed_encode
    index = Index(settings)
    real_write = index.write_articles
    peaks: list[tuple[int, float]] = []  # (articles written, peak RSS MB so far)

    with PeakMemory() as mem:

        def timed_write(items, *args, **kwargs):
            t = time.perf_counter()
            try:
                return real_write(items, *args, **kwargs)
            finally:
                timings["write"] += time.perf_counter() - t
                before = timings["articles"]
                timings["articles"] += len(items)
                if before // 257 != timings["articles"] // 257:
                    peaks.append((int(timings["articles"]), mem.peak / 2**20))

        index.write_articles = timed_write
        summary = run_ingest([data], settings, options=options, index=index, embedder=embedder)
        peaks.append((len(summary.added), mem.peak / 2**20))
    total = summary.seconds
    other = total - timings["embed"] - timings["write"]

    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    rerun = subprocess.run(
        [sys.executable, "-m", "ingest", str(data), *CSV_ARGS, "--json", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rerun_s = time.perf_counter() - t
    rerun_summary = json.loads(rerun.stdout)

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "articles": len(summary.added),
        "failed": len(summary.failed),
        "duplicates": len(summary.duplicates),
        "chunks": summary.chunks_written,
        "model_load_s": round(load_s, 2),
        "full_ingest_s": round(total, 1),
        "articles_per_s": round(len(summary.added) / total, 2),
        "chunks_per_s": round(summary.chunks_written / total, 2),
        "embed_s": round(timings["embed"], 1),
        "chroma_write_s": round(timings["write"], 1),
        "read_clean_chunk_s": round(other, 1),
        "non_embedding_share": round((total - timings["embed"]) / total, 3),
        "peak_rss_mb_by_articles": [[n, round(mb)] for n, mb in peaks],
        "unchanged_rerun_s": round(rerun_s, 2),
        "unchanged_rerun_embedded": rerun_summary["chunks_written"],
        "index_stats": Index(settings).stats().as_dict(),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
