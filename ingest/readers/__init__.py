"""Corpus files -> `Article` records, one reader per format, tolerant of bad input.

Every reader yields `Article`s and `Problem`s; nothing a file contains makes
`read_sources` raise. A `Problem` either skips a file/record (`skipped=True`) or is a
warning about an article that was still read (encoding fallback, unparseable date).

Formats: the newsroom's .txt (` date YYYY-MM-DD <body>`, paragraphs split by `<BR \\/>`),
plain .txt, Markdown, JSON (array, object holding a list, or one record), JSON Lines,
CSV/TSV (with a header, or header-less with column names given), saved HTML pages
(text and metadata by trafilatura).

Article ids are stable: the path relative to the folder given (POSIX form) for
one-article files; `<relpath>:<record id>` or `<relpath>:<n>` for records, where n is the
1-based line (JSON Lines), data row (CSV, header excluded) or array position (JSON).

Shortcuts: JSON Lines and CSV are streamed line by line; a .json file that is not JSON
Lines is loaded whole (up to 256 MiB). Markdown is converted with regular expressions,
good enough for prose, not for every CommonMark corner. Bytes that are not UTF-8 are read
as cp1252 (Western European, a superset of Latin-1 as browsers treat it) unless
charset-normalizer recognises a Cyrillic or Greek code page.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.clean import clean_text, derive_title, parse_date
from rag.schema import Article

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".html", ".htm"}
)
_JSON_WHOLE_LIMIT = 256 * 2**20  # bytes: larger .json arrays must be converted to JSON Lines
_SNIFF_CHARS = 256 * 1024
_CSV_DEFAULT_FIELD_LIMIT = 131_072


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


# --- walking ------------------------------------------------------------------------


def read_sources(paths: Sequence[Path], options: ReadOptions = ReadOptions()) -> Iterator[Item]:
    """Read every file under `paths` (files or folders); problems are yielded, never raised."""
    for entry in walk(paths):
        if isinstance(entry, Problem):
            yield entry
        else:
            yield from read_file(entry[1], entry[0], options)


def iter_files(paths: Sequence[Path]) -> Iterator[tuple[Path, Path]]:
    """(root, file) for each file under `paths`, sorted, hidden entries skipped.

    A folder given is the root of the files under it; a file given has its parent as
    root. Paths that cannot be walked are left out; `walk` and `read_sources` report them.
    """
    for entry in walk(paths):
        if not isinstance(entry, Problem):
            yield entry


def walk(paths: Sequence[Path]) -> Iterator[tuple[Path, Path] | Problem]:
    """`iter_files`, plus a Problem for each path that cannot be walked (missing, loop, …)."""
    seen: set[Path] = set()  # resolved files already yielded: a file given twice is read once
    for given in map(Path, paths):
        try:
            if given.is_dir():
                yield from _walk_folder(given, given, seen, frozenset())
            elif given.is_file():
                if _first_visit(given, seen):
                    yield given.parent, given
            elif given.is_symlink():
                yield Problem(str(given), None, "broken symbolic link or symlink loop")
            elif given.exists():
                yield Problem(str(given), None, "not a regular file or folder")
            else:
                yield Problem(str(given), None, "no such file or folder")
        except OSError as exc:
            yield Problem(str(given), None, f"cannot access: {_os_reason(exc)}")


def _walk_folder(
    root: Path, folder: Path, seen: set[Path], ancestors: frozenset[Path]
) -> Iterator[tuple[Path, Path] | Problem]:
    real = folder.resolve()
    if real in ancestors:
        yield Problem(str(folder), None, "symlink loop (links back to a parent folder); skipped")
        return
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        yield Problem(str(folder), None, f"cannot list folder: {_os_reason(exc)}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                yield from _walk_folder(root, entry, seen, ancestors | {real})
            elif entry.is_file():
                if _first_visit(entry, seen):
                    yield root, entry
            elif entry.is_symlink():
                yield Problem(str(entry), None, "broken symbolic link or symlink loop")
            else:
                yield Problem(str(entry), None, "not a regular file (device, socket or pipe)")
        except OSError as exc:
            yield Problem(str(entry), None, f"cannot access: {_os_reason(exc)}")


def _first_visit(path: Path, seen: set[Path]) -> bool:
    real = path.resolve()
    if real in seen:
        return False
    seen.add(real)
    return True


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- one file -----------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    path: Path
    shown: str  # for messages
    rel: str  # id base: path relative to root, POSIX form
    resolved: str
    options: ReadOptions


def read_file(path: Path, root: Path, options: ReadOptions = ReadOptions()) -> Iterator[Item]:
    """Articles and problems from one file; `root` is the folder its id is relative to."""
    path, shown = Path(path), str(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        kind = path.suffix or "(no extension)"
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        yield Problem(shown, None, f"unknown file type {kind} (supported: {supported})")
        return
    try:
        if path.is_dir():
            yield Problem(shown, None, "is a folder, not a file")
            return
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = path.name
        f = _File(path, shown, rel, str(path.resolve()), options)
        yield from reader(f)
    except OSError as exc:
        yield Problem(shown, None, f"cannot read: {_os_reason(exc)}")
    except (RecursionError, MemoryError) as exc:  # absurdly nested or huge JSON
        yield Problem(shown, None, f"cannot read: {type(exc).__name__}")


def _article(
    f: _File,
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


# --- bytes -> text ------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Code pages charset-normalizer may pick; a pick of another script's page is trusted,
# a Western/Central European pick is replaced by cp1252 (its guesses there are noise).
_LEGACY_CANDIDATES = ["cp1252", "cp1250", "cp1251", "cp1253", "koi8_r", "iso8859_5", "iso8859_7"]
_NON_LATIN = {"cp1251", "cp1253", "koi8_r", "iso8859_5", "iso8859_7"}
_BINARY = "binary file (contains NUL bytes), not text; if it is UTF-16 text, save it as UTF-8"


def _bom_encoding(head: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head[:8192] and not _bom_encoding(head)


def _legacy_encoding(data: bytes) -> str:
    """The code page of bytes that are not UTF-8: cp1252 unless clearly another script."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000], cp_isolation=_LEGACY_CANDIDATES).best()
    except Exception:  # a guesser failing must not stop reading; cp1252 is the safe default
        best = None
    return best.encoding if best is not None and best.encoding in _NON_LATIN else "cp1252"


