"""Finding the files to read: walking folders, sorted, hidden entries and repeats skipped.

Each file comes with its root (the folder given, or a given file's parent), from which
article ids are made relative. Paths that cannot be walked (missing, broken link, symlink
loop, unlistable folder, device) become a `Problem` instead of an exception.

Shortcuts: a symlink loop is detected by a folder resolving to one of its ancestors; a
file reached twice (through links, or given twice) is read once, at its first path. A
file-level loop (`a -> a`, `a -> b -> a`) is neither file nor folder, so it is reported
like a broken link; `real_path` resolves such a path without raising.

Names that are not UTF-8: Python gives them with surrogate-escaped bytes, which no index
and no terminal accepts. Every path that leaves this package (article ids, stored paths,
problems) goes through `escape_name`: each such byte becomes `\\xNN`, the way Python and
`ls -b` show it. The escape is reversible (`unescape_name`) and leaves UTF-8 names as
they are, except that a backslash run before a literal `xNN` is doubled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.readers.base import Problem

# A run of backslashes followed by a literal "xNN" or by a surrogate-escaped byte.
_ESCAPE_SITE = re.compile(r"(\\*)(?:(x[0-9a-fA-F]{2})|([\udc80-\udcff]))")
_ESCAPED = re.compile(r"(\\+)x([0-9a-fA-F]{2})")


def escape_name(text: str) -> str:
    r"""`text` with each undecodable byte of a file name written as `\xNN`; reversible.

    >>> escape_name(os.fsdecode(b"\xfcber-\xe4.txt"))
    '\\xfcber-\\xe4.txt'
    >>> escape_name("plain/ünicode.txt")
    'plain/ünicode.txt'
    >>> escape_name(r"looks-like-\xfc.txt")  # a real backslash before xNN is doubled
    'looks-like-\\\\xfc.txt'
    """

    def one(m: re.Match) -> str:
        run, literal, byte = m.groups()
        if literal is not None:
            return run * 2 + literal if run else literal
        return run * 2 + f"\\x{ord(byte) - 0xDC00:02x}"

    return _ESCAPE_SITE.sub(one, text)


def unescape_name(text: str) -> str:
    r"""The inverse of `escape_name`: `\xNN` back to the surrogate-escaped byte.

    >>> unescape_name(escape_name(os.fsdecode(b"\xff\\x41"))) == os.fsdecode(b"\xff\\x41")
    True
    """

    def one(m: re.Match) -> str:
        run, hex_byte = m.groups()
        byte = int(hex_byte, 16)
        if len(run) % 2 == 0:
            return run[: len(run) // 2] + "x" + hex_byte
        if byte < 0x80:  # never written by escape_name: leave it alone
            return m.group(0)
        return run[: len(run) // 2] + chr(0xDC00 + byte)

    return _ESCAPED.sub(one, text)


def shown_path(path: str | Path) -> str:
    """`path` as messages and ids show it: undecodable bytes escaped."""
    return escape_name(str(path))


def stored_path(path: str | Path) -> str:
    """The resolved, escaped path the index stores for a file (and compares scopes by)."""
    return escape_name(str(real_path(path)))


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
                yield Problem(shown_path(given), None, "broken symbolic link or symlink loop")
            elif given.exists():
                yield Problem(shown_path(given), None, "not a regular file or folder")
            else:
                yield Problem(shown_path(given), None, "no such file or folder")
        except OSError as exc:
            yield Problem(shown_path(given), None, f"cannot access: {os_reason(exc)}")


def _walk_folder(
    root: Path, folder: Path, seen: set[Path], ancestors: frozenset[Path]
) -> Iterator[tuple[Path, Path] | Problem]:
    real = folder.resolve()
    if real in ancestors:
        reason = "symlink loop (links back to a parent folder); skipped"
        yield Problem(shown_path(folder), None, reason)
        return
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        yield Problem(shown_path(folder), None, f"cannot list folder: {os_reason(exc)}")
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
                yield Problem(shown_path(entry), None, "broken symbolic link or symlink loop")
            else:
                reason = "not a regular file (device, socket or pipe)"
                yield Problem(shown_path(entry), None, reason)
        except OSError as exc:
            yield Problem(shown_path(entry), None, f"cannot access: {os_reason(exc)}")


def real_path(path: str | Path) -> Path:
    """`path` with its links resolved as far as they go; a symlink loop is left as it is.

    `Path.resolve()` raises RuntimeError on a loop (Python < 3.13); paths named in
    problems must still be comparable with indexed ones.
    """
    return Path(os.path.realpath(path))


def _first_visit(path: Path, seen: set[Path]) -> bool:
    real = real_path(path)
    if real in seen:
        return False
    seen.add(real)
    return True


def os_reason(exc: OSError) -> str:
    """An OS error as words for a message ("Permission denied")."""
    return exc.strerror or str(exc)
