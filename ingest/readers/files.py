"""Finding the files to read: walking folders, sorted, hidden entries and repeats skipped.

Each file comes with its root (the folder given, or a given file's parent), from which
article ids are made relative. Paths that cannot be walked (missing, broken link, symlink
loop, unlistable folder, device) become a `Problem` instead of an exception.

Shortcuts: a symlink loop is detected by a folder resolving to one of its ancestors; a
file reached twice (through links, or given twice) is read once, at its first path. A
file-level loop (`a -> a`, `a -> b -> a`) is neither file nor folder, so it is reported
like a broken link; `real_path` resolves such a path without raising.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.readers.base import Problem


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
            yield Problem(str(given), None, f"cannot access: {os_reason(exc)}")


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
        yield Problem(str(folder), None, f"cannot list folder: {os_reason(exc)}")
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
            yield Problem(str(entry), None, f"cannot access: {os_reason(exc)}")


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
