"""Records -> articles: the field names accepted for JSON, JSON Lines and CSV alike.

Field names are compared loosely (`publishedAt` == `published_at` == "Published At") and
looked up in one table of accepted names per Article field; wrapper objects such as
`fields` or `_source` are opened one level down. `Records` turns the records of one file
into articles with unique ids: `<relpath>:<record id>`, else `<relpath>:<n>`.

Shortcuts: the first accepted name with a non-empty value wins; a lede/teaser is put in
front of the body unless the body already starts with it (first 100 characters compared).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ingest.clean import clean_text
from ingest.readers.base import Item, Problem, SourceFile, make_article


def norm_key(key: str) -> str:
    """Field names compared loosely: publishedAt == published_at == "Published At"."""
    return re.sub(r"[\s_\-.]", "", str(key)).lower()


# Accepted field names per Article field, best first (compared after norm_key).
_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "articleid", "docid", "documentid", "guid", "uuid", "uid"),
    "title": ("title", "headline", "heading", "webtitle", "titel", "ueberschrift", "überschrift"),
    "date": (
        "date", "published", "publishedat", "publicationdate", "datepublished", "pubdate",
        "publishdate", "webpublicationdate", "datetime", "created", "createdat", "timestamp",
        "datum", "time", "updated", "updatedat", "modified",
    ),
    "url": ("url", "link", "href", "permalink", "canonicalurl", "weburl", "sourceurl", "uri"),
    "source": (
        "source", "outlet", "publisher", "sitename", "site", "publication", "newspaper",
        "medium", "quelle", "domain", "feed",
    ),
    "text": (
        "text", "body", "content", "article", "fulltext", "articletext", "bodytext",
        "maintext", "articlebody", "story", "plaintext", "html", "inhalt",
    ),
    # Lede/teaser: the text when there is no body, else its first paragraph if missing there.
    "lede": (
        "description", "teaser", "lead", "lede", "summary", "abstract", "subtitle",
        "subheadline", "intro", "standfirst", "snippet",
    ),
}  # fmt: skip
KNOWN_FIELDS = {name for names in _FIELDS.values() for name in names}
TEXT_HINT = ", ".join(_FIELDS["text"][:5])


def flat_fields(record: dict) -> dict[str, Any]:
    """Normalised field name -> value; wrappers such as `fields` or `_source` are opened."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        out.setdefault(norm_key(key), value)
    for key, value in record.items():  # one level down, for fields the top level lacks
        if isinstance(value, dict) and norm_key(key) not in KNOWN_FIELDS:
            for k2, v2 in value.items():
                out.setdefault(norm_key(k2), v2)
    return out


def _value_text(value: Any) -> str:
    """A field value as text: lists become paragraphs, objects give their name/text."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "\n\n".join(t for t in map(_value_text, value) if t.strip())
    if isinstance(value, dict):
        for key in ("name", "main", "title", "text", "value", "content", "url", "href"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
    return ""


def _pick(fields: dict[str, Any], kind: str) -> str:
    for name in _FIELDS[kind]:
        if name in fields and (text := _value_text(fields[name]).strip()):
            return text
    return ""


# Keys of a date wrapped in an object: MongoDB's {"$date": …}, {"value": …}, … (norm_key).
_DATE_KEYS = ("$date", "date", "value", "iso", "datetime", "timestamp")


def _pick_date(fields: dict[str, Any]) -> tuple[Any, str | None]:
    """(the date value, a warning when the date field holds something that is no date).

    >>> _pick_date({"date": {"$date": "2025-09-05"}}), _pick_date({"date": True})
    (('2025-09-05', None), (None, 'date field "date" is true, not a date; read without a date'))
    """
    for name in _FIELDS["date"]:
        value = fields.get(name)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, dict):
            inner = {norm_key(k): v for k, v in value.items()}
            value = next((inner[k] for k in _DATE_KEYS if inner.get(k) not in (None, "")), value)
        plain = isinstance(value, str | int | float | list) and not isinstance(value, bool)
        if plain and (text := _value_text(value).strip()):
            return text, None
        return None, f'date field "{name}" is {_kind(value)}, not a date; read without a date'
    return None, None


def _kind(value: Any) -> str:
    """What a JSON value is, in words: true, an object, a list."""
    if isinstance(value, bool):
        return json.dumps(value)
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def has_text(fields: dict[str, Any]) -> bool:
    """True when normalised `fields` include a text or lede field."""
    return any(name in fields for name in _FIELDS["text"] + _FIELDS["lede"])


class Records:
    """Turns the records of one multi-record file into articles, with unique ids."""

    def __init__(self, f: SourceFile):
        self.f = f
        self.ids: dict[str, int] = {}

    def article(
        self, record: Any, number: int, line: int | None, whole_file: bool = False
    ) -> Iterator[Item]:
        f = self.f
        if isinstance(record, str):
            record = {"text": record}
        if not isinstance(record, dict):
            kind = type(record).__name__
            yield Problem(f.shown, line, f"record {number} is a {kind}, not an object; skipped")
            return
        fields = flat_fields(record)
        if not has_text(fields):
            present = ", ".join(list(map(str, record))[:12]) or "none"
            reason = f"record has no text field (looked for {TEXT_HINT}, …; fields: {present})"
            yield Problem(f.shown, line, reason)
            return
        body, lede = _pick(fields, "text"), _pick(fields, "lede")
        if lede and body:
            lede_clean, body_head = clean_text(lede), clean_text(body[: len(lede) + 2000])
            if lede_clean[:100] not in body_head:
                body = f"{lede}\n\n{body}"
        body = body or lede
        date, date_problem = _pick_date(fields)
        if date_problem:
            yield Problem(f.shown, line, date_problem, skipped=False)
        own_id = _pick(fields, "id")
        if whole_file:
            article_id = f.rel
        else:
            article_id = f"{f.rel}:{own_id}" if own_id else f"{f.rel}:{number}"
            if article_id in self.ids:
                first = self.ids[article_id]
                reason = f"duplicate id {article_id!r} (first at {first}); record skipped"
                yield Problem(f.shown, line, reason)
                return
            self.ids[article_id] = line or number
        yield from make_article(
            f,
            article_id,
            body,
            title=_pick(fields, "title"),
            date=date,
            source=_pick(fields, "source"),
            url=_pick(fields, "url"),
            line=line,
        )
