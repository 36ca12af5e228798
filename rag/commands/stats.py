"""`python -m rag stats [--json]`: what the index holds."""

from __future__ import annotations

import json


def configure(sub) -> None:
    p = sub.add_parser("stats", help="show what the index holds")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args, settings) -> int:
    from rag.store import Index

    stats = Index(settings).stats()
    if args.json:
        print(json.dumps(stats.as_dict(), ensure_ascii=False))
        return 0
    print(f"index:           {settings.index_location} (collection {settings.collection!r})")
    print(f"articles:        {stats.articles}")
    print(f"chunks:          {stats.chunks}")
    print(f"embedding model: {stats.embedding_model or '-'}")
    print(f"dates:           {stats.date_min or '-'} .. {stats.date_max or '-'}")
    print(f"last refresh:    {stats.last_refresh or 'never'}")
    print(f"incomplete:      {stats.incomplete_articles}", end="")
    if stats.writer:
        print(f" (an ingest is writing right now, {stats.writer}; its uncommitted articles count)")
    elif stats.incomplete_articles:
        print(" (records without all their chunks; the next `python -m ingest` redoes them)")
    else:
        print()
    if stats.articles == 0:
        print("\nThe index is empty. Fill it with: python -m ingest")
    return 0
