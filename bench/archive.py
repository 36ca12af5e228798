"""Archive-management benchmark: what a journalist waits for in the Archive view.

Builds an archive of N 10kGNAD articles (one .txt file each, as a newsroom export folder
looks) with the product's ingest and the settings' embedding model, then times, through
desk/corpus.py exactly as the Archive view calls it:

- listing every article (title, date, outlet, passages: what the view reads per change);
- a refresh of the unchanged archive (the "Refresh archive" button with nothing new);
- uploading one new article file, and a JSON Lines file of 20 articles (checked, stored,
  indexed: the wait after "Add to archive");
- removing one article (file moved aside, index updated), and the refresh after it.

    .venv/bin/python bench/archive.py [--data PATH/10kGNAD/test.csv] [--limit N] [--json]
                                      [--work FOLDER]   # keep and reuse the archive

Medians of `--repeat` runs where a step can be repeated. The data set is CC BY-NC-SA 4.0
and is not shipped; without it the script says where to put it and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "10kGNAD" / "test.csv"


_EXTRA = 21  # articles kept out of the archive for the uploads: 1 file + 20 in JSON Lines


def _wanted(name: str, n: int) -> bool:
    """A file of this run's archive (gnad-00000.txt … gnad-<n-1>.txt)."""
    stem = name.removeprefix("gnad-").removesuffix(".txt")
    return stem.isdigit() and int(stem) < n and name == f"gnad-{int(stem):05d}.txt"


def gnad_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row[1] for row in csv.reader(f, delimiter=";", quotechar="'") if len(row) > 1]


def timed(step, repeat: int = 1) -> tuple[float, object]:
    """Median seconds of `repeat` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="10kGNAD test.csv")
    parser.add_argument(
        "--limit",
        type=int,
        default=1007,
        help="articles in the archive (the last 21 of the 1,028 are uploaded)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per repeatable step")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--work", type=Path, help="keep the archive and its index in this folder and reuse them"
    )
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"10kGNAD not found at {args.data}; pass --data PATH/10kGNAD/test.csv")
        return 0

    from desk import corpus
    from ingest.pipeline import run_ingest
    from rag.embeddings import Embedder
    from rag.settings import load_settings
    from rag.store import Index

    texts = gnad_texts(args.data)
    n = min(args.limit, len(texts) - _EXTRA)  # the rest are uploaded
    archive, extra = texts[:n], texts[n : n + _EXTRA]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-archive-"))
    folder = work / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*"):  # a kept work folder: only this run's archive
        if stale.is_dir() or not _wanted(stale.name, n):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for i, text in enumerate(archive):
        path = folder / f"gnad-{i:05d}.txt"
        if not path.exists():
            path.write_text(text, encoding="utf-8")
    update = {"index_dir": work / "index", "corpus_dir": folder}
    settings = load_settings().model_copy(update=update)
    embedder = Embedder.from_settings(settings)
    index = Index(settings)

    out: dict = {"articles": len(archive), "model": embedder.model_id}
    out["build_s"], summary = timed(lambda: run_ingest([folder], settings, embedder=embedder))
    out["build_kind"] = "incremental (kept work folder)" if args.work else "from scratch"
    out["chunks"] = summary.chunks_written
    out["list_s"], rows = timed(lambda: corpus.articles(index), args.repeat)
    assert len(rows) == len(archive)
    out["refresh_unchanged_s"], report = timed(
        lambda: corpus.refresh(settings, embedder, index=index), args.repeat
    )
    assert not report.changed

    one = [("neu.txt", extra[0].encode())]
    out["upload_one_s"], up = timed(
        lambda: corpus.upload(settings, one, embedder=embedder, index=index)
    )
    assert up.files[0].accepted and len(up.ingest.added) == 1, up
    feed = "".join(
        json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n"
        for i, t in enumerate(extra[1:21])
    )
    many = [("feed.jsonl", feed.encode())]
    out["upload_jsonl_20_s"], up = timed(
        lambda: corpus.upload(settings, many, embedder=embedder, index=index)
    )
    assert len(up.ingest.added) == 20, up

    victims = iter(sorted(r.article_id for r in rows)[: args.repeat])
    out["remove_s"], removed = timed(
        lambda: corpus.remove(settings, next(victims), index=index), args.repeat
    )
    assert removed.removed, removed
    out["refresh_after_remove_s"], report = timed(
        lambda: corpus.refresh(settings, embedder, index=index)
    )
    assert not report.changed, "a removed article came back"
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))
    else:
        for key, value in out.items():
            print(f"{key:<24}{value:.2f}" if isinstance(value, float) else f"{key:<24}{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
