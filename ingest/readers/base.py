"""What every reader shares: options, problems, the file being read, and the last step.

`make_article` is the one way a reader produces an `Article`: it cleans the text, applies
the length limit, parses the date (an unparseable one is a warning, not a skip) and fills
in a missing title or source. `SourceFile` carries what a reader needs to know about its
file: the path, how to show it in messages, the id base and the options.

Lone surrogates (JSON escapes like `\\ud83d`, half an emoji) are valid in a Python string
but not in UTF-8, so no index can store them: `make_article` replaces them with U+FFFD
and warns.

Shortcut: the per-file context is a plain frozen dataclass passed to each reader, not a
reader class hierarchy; readers are plain generator functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.clean import clean_text, derive_title, parse_date
from rag.schema import Article

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ReadOptions:
    """How to read files whose format leaves room for doubt."""

    csv_columns: tuple[str, ...] | None = None  # names for a header-less CSV: ("label", "text")
    csv_delimiter: str | None = None  # None = sniff among , ; tab |
    csv_quotechar: str | None = None  # None = sniff among " '
    default_source: str = ""  # source/outlet for records that name none
    max_article_chars: int = 2_000_000  # longer articles are skipped with a Problem


@dataclass(frozen=True)
class Problem:
    """Something wrong with an input file or record, said so the user can fix it."""

    path: str  # the file as given (relative when the user gave a relative folder)
    line: int | None  # 1-based line or record number, when it applies
    reason: str
    skipped: bool = True  # False: warning only, the article was still read

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}{'' if self.skipped else ' (warning)'}"


Item = Article | Problem


@dataclass(frozen=True)
class SourceFile:
    """The file a reader is reading, and what it needs to know about it."""

    path: Path
    shown: str  # for messages
    rel: str  # id base: path relative to root, POSIX form
    resolved: str
    options: ReadOptions


def make_article(
    f: SourceFile,
    article_id: str,
    body: str,
    *,
    title: str = "",
    date: Any = None,
    source: str = "",
    url: str = "",
    line: int | None = None,
) -> Iterator[Item]:
    """Clean and check one article; yields it, or the Problem that skips it, plus warnings."""
    fields = [article_id, body, title, source, url]
    if any(_LONE_SURROGATE.search(x) for x in fields if isinstance(x, str)):
        article_id, body, title, source, url = (
            _LONE_SURROGATE.sub("\ufffd", x) if isinstance(x, str) else x for x in fields
        )
        reason = "invalid characters (lone UTF-16 surrogates) replaced by \ufffd"
        yield Problem(f.shown, line, reason, skipped=False)
    text = clean_text(body)
    if not text:
        yield Problem(f.shown, line, "empty article (no text after cleaning)")
        return
    limit = f.options.max_article_chars
    if len(text) > limit:
        reason = (
            f"article has {len(text):,} characters, over the {limit:,} limit "
            "(raise it with RAG_MAX_ARTICLE_CHARS)"
        )
        yield Problem(f.shown, line, reason)
        return
    iso = None
    if date not in (None, ""):
        iso = parse_date(str(date))
        if iso is None:
            yield Problem(f.shown, line, f"unparseable date {str(date)[:60]!r}", skipped=False)
    title = " ".join(clean_text(title).split()) or derive_title(text)
    source = " ".join(clean_text(source).split()) or f.options.default_source
    yield Article(article_id, text, title, iso, source, url.strip(), f.resolved)
