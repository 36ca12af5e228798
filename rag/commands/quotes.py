"""`python -m rag quotes NAME [--about TEXT] [--since DATE] [--until DATE] [--limit N] [--json]`.

One person's statements from the statement index (rag.quotes.search): the best matches
for `--about` first, otherwise the newest first. `--json` prints `{"speaker": NAME,
"statements": [...]}` (a contract for scripts: see `StoredStatement.to_dict`); every
`text` is exactly the article text between `start` and `end`. A name nobody in the index
matches is not an error: the list is empty, and the text output suggests close names.
"""

from __future__ import annotations

import argparse
import json

from rag.commands.ask import _iso_date

DEFAULT_LIMIT = 20


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return n


def configure(sub) -> None:
    p = sub.add_parser("quotes", help="what one person said: their statements, with sources")
    p.add_argument("name", help='the speaker, e.g. "Peskow" or "Dmitri Peskow"')
    p.add_argument("--about", metavar="TEXT", help="a topic (English or German); best first")
    p.add_argument("--since", type=_iso_date, metavar="DATE", help="only articles from DATE on")
    p.add_argument("--until", type=_iso_date, metavar="DATE", help="only articles up to DATE")
    p.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N statements (default {DEFAULT_LIMIT})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def open_search(settings):
    """The statement search over the settings' index; a clear error when it is empty."""
    from rag.errors import UserError
    from rag.quotes.search import StatementSearch
    from rag.store import Index

    index = Index(settings)
    if index.articles.count() == 0:
        raise UserError("The index is empty. Run: python -m ingest")
    search = StatementSearch.from_settings(settings, index=index)
    if search.statements.collection(create=False) is None:
        raise UserError(
            "The index has no statement index yet (it was built before statements were "
            "extracted). Run: python -m ingest"
        )
    return search


def run(args, settings) -> int:
    from rag.errors import UserError
    from rag.quotes import names
    from rag.retrieve import Filters

    if not names.full_key(args.name):
        raise UserError('The name is empty. Example: python -m rag quotes "Peskow"')
    filters = Filters(date_from=args.since, date_to=args.until)
    search = open_search(settings)
    result = search.search(args.name, about=args.about, filters=filters, limit=args.limit)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    if not result.speakers:
        print(f"No statements by {args.name} in the index.")
        close = search.suggest(args.name)
        if close:
            print("Did you mean: " + ", ".join(close) + "?")
        print("`python -m rag speakers` lists everyone quoted.")
        return 0
    print(_heading(result, args))
    for n, st in enumerate(result.statements, 1):
        meta = " · ".join(x for x in (st.date or "undated", st.source, st.title) if x)
        how = ", ".join(
            [st.form]
            + ([f"“{st.cue}”"] if st.cue else [])
            + ([f"named as “{st.mention}”"] if st.mention and st.mention != st.speaker else [])
        )
        print(f"\n[{n}] {meta}\n    {st.speaker} — {how}")
        print(f"    {' '.join(st.text.split())}")
    return 0


def _heading(result, args) -> str:
    who = "; ".join(s.name + (f" ({s.role})" if s.role else "") for s in result.speakers[:3])
    shown = len(result.statements)
    what = f"{result.total} statement{'s' if result.total != 1 else ''}"
    if shown < result.total:
        what += f", {shown} shown (--limit)"
    if args.about:
        return f"{who}: {what}, best matches for {args.about!r} first"
    if not result.total:
        return f"{who}: no statements in this date range"
    return f"{who}: {what}, newest first"
