"""`python -m rag stats [--json]`: what the index holds.

Besides the chunk index's numbers (rag.store `Stats`), `statements` (statements of the
committed article versions) and `speakers` (named speakers among them; see
`python -m rag speakers`), both 0 for an index without a statement index.
"""

from __future__ import annotations

import json


def configure(sub) -> None:
    p = sub.add_parser("stats", help="show what the index holds")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args, settings) -> int:
    from rag.store import Index

    index = Index(settings)
    stats = index.stats()
    statements, speakers = statement_counts(index)
    if args.json:
        out = {**stats.as_dict(), "statements": statements, "speakers": speakers}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"index:           {settings.index_location} (collection {settings.collection!r})")
    print(f"articles:        {stats.articles}")
    print(f"chunks:          {stats.chunks}")
    print(f"statements:      {statements} by {speakers} named speakers")
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


def statement_counts(index) -> tuple[int, int]:
    """(statements, named speakers) of the committed article versions."""
    from rag.quotes.search import build_directory
    from rag.quotes.store import StatementIndex

    store = StatementIndex(index)
    rows = store.committed(store.rows(documents=False))
    return len(rows), len(build_directory(rows))
