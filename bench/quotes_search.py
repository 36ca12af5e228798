"""Statement index benchmark: what `rag quotes` costs on a news archive.

Ingests the 10kGNAD test articles (1,028 news articles, one JSON Lines file) with the
product's ingest and the settings' embedding model, statement index included, then:

- the statement index's share of the ingest: the index is dropped and back-filled the
  way the next ingest back-fills it (`Index.reconcile`: extraction, embedding of the
  statements, writes), timed against the whole ingest;
- `StatementSearch.search` latency, the function behind `rag quotes` (process start and
  model loading excluded): for the most quoted speakers, by full name and by surname,
  without a topic (newest first) and with one (English and German topics), after one
  warm-up search; p50 and p95 over all searches.

    .venv/bin/python bench/quotes_search.py [--data PATH/10kGNAD] [--index DIR] [--json]

`--index DIR` keeps the built index there and reuses it on the next run. The data set is
CC BY-NC-SA 4.0 and is not shipped; without it the script says where to put it and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "10kGNAD"
TOPICS = ["Flüchtlinge", "refugees", "economy", "Wahl", "NATO troops", "Fußball"]


def write_corpus(data: Path, folder: Path) -> Path:
    with (data / "test.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    with (data / "dates.csv").open(encoding="utf-8") as f:
        dates = {int(r["row"]): r["date"] for r in csv.DictReader(f)}
    path = folder / "gnad.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, (label, text) in enumerate(rows):
            record = {"id": str(i), "date": dates.get(i), "source": "DER STANDARD",
                      "title": label, "text": text}  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the 10kGNAD folder")
    parser.add_argument("--index", type=Path, help="keep (and reuse) the index here")
    parser.add_argument("--speakers", type=int, default=30, help="most quoted speakers asked")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not (args.data / "test.csv").is_file():
        print(f"10kGNAD not found at {args.data}; pass --data PATH (the folder with test.csv)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ingest.pipeline import run_ingest
    from rag.embeddings import Embedder
    from rag.quotes.search import StatementSearch
    from rag.quotes.store import StatementIndex
    from rag.settings import Settings
    from rag.store import Index

    work = Path(tempfile.mkdtemp(prefix="quotes-bench-"))
    index_dir = args.index or work / "index"
    settings = Settings(_env_file=None, index_dir=index_dir)
    embedder = Embedder.from_settings(settings)
    out: dict = {"model": embedder.model_id}
    reuse = (index_dir / "chroma.sqlite3").exists()
    if not reuse:
        corpus = write_corpus(args.data, work)
        started = time.perf_counter()
        summary = run_ingest([corpus], settings, embedder=embedder)
        out["ingest_seconds"] = round(time.perf_counter() - started, 1)
        out["articles"] = len(summary.added)
        index = Index(settings)
        StatementIndex(index).drop()
        started = time.perf_counter()
        Index(settings).reconcile(embed=embedder.encode_passages)
        out["statement_index_seconds"] = round(time.perf_counter() - started, 1)
        out["statement_index_share"] = round(
            out["statement_index_seconds"] / out["ingest_seconds"], 3
        )
    index = Index(settings)
    search = StatementSearch(index, embedder)
    directory = search.directory()
    out["statements"] = sum(s.count for s in directory)
    out["speakers"] = len(directory)
    people = [s for s in directory if s.kind == "person"][: args.speakers]
    search.search(people[0].name, about="warm-up")
    times = {"name": [], "surname": [], "topic": []}
    for n, person in enumerate(people):
        for kind, name, about in (
            ("name", person.name, None),
            ("surname", person.name.split()[-1], None),
            ("topic", person.name, TOPICS[n % len(TOPICS)]),
        ):
            started = time.perf_counter()
            search.search(name, about=about)
            times[kind].append((time.perf_counter() - started) * 1000)
    every = [t for ts in times.values() for t in ts]
    out["searches"] = len(every)
    out["p50_ms"] = round(statistics.median(every), 1)
    out["p95_ms"] = round(percentile(every, 0.95), 1)
    for kind, ts in times.items():
        out[f"p95_ms_{kind}"] = round(percentile(ts, 0.95), 1)
    out["most_quoted"] = [f"{s.name} ({s.count})" for s in people[:8]]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for key, value in out.items():
            print(f"{key:26} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
