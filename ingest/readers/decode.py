"""Bytes -> text: BOMs, binary detection, legacy code pages, and line-by-line streaming.

Whole files (`load_text`, `decode_bytes`) and streamed lines (`Lines`, for JSON Lines and
CSV) are decoded the same way: a BOM decides when there is one; otherwise UTF-8, and bytes
that are not UTF-8 are read as cp1252 unless charset-normalizer recognises a Cyrillic or
Greek code page. Streamed files are decoded per line, so a file mixing encodings loses
nothing; problems met while streaming collect in `Lines.problems` for the reader to yield.

Shortcuts: NUL bytes in the first 8 KiB without a BOM mean "binary" (UTF-16 without a
BOM is reported as such, with the fix); cp1252 stands for Latin-1 as browsers treat it;
UTF-16/32 streams are decoded by a text wrapper, not split at b"\\n".
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import Any

from ingest.readers.base import Problem, SourceFile

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
BINARY = "binary file (contains NUL bytes), not text; if it is UTF-16 text, save it as UTF-8"


def _bom_encoding(head: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def is_binary(head: bytes) -> bool:
    """True for NUL bytes near the start and no BOM: not a text file."""
    return b"\x00" in head[:8192] and not _bom_encoding(head)


def _legacy_encoding(data: bytes) -> str:
    """The code page of bytes that are not UTF-8: cp1252 unless clearly another script."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000], cp_isolation=_LEGACY_CANDIDATES).best()
    except Exception:  # a guesser failing must not stop reading; cp1252 is the safe default
        best = None
    return best.encoding if best is not None and best.encoding in _NON_LATIN else "cp1252"


def decode_bytes(data: bytes) -> tuple[str, str | None]:
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


def load_text(f: SourceFile) -> Iterator[Problem]:
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
    if is_binary(data):
        yield Problem(f.shown, None, BINARY)
        return None
    text, warning = decode_bytes(data)
    if warning:
        yield Problem(f.shown, None, warning, skipped=False)
    return text


class Lines:
    """A file's text lines, streamed, each decoded on its own (files can mix encodings).

    Problems met while reading (encoding fallback, overlong line) collect in `problems`
    for the caller to yield. `line_limit` bounds memory: longer lines are skipped.
    """

    def __init__(self, f: SourceFile, line_limit: int | None):
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
            if is_binary(head):
                self.binary = True
                self.problems.append(Problem(self.f.shown, None, BINARY))
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


def drain(problems: list[Problem]) -> Iterator[Problem]:
    """Yield and remove the problems collected so far, oldest first."""
    while problems:
        yield problems.pop(0)