def _decode(data: bytes) -> tuple[str, str | None]:
    """Text of a whole file and a warning when it was not clean UTF-8/UTF-16/UTF-32."""
    bom = _bom_encoding(data)
    if bom:
        try:
            return data.decode(bom), None
        except UnicodeDecodeError:
            name = bom.removesuffix("-sig").upper()
            return data.decode(bom, errors="replace"), f"invalid {name}; bad bytes shown as �"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        enc = _legacy_encoding(data)
        return data.decode(enc, errors="replace"), f"not valid UTF-8; read as {enc}"


def _load_text(f: _File) -> Iterator[Problem]:
    """Generator returning a one-article file's text (None = skipped, Problem yielded)."""
    size = f.path.stat().st_size
    limit = f.options.max_article_chars * 4
    if size == 0:
        yield Problem(f.shown, None, "empty file")
        return None
    if size > limit:
        yield Problem(
            f.shown,
            None,
            f"file has {size:,} bytes, over the {limit:,}-byte limit for one article "
            "(4 bytes per allowed character); split it or raise RAG_MAX_ARTICLE_CHARS",
        )
        return None
    data = f.path.read_bytes()
    if _is_binary(data):
        yield Problem(f.shown, None, _BINARY)
        return None
    text, warning = _decode(data)
    if warning:
        yield Problem(f.shown, None, warning, skipped=False)
    return text


