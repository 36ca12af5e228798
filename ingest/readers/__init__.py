"""Corpus files -> `Article` records, one reader per format, tolerant of bad input.

Every reader yields `Article`s and `Problem`s; nothing a file contains makes
`read_sources` raise. A `Problem` either skips a file/record (`skipped=True`) or is a
warning about an article that was still read (encoding fallback, unparseable date).

Formats: the newsroom's .txt (` date YYYY-MM-DD <body>`, paragraphs split by `<BR \\/>`),
plain .txt, Markdown, JSON (array, object holding a list, or one record), JSON Lines,
CSV/TSV (with a header, or header-less with column names given), saved HTML pages
(text and metadata by trafilatura).

Article ids are stable: the path relative to the folder given (POSIX form; the bytes
of a name that is not UTF-8 written as `\\xNN`, see `files.escape_name`) for one-article
files; `<relpath>:<record id>` or `<relpath>:<n>` for records, where n is the 1-based
line (JSON Lines), data row (CSV, header excluded) or array position (JSON).

This module is the public API and the suffix -> reader table; the package's modules each
do one job: `files` (walking folders), `decode` (bytes -> text), `base` (options, problems,
the clean-and-check step every article passes), and one module per family of formats:
`text` (.txt, Markdown), `records` (field names shared by JSON and CSV), `json_files`,
`tables` (CSV/TSV), `html_pages`. Each module's docstring names its shortcuts.

Shortcut: a file's format is its suffix (only a .json file is checked for JSON Lines).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.readers.base import Item, Problem, ReadOptions, SourceFile
from ingest.readers.files import (
    escape_name,
    iter_files,
    os_reason,
    real_path,
    shown_path,
    stored_path,
    unescape_name,
    walk,
)
from ingest.readers.html_pages import read_html
from ingest.readers.json_files import read_json, read_jsonl
from ingest.readers.tables import read_csv
from ingest.readers.text import read_md, read_txt

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Item",
    "Problem",
    "ReadOptions",
    "escape_name",
    "iter_files",
    "read_file",
    "read_sources",
    "real_path",
    "shown_path",
    "stored_path",
    "unescape_name",
    "walk",
]


_READERS = {
    ".txt": read_txt,
    ".md": read_md,
    ".markdown": read_md,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".tsv": read_csv,
    ".html": read_html,
    ".htm": read_html,
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS)
_DEFAULT_OPTIONS = ReadOptions()  # frozen, so one shared default is safe


def read_sources(paths: Sequence[Path], options: ReadOptions = _DEFAULT_OPTIONS) -> Iterator[Item]:
    """Read every file under `paths` (files or folders); problems are yielded, never raised."""
    for entry in walk(paths):
        if isinstance(entry, Problem):
            yield entry
        else:
            yield from read_file(entry[1], entry[0], options)


def read_file(path: Path, root: Path, options: ReadOptions = _DEFAULT_OPTIONS) -> Iterator[Item]:
    """Articles and problems from one file; `root` is the folder its id is relative to."""
    path, shown = Path(path), shown_path(path)
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
        f = SourceFile(path, shown, escape_name(rel), stored_path(path), options)
        yield from reader(f)
    except OSError as exc:
        yield Problem(shown, None, f"cannot read: {os_reason(exc)}")
    except (RecursionError, MemoryError) as exc:  # absurdly nested or huge JSON
        yield Problem(shown, None, f"cannot read: {type(exc).__name__}")
