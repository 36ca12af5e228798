"""`python -m rag ask "question" [--json] [--since DATE] [--until DATE] [--source NAME]`.

Prints the answer and its numbered sources, one per article with its outlet, date, URL
and cited passages (or one JSON object with --json: `Answer.to_dict`). Progress and
notices, including the matching articles a filter left out, go to stderr so stdout stays
clean for pipes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def _iso_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def configure(sub) -> None:
    p = sub.add_parser("ask", help="answer a question from the indexed articles, with sources")
    p.add_argument("question", help="the question, in English or German")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--since", type=_iso_date, metavar="DATE", help="only articles from DATE on")
    p.add_argument("--until", type=_iso_date, metavar="DATE", help="only articles up to DATE")
    p.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="only articles from this source (repeatable)",
    )
    p.set_defaults(run=run)


def run(args, settings) -> int:
    from rag.assistant import Assistant, Status
    from rag.errors import UserError
    from rag.retrieve import Filters
    from rag.store import Index

    if not args.question.strip():
        raise UserError('The question is empty. Example: python -m rag ask "What did Peskow say?"')
    filters = Filters(date_from=args.since, date_to=args.until, sources=tuple(args.source))
    index = Index(settings)
    if index.chunks.count() == 0:
        raise UserError("The index is empty. Run: python -m ingest")
    assistant = Assistant.from_settings(settings, index=index)
    answer = None
    for event in assistant.stream(args.question, filters=filters):
        if isinstance(event, Status) and sys.stderr.isatty():
            print(event.text, file=sys.stderr)
        answer = getattr(event, "answer", answer)
    assert answer is not None
    if args.json:
        print(answer.to_json())
        return 0
    from rag.answer import describe_filters

    active = describe_filters(answer.filters)
    if active:
        print("filters: " + "; ".join(active), file=sys.stderr)
    for notice in answer.notices:
        print(f"note: {notice}", file=sys.stderr)
    print(answer.text)
    sources = answer.sources
    if sources:
        print(f"\nSources ({len(sources)}):")
        for src in sources:
            meta = ", ".join(x for x in (src.source, src.date) if x)
            flag = "" if src.supported else "  [not clearly supported]"
            print(f"[{src.n}] {src.label}" + (f" ({meta})" if meta else "") + flag)
            if src.url:
                print(f"    {src.url}")
            for p in src.passages:
                quote = " ".join(p.quote.split())
                print(f"    › {quote[:300]}{'…' if len(quote) > 300 else ''}")
    return 0
