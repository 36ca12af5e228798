"""JSON and JSON Lines files: an array, an object holding a list, one record, or a line each.

A .json file that is really JSON Lines (a whole value on its first line, more after) is
read as JSON Lines. Record numbers are the 1-based line (JSON Lines) or array position.

Shortcuts: JSON Lines is streamed line by line; a .json file is loaded whole (up to
256 MiB, or more when the article limit is higher), so huge arrays must be converted to
JSON Lines. The record list is searched at most three objects deep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.readers.base import Item, Problem, SourceFile
from ingest.readers.decode import BINARY, Lines, decode_bytes, drain, is_binary
from ingest.readers.records import Records, flat_fields, has_text, norm_key

_JSON_WHOLE_LIMIT = 256 * 2**20  # bytes: larger .json arrays must be converted to JSON Lines
# Keys under which a JSON document may hold its list of records (compared after norm_key).
_LIST_KEYS = ("articles", "data", "items", "results", "records", "documents", "docs", "entries")
_LIST_KEYS += ("posts", "news", "hits", "response", "rows", "stories")


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def read_jsonl(f: SourceFile) -> Iterator[Item]:
    """Articles from a JSON Lines file, one record per line."""
    lines = Lines(f, line_limit=f.options.max_article_chars * 4)
    records = Records(f)
    for number, line in enumerate(lines, 1):
        yield from drain(lines.problems)
        if not line.strip():
            continue
        try:
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield Problem(f.shown, number, f"malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        yield from records.article(record, number, number)
    yield from drain(lines.problems)


def _looks_like_json_lines(path: Path) -> bool:
    """True when the first line is a whole JSON value and more follows (JSON Lines in .json)."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
        rest = fh.read(4096).strip()
    if not rest or not first.strip():
        return False
    try:
        json.loads(first.decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError:
        return False
    return rest[:1] in (b"{", b"[", b'"')


def read_json(f: SourceFile) -> Iterator[Item]:
    """Articles from a .json file: a list of records, or one record (then the id is the path)."""
    if _looks_like_json_lines(f.path):
        yield from read_jsonl(f)
        return
    size = f.path.stat().st_size
    if size > max(_JSON_WHOLE_LIMIT, f.options.max_article_chars * 4):
        reason = (
            f"JSON file of {size:,} bytes is too large to load at once; "
            "convert it to JSON Lines (.jsonl, one record per line)"
        )
        yield Problem(f.shown, None, reason)
        return
    if size == 0:
        yield Problem(f.shown, None, "empty file")
        return
    data = f.path.read_bytes()
    if is_binary(data):
        yield Problem(f.shown, None, BINARY)
        return
    text, warning = decode_bytes(data)
    if warning:
        yield Problem(f.shown, None, warning, skipped=False)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(f.shown, exc.lineno, _json_error(exc))
        return
    records = Records(f)
    if isinstance(value, dict) and has_text(flat_fields(value)):
        yield from records.article(value, 1, None, whole_file=True)
        return
    found = _find_record_list(value)
    if found is None:
        keys = ", ".join(map(str, value)) if isinstance(value, dict) else type(value).__name__
        reason = (
            "no articles found: expected a list of records, an object with a list under "
            f"{', '.join(_LIST_KEYS[:4])} …, or one record with a text field (found: {keys[:200]})"
        )
        yield Problem(f.shown, None, reason)
        return
    for number, record in enumerate(found, 1):
        yield from records.article(record, number, number)


def _find_record_list(value: Any, depth: int = 0) -> list | None:
    """The list of records in a JSON document: itself, or a list under a known key."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict) or depth > 3:
        return None
    by_name = {norm_key(k): v for k, v in value.items()}
    for key in _LIST_KEYS:
        if key in by_name and (found := _find_record_list(by_name[key], depth + 1)) is not None:
            return found
    lists = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    return lists[0] if len(lists) == 1 else None
