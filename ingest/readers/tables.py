"""CSV and TSV files: delimiter and quote sniffing, header detection, column mapping.

A file with a header row maps its columns through the record field names; a header-less
file uses the column names given (`ReadOptions.csv_columns`), else its longest column as
the text, with a warning. Record numbers count data rows, header excluded.

Shortcuts: the dialect and header are judged on the first 256 KiB only; the sniffer picks
the delimiter/quote under which most rows have the same width (ties: more quoted cells,
then the usual order , ; tab |). The csv module's field size limit is process-wide, so it
is set per file, never below the standard library's default.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from ingest.readers.base import Item, Problem, ReadOptions, SourceFile
from ingest.readers.decode import Lines, drain
from ingest.readers.records import KNOWN_FIELDS, TEXT_HINT, Records, has_text, norm_key

_SNIFF_CHARS = 256 * 1024
_CSV_DEFAULT_FIELD_LIMIT = 131_072


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
    if any(norm_key(c) in KNOWN_FIELDS for c in cells):
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


def read_csv(f: SourceFile) -> Iterator[Item]:
    """Articles from a CSV/TSV file, one per data row."""
    options = f.options
    # Process-wide setting: set it per file so the limit follows this file's options;
    # never below the standard library's default, which other code may rely on.
    csv.field_size_limit(max(_CSV_DEFAULT_FIELD_LIMIT, options.max_article_chars * 4))
    lines = Lines(f, line_limit=None)
    sample = lines.head(_SNIFF_CHARS)
    yield from drain(lines.problems)
    if lines.binary:
        return
    if not sample:
        yield Problem(f.shown, None, "empty file")
        return
    delimiter, quote = _sniff(sample, options, f.path.suffix.lower() == ".tsv")
    dialect = {"delimiter": delimiter, "quotechar": quote}
    sample_rows = [r for r in csv.reader(sample[:-1] or sample, **dialect) if r]
    reader = csv.reader(lines, **dialect)
    records = Records(f)
    columns: list[str] | None = None
    number = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from drain(lines.problems)
            number += columns is not None  # keep record numbers aligned with data rows
            reason = f"malformed CSV: {exc}"
            if "field limit" in str(exc):
                reason = f"a field is longer than {csv.field_size_limit():,} characters; skipped"
            yield Problem(f.shown, start, reason)
            if reader.line_num < start:  # nothing consumed: stop rather than spin
                break
            continue
        yield from drain(lines.problems)
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
    yield from drain(lines.problems)


def _columns(
    first: list[str],
    sample: list[str],
    sample_rows: list[list[str]],
    options: ReadOptions,
) -> tuple[list[str], bool, str | None]:
    """(column names, whether `first` is the header row, a warning about a guessed text column)."""
    if options.csv_columns:
        names = list(options.csv_columns)
        return names, [norm_key(c) for c in first] == [norm_key(c) for c in names], None
    if _looks_like_header(first, sample, sample_rows):
        names = [c.strip() for c in first]
        if has_text({norm_key(c): 1 for c in names}):
            return names, True, None
        col = _longest_column(sample_rows[1:] or sample_rows)
        warning = (
            f"no text column in the header (looked for {TEXT_HINT}, …); "
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
