"""One-article text files: the newsroom's .txt export, plain text with front matter, Markdown.

The newsroom export is ` date YYYY-MM-DD <body>` with paragraphs split by `<BR \\/>`
(cleaning turns those into blank lines). Other .txt and .md files may open with
`key: value` front matter (bare or between --- fences) naming title, date, source or url.
A Markdown file's leading heading is its title.

Shortcut: Markdown is converted with regular expressions, good enough for prose, not for
every CommonMark corner (nested lists and HTML blocks are flattened to paragraphs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.readers.base import Item, SourceFile, make_article
from ingest.readers.decode import load_text

# The newsroom export: optional whitespace, "date 2025-09-05", the body on the same line.
_DATE_LINE = re.compile(r"\A\s*date[ \t]*:?[ \t]+(?P<date>\d[\d./-]*\d)[ \t]*", re.I)
_FRONT_KEYS = {
    "title": "title", "titel": "title", "headline": "title",
    "date": "date", "datum": "date", "published": "date",
    "source": "source", "quelle": "source", "outlet": "source",
    "url": "url", "link": "url",
    "author": None, "autor": None, "tags": None, "category": None, "kategorie": None,
}  # fmt: skip
_FRONT_LINE = re.compile(r"^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Leading `key: value` lines (bare or between --- fences) -> (metadata, rest).

    >>> _front_matter("---\\ntitle: Kiew\\ndate: 2025-09-05\\n---\\nText")
    ({'title': 'Kiew', 'date': '2025-09-05'}, 'Text')
    >>> _front_matter("Titel: Wien\\nAuthor: X\\n\\nText")
    ({'title': 'Wien'}, 'Text')
    """
    lines = text.lstrip("\n").split("\n", 40)[:40]
    fenced = bool(lines) and lines[0].strip() == "---"
    meta: dict[str, str] = {}
    consumed = 1 if fenced else 0
    for line in lines[consumed:]:
        if fenced and line.strip() in ("---", "..."):
            consumed += 1
            break
        m = _FRONT_LINE.match(line)
        if not m or m[1].lower() not in _FRONT_KEYS:
            if fenced:
                return {}, text  # not front matter we understand: leave the text alone
            break
        if (key := _FRONT_KEYS[m[1].lower()]) and m[2]:
            meta.setdefault(key, m[2].strip("\"'"))
        consumed += 1
    else:
        if fenced:
            return {}, text  # no closing fence
    if not consumed or (not meta and not fenced):
        return {}, text
    rest = text.lstrip("\n").split("\n", consumed)
    return meta, rest[consumed].lstrip("\n") if len(rest) > consumed else ""


def read_txt(f: SourceFile) -> Iterator[Item]:
    """One article from a .txt file: the newsroom export, or text with optional front matter."""
    text = yield from load_text(f)
    if text is None:
        return
    if m := _DATE_LINE.match(text):
        meta, body = {"date": m["date"]}, text[m.end() :]
    else:
        meta, body = _front_matter(text)
    yield from make_article(
        f,
        f.rel,
        body,
        title=meta.get("title", ""),
        date=meta.get("date"),
        source=meta.get("source", ""),
        url=meta.get("url", ""),
    )


_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_MD_QUOTE = re.compile(r"^\s*(>\s?)+")
_MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_MD_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images: alt text is rarely article text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # <https://…>
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|~])"), r"\1"),  # backslash escapes
]


def _markdown_to_text(md: str) -> tuple[str, str]:
    """(title, text) of Markdown: a leading heading is the title; markup is dropped.

    >>> _markdown_to_text("# Kiew\\n\\nDie **Front** hält,\\nsagt [er](http://x).\\n\\n- a\\n- b")
    ('Kiew', 'Die Front hält, sagt er.\\n\\na\\n\\nb')
    """
    title, paragraphs, current = "", [], []
    lines = md.replace("\r\n", "\n").split("\n")

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _MD_FENCE.match(line):  # code block: keep its lines as they are
            flush()
            end = next((j for j in range(i + 1, len(lines)) if _MD_FENCE.match(lines[j])), None)
            block = lines[i + 1 : end] if end is not None else lines[i + 1 :]
            paragraphs.append("\n".join(block))
            i = (end if end is not None else len(lines)) + 1
            continue
        heading = _MD_HEADING.match(line)
        if not heading and line.strip() and _MD_SETEXT.match(nxt) and not _MD_ITEM.match(line):
            heading, i = re.match(r"\s*(.*)", line), i + 1
        if heading:
            flush()
            text = _md_inline(heading[1])
            if not title and not paragraphs:
                title = text
            else:
                paragraphs.append(text)
        elif not line.strip() or _MD_RULE.match(line) or _MD_LINK_DEF.match(line):
            flush()
        elif _MD_TABLE_RULE.match(line) and "|" in line:
            pass
        elif line.lstrip().startswith("|"):
            flush()
            cells = [_md_inline(c.strip()) for c in line.strip().strip("|").split("|")]
            paragraphs.append(" | ".join(c for c in cells if c))
        else:
            body = _MD_QUOTE.sub("", line)
            if item := _MD_ITEM.match(body):
                flush()
                body = body[item.end() :]
            current.append(_md_inline(body.strip()))
        i += 1
    flush()
    return title, "\n\n".join(p for p in paragraphs if p.strip())


def _md_inline(text: str) -> str:
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return text


def read_md(f: SourceFile) -> Iterator[Item]:
    """One article from a Markdown file; front matter or the leading heading gives the title."""
    text = yield from load_text(f)
    if text is None:
        return
    meta, body = _front_matter(text)
    heading, body = _markdown_to_text(body)
    yield from make_article(
        f,
        f.rel,
        body,
        title=meta.get("title") or heading,
        date=meta.get("date"),
        source=meta.get("source", ""),
        url=meta.get("url", ""),
    )
