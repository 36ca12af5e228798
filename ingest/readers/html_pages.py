"""Saved HTML pages: the article text and metadata, extracted by trafilatura.

The page is decoded with its declared `<meta charset>` when that works (Latin-1 and ASCII
labels read as cp1252, as browsers do), else like any other text file.

Shortcuts: one page is one article; trafilatura decides what is article text and drops
navigation, comments and boilerplate; a headline repeated as the first line is dropped.
trafilatura is imported when the first page is read, so other formats never load it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.readers.base import Item, Problem, SourceFile, make_article
from ingest.readers.decode import BINARY, decode_bytes, is_binary

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def read_html(f: SourceFile) -> Iterator[Item]:
    """One article from a saved HTML page."""
    size = f.path.stat().st_size
    if size == 0:
        yield Problem(f.shown, None, "empty file")
        return
    if size > f.options.max_article_chars * 4:
        reason = f"page has {size:,} bytes, over the limit for one article (RAG_MAX_ARTICLE_CHARS)"
        yield Problem(f.shown, None, reason)
        return
    data = f.path.read_bytes()
    if is_binary(data):
        yield Problem(f.shown, None, BINARY)
        return
    page = _decode_declared(data)
    if page is None:
        page, warning = decode_bytes(data)
        if warning:
            yield Problem(f.shown, None, warning, skipped=False)
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(
            page,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={"extensive_search": True, "original_date": True},
        )
    except Exception as exc:  # lxml/trafilatura on arbitrary markup: report, don't crash
        yield Problem(f.shown, None, f"could not parse HTML: {type(exc).__name__}: {exc}")
        return
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    if not text.strip():
        reason = (
            "no article text found in this HTML page; "
            "save the article page itself, or its text as .txt"
        )
        yield Problem(f.shown, None, reason)
        return
    title = getattr(doc, "title", None) or ""
    lines = [line for line in text.split("\n") if line.strip()]
    if lines and title and lines[0].strip() == title.strip():
        lines = lines[1:]  # the headline repeated as the first line
    yield from make_article(
        f,
        f.rel,
        "\n\n".join(lines),  # trafilatura puts one paragraph per line
        title=title,
        date=getattr(doc, "date", None),
        source=getattr(doc, "sitename", None) or "",
        url=getattr(doc, "url", None) or "",
    )


_READ_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}


def _decode_declared(data: bytes) -> str | None:
    """Text of a page decoded with its declared <meta charset>, if it declares a usable one."""
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    declared = m[1].decode("ascii").lower()
    # As browsers do (WHATWG Encoding): pages labelled Latin-1 or ASCII are windows-1252.
    if declared in _READ_AS_CP1252:
        declared = "cp1252"
    try:
        return data.decode(declared)
    except (LookupError, UnicodeDecodeError):
        return None
