"""Speed and yield of the statement extractor on the 10kGNAD test split (1,028 articles).

Reads the articles as `python -m ingest` reads them (same readers, same cleaning), runs
`rag.quotes.extract.extract` on each article `--repeat` times and prints: total and
per-article time (median, p95, max), the share of the ingest time that extraction
costs (against `--ingest-seconds`, the measured 10kGNAD ingest in docs/benchmarks.md),
statements per form, speaker kinds, and how many person statements have a resolved name.

    .venv/bin/python bench/quotes.py [--data PATH/10kGNAD/test.csv] [--repeat 3] [--json]

The data set is CC BY-NC-SA 4.0 and is not shipped; without it the script says where
to put it and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "10kGNAD" / "test.csv"
INGEST_SECONDS = 142.0  # docs/benchmarks.md: 10kGNAD ingest, default settings, quiet machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="10kGNAD test.csv")
    parser.add_argument("--repeat", type=int, default=3, help="runs over the corpus (best kept)")
    parser.add_argument("--ingest-seconds", type=float, default=INGEST_SECONDS)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"10kGNAD not found at {args.data}; pass --data PATH/10kGNAD/test.csv")
        return 0

    from ingest.readers import ReadOptions, read_sources
    from rag.quotes.extract import extract
    from rag.schema import Article

    options = ReadOptions(csv_columns=("label", "text"), csv_delimiter=";", csv_quotechar="'")
    texts = [a.text for a in read_sources([args.data], options) if isinstance(a, Article)]

    best: list[float] | None = None
    statements = []
    for _ in range(max(1, args.repeat)):
        times, statements = [], []
        for text in texts:
            started = time.perf_counter()
            found = extract(text)
            times.append(time.perf_counter() - started)
            statements.extend(found)
        if best is None or sum(times) < sum(best):
            best = times
    assert best is not None
    ordered = sorted(best)
    total = sum(best)
    persons = [s for s in statements if s.kind == "person"]
    result = {
        "articles": len(texts),
        "statements": len(statements),
        "seconds": round(total, 3),
        "ms_per_article": {
            "mean": round(1000 * total / len(texts), 2),
            "median": round(1000 * statistics.median(best), 2),
            "p95": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max": round(1000 * ordered[-1], 2),
        },
        "share_of_ingest": round(total / args.ingest_seconds, 4),
        "forms": dict(Counter(s.form for s in statements)),
        "kinds": dict(Counter(s.kind for s in statements)),
        "persons_named": round(sum(1 for s in persons if s.speaker) / max(1, len(persons)), 3),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    ms = result["ms_per_article"]
    print(f"{result['articles']} articles, {result['statements']} statements")
    print(
        f"extraction: {total:.2f} s (best of {args.repeat}), per article mean {ms['mean']} ms, "
        f"median {ms['median']} ms, p95 {ms['p95']} ms, max {ms['max']} ms"
    )
    print(
        f"share of the {args.ingest_seconds:.0f} s ingest: {100 * result['share_of_ingest']:.1f} %"
    )
    print(f"forms: {result['forms']}  kinds: {result['kinds']}")
    print(f"person statements with a resolved name: {100 * result['persons_named']:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
