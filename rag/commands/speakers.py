"""`python -m rag speakers [--json]`: who is quoted in the index, how often, and when.

One line per speaker (persons and institutions with a name), most quoted first: name,
role, number of statements, first and last date. `--json` prints `{"speakers": [{"speaker",
"kind", "role", "count", "first_date", "last_date"}]}`.
"""

from __future__ import annotations

import json


def configure(sub) -> None:
    p = sub.add_parser("speakers", help="who is quoted how often (statement index)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args, settings) -> int:
    from rag.commands.quotes import open_search

    speakers = open_search(settings).directory()
    if args.json:
        print(json.dumps({"speakers": [s.to_dict() for s in speakers]}, ensure_ascii=False))
        return 0
    if not speakers:
        print("No statements with a named speaker in the index.")
        return 0
    width = min(40, max(len(s.name) for s in speakers))
    for s in speakers:
        dates = s.first_date or "?"
        if s.last_date and s.last_date != s.first_date:
            dates += f" – {s.last_date}"
        role = f" ({s.role})" if s.role else (" (institution)" if s.kind == "institution" else "")
        print(f"{s.count:6}  {s.name:{width}}  {dates}{role}")
    return 0