class _Lines:
    """A file's text lines, streamed, each decoded on its own (files can mix encodings).

    Problems met while reading (encoding fallback, overlong line) collect in `problems`
    for the caller to yield. `line_limit` bounds memory: longer lines are skipped.
    """

    def __init__(self, f: _File, line_limit: int | None):
        self.f, self.line_limit = f, line_limit
        self.problems: list[Problem] = []
        self.fallback: str | None = None
        self.binary = False
        self._buffer: list[str] = []
        self._lines = self._read()

    def head(self, max_chars: int) -> list[str]:
        """The first lines (about max_chars), kept to be yielded again by iteration."""
        total = 0
        for line in self._lines:
            self._buffer.append(line)
            total += len(line)
            if total >= max_chars:
                break
        return list(self._buffer)

    def __iter__(self) -> Iterator[str]:
        while self._buffer:
            yield self._buffer.pop(0)
        yield from self._lines

    def _read(self) -> Iterator[str]:
        with self.f.path.open("rb") as fh:
            head = fh.peek(8192)[:8192]  # peek, not read+seek: pipes cannot seek
            if _is_binary(head):
                self.binary = True
                self.problems.append(Problem(self.f.shown, None, _BINARY))
                return
            bom = _bom_encoding(head)
            if bom and bom != "utf-8-sig":  # UTF-16/32 cannot be split at b"\n"
                text = io.TextIOWrapper(fh, encoding=bom, errors="replace", newline="")
                yield from self._limited(text, "\n")
                return
            if bom:
                fh.read(len(codecs.BOM_UTF8))
            for number, raw in enumerate(self._limited(fh, b"\n"), 1):
                yield raw if isinstance(raw, str) else self._decode_line(raw, number)

    def _limited(self, fh: Any, newline: Any) -> Iterator[Any]:
        limit = self.line_limit or -1
        number = 0
        while line := fh.readline(limit):
            number += 1
            if limit > 0 and len(line) >= limit and not line.endswith(newline):
                while (rest := fh.readline(limit)) and not rest.endswith(newline):
                    pass  # drain the rest of the overlong line without holding it
                reason = f"line longer than {limit:,} characters; skipped"
                self.problems.append(Problem(self.f.shown, number, reason))
                line = newline  # keeps line numbers; readers skip blank lines
            yield line

    def _decode_line(self, raw: bytes, number: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if self.fallback is None:
                self.fallback = _legacy_encoding(raw)
                reason = f"not valid UTF-8 (first at this line); such lines read as {self.fallback}"
                self.problems.append(Problem(self.f.shown, number, reason, skipped=False))
            return raw.decode(self.fallback, errors="replace")


# --- plain text and Markdown --------------------------------------------------------

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


def _read_txt(f: _File) -> Iterator[Item]:
    text = yield from _load_text(f)
    if text is None:
        return
    if m := _DATE_LINE.match(text):
        meta, body = {"date": m["date"]}, text[m.end() :]
    else:
        meta, body = _front_matter(text)
    yield from _article(
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


def _read_md(f: _File) -> Iterator[Item]:
    text = yield from _load_text(f)
    if text is None:
        return
    meta, body = _front_matter(text)
    heading, body = _markdown_to_text(body)
    yield from _article(
        f,
        f.rel,
        body,
        title=meta.get("title") or heading,
        date=meta.get("date"),
        source=meta.get("source", ""),
        url=meta.get("url", ""),
    )


# --- records (JSON, JSON Lines, CSV) ------------------------------------------------


def _norm(key: str) -> str:
    """Field names compared loosely: publishedAt == published_at == "Published At"."""
    return re.sub(r"[\s_\-.]", "", str(key)).lower()


# Accepted field names per Article field, best first (compared after _norm).
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
_KNOWN = {name for names in _FIELDS.values() for name in names}
_LIST_KEYS = ("articles", "data", "items", "results", "records", "documents", "docs", "entries")
_LIST_KEYS += ("posts", "news", "hits", "response", "rows", "stories")
_TEXT_HINT = ", ".join(_FIELDS["text"][:5])


def _flat_fields(record: dict) -> dict[str, Any]:
    """Normalised field name -> value; wrappers such as `fields` or `_source` are opened."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        out.setdefault(_norm(key), value)
    for key, value in record.items():  # one level down, for fields the top level lacks
        if isinstance(value, dict) and _norm(key) not in _KNOWN:
            for k2, v2 in value.items():
                out.setdefault(_norm(k2), v2)
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


def _has_text(fields: dict[str, Any]) -> bool:
    return any(name in fields for name in _FIELDS["text"] + _FIELDS["lede"])


class _Records:
    """Turns the records of one multi-record file into articles, with unique ids."""

    def __init__(self, f: _File):
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
        fields = _flat_fields(record)
        if not _has_text(fields):
            present = ", ".join(list(map(str, record))[:12]) or "none"
            reason = f"record has no text field (looked for {_TEXT_HINT}, …; fields: {present})"
            yield Problem(f.shown, line, reason)
            return
        body, lede = _pick(fields, "text"), _pick(fields, "lede")
        if lede and body:
            lede_clean, body_head = clean_text(lede), clean_text(body[: len(lede) + 2000])
            if lede_clean[:100] not in body_head:
                body = f"{lede}\n\n{body}"
        body = body or lede
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
        yield from _article(
            f,
            article_id,
            body,
            title=_pick(fields, "title"),
            date=_pick(fields, "date") or None,
            source=_pick(fields, "source"),
            url=_pick(fields, "url"),
            line=line,
        )


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def _read_jsonl(f: _File) -> Iterator[Item]:
    lines = _Lines(f, line_limit=f.options.max_article_chars * 4)
    records = _Records(f)
    for number, line in enumerate(lines, 1):
        yield from _drain(lines.problems)
        if not line.strip():
            continue
        try:
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield Problem(f.shown, number, f"malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        yield from records.article(record, number, number)
    yield from _drain(lines.problems)


def _drain(problems: list[Problem]) -> Iterator[Problem]:
    while problems:
        yield problems.pop(0)


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


def _read_json(f: _File) -> Iterator[Item]:
    if _looks_like_json_lines(f.path):
        yield from _read_jsonl(f)
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
    if _is_binary(data):
        yield Problem(f.shown, None, _BINARY)
        return
    text, warning = _decode(data)
    if warning:
        yield Problem(f.shown, None, warning, skipped=False)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(f.shown, exc.lineno, _json_error(exc))
        return
    records = _Records(f)
    if isinstance(value, dict) and _has_text(_flat_fields(value)):
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
    by_name = {_norm(k): v for k, v in value.items()}
    for key in _LIST_KEYS:
        if key in by_name and (found := _find_record_list(by_name[key], depth + 1)) is not None:
            return found
    lists = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    return lists[0] if len(lists) == 1 else None


# --- CSV ----------------------------------------------------------------------------


def _sniff(sample: list[str], options: ReadOptions, tsv: bool) -> tuple[str, str]:
    """(delimiter, quotechar) under which the sample's rows have the most consistent width."""
    delimiters = [options.csv_delimiter] if options.csv_delimiter else [",", ";", "\t", "|"]
    if tsv and not options.csv_delimiter:
        delimiters.insert(0, delimiters.pop(2))
    quotes = [options.csv_quotechar] if options.csv_quotechar else ['"', "'"]
    if len(delimiters) == 1 and len(quotes) == 1:
        return delimiters[0], quotes[0]
    lines = sample[:-1] if len(sample) > 2 else sample  # the last line may be cut off
    best, best_key = (delimiters[0], quotes[0]), None
    for d_rank, delim in enumerate(delimiters):
        for q_rank, quote in enumerate(quotes):
            try:
                widths = [len(r) for r in csv.reader(lines, delimiter=delim, quotechar=quote) if r]
            except csv.Error:
                continue
            if not widths:
                continue
            mode = max(set(widths), key=widths.count)
            opener = re.compile(f"(?:^|{re.escape(delim)}){re.escape(quote)}")
            closer = re.compile(f"{re.escape(quote)}(?:{re.escape(delim)}|\\r?\\n?$)")
            quoted = sum(bool(opener.search(x) and closer.search(x)) for x in lines)
            key = (mode > 1, widths.count(mode) / len(widths), quoted, -d_rank, -q_rank)
            if best_key is None or key > best_key:
                best, best_key = (delim, quote), key
    return best


_COLUMN_NAME = re.compile(r"[^\W\d][\w .\-/()]{0,39}")


def _looks_like_header(row: list[str], sample: list[str], sample_rows: list[list[str]]) -> bool:
    cells = [c.strip() for c in row]
    if not cells or not all(cells) or any(len(c) > 40 for c in cells):
        return False
    if any(_norm(c) in _KNOWN for c in cells):
        return True
    body = sample_rows[1:]
    if body and all(_COLUMN_NAME.fullmatch(c) and not c.endswith(".") for c in cells):
        # Name-like cells over a column whose values are much longer: a header row.
        col = _longest_column(body)
        lengths = [len(r[col]) for r in body if col < len(r)]
        if col < len(cells) and lengths and 2 * len(cells[col]) < sum(lengths) / len(lengths):
            return True
    try:  # let the standard library's heuristic judge (column types, lengths)
        return csv.Sniffer().has_header("".join(sample))
    except csv.Error:
        return False


def _longest_column(rows: list[list[str]]) -> int:
    width = max(map(len, rows))
    totals = [sum(len(r[i]) for r in rows if i < len(r)) for i in range(width)]
    return totals.index(max(totals))


def _read_csv(f: _File) -> Iterator[Item]:
    options = f.options
    # Process-wide setting: set it per file so the limit follows this file's options;
    # never below the standard library's default, which other code may rely on.
    csv.field_size_limit(max(_CSV_DEFAULT_FIELD_LIMIT, options.max_article_chars * 4))
    lines = _Lines(f, line_limit=None)
    sample = lines.head(_SNIFF_CHARS)
    yield from _drain(lines.problems)
    if lines.binary:
        return
    if not sample:
        yield Problem(f.shown, None, "empty file")
        return
    delimiter, quote = _sniff(sample, options, f.path.suffix.lower() == ".tsv")
    dialect = {"delimiter": delimiter, "quotechar": quote}
    sample_rows = [r for r in csv.reader(sample[:-1] or sample, **dialect) if r]
    reader = csv.reader(lines, **dialect)
    records = _Records(f)
    columns: list[str] | None = None
    number = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from _drain(lines.problems)
            number += columns is not None  # keep record numbers aligned with data rows
            reason = f"malformed CSV: {exc}"
            if "field limit" in str(exc):
                reason = f"a field is longer than {csv.field_size_limit():,} characters; skipped"
            yield Problem(f.shown, start, reason)
            if reader.line_num < start:  # nothing consumed: stop rather than spin
                break
            continue
        yield from _drain(lines.problems)
        if not any(c.strip() for c in row):
            continue
        if columns is None:
            columns, is_header, warning = _columns(row, sample, sample_rows, options)
            if warning:
                yield Problem(f.shown, None, warning, skipped=False)
            if is_header:
                continue
        number += 1
        if len(row) != len(columns):
            reason = (
                f"row has {len(row)} fields, expected {len(columns)}; check the "
                f"delimiter ({delimiter!r}) and quote character ({quote!r})"
            )
            yield Problem(f.shown, start, reason)
            continue
        yield from records.article(dict(zip(columns, row, strict=True)), number, start)
    yield from _drain(lines.problems)


def _columns(
    first: list[str],
    sample: list[str],
    sample_rows: list[list[str]],
    options: ReadOptions,
) -> tuple[list[str], bool, str | None]:
    """(column names, whether `first` is the header row, a warning about a guessed text column)."""
    if options.csv_columns:
        names = list(options.csv_columns)
        return names, [_norm(c) for c in first] == [_norm(c) for c in names], None
    if _looks_like_header(first, sample, sample_rows):
        names = [c.strip() for c in first]
        if _has_text({_norm(c): 1 for c in names}):
            return names, True, None
        col = _longest_column(sample_rows[1:] or sample_rows)
        warning = (
            f"no text column in the header (looked for {_TEXT_HINT}, …); "
            f"using {names[col]!r}, the longest, as the article text"
        )
        names[col] = "text"
        return names, True, warning
    width = len(first)
    col = _longest_column(sample_rows)
    names = [f"column {i + 1}" for i in range(width)]
    names[min(col, width - 1)] = "text"
    warning = (
        f"no header row and no column names given; using column {col + 1} of {width} "
        "(the longest) as the article text and ignoring the others; "
        "give the column names to map them (e.g. label,text)"
    )
    return names, False, warning


# --- HTML ---------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _read_html(f: _File) -> Iterator[Item]:
    size = f.path.stat().st_size
    if size == 0:
        yield Problem(f.shown, None, "empty file")
        return
    if size > f.options.max_article_chars * 4:
        reason = f"page has {size:,} bytes, over the limit for one article (RAG_MAX_ARTICLE_CHARS)"
        yield Problem(f.shown, None, reason)
        return
    data = f.path.read_bytes()
    if _is_binary(data):
        yield Problem(f.shown, None, _BINARY)
        return
    page = _decode_declared(data)
    if page is None:
        page, warning = _decode(data)
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
    yield from _article(
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


_READERS = {
    ".txt": _read_txt,
    ".md": _read_md,
    ".markdown": _read_md,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".html": _read_html,
    ".htm": _read_html,
}
