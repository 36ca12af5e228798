"""One writer at a time per index: an exclusive lock on a small file.

Every ingest (the CLI, the app's "Refresh corpus", the evaluation's indexing) holds the
writer lock for its whole run, including the start-up clean-up that removes leftovers of
interrupted runs: without it, a second run's clean-up deletes the chunks a first run has
written but not yet committed. Readers never take it.

The lock is `fcntl.flock` on `ingest-<collection>.lock`, in the index folder for the
embedded index and in `lock_dir` when set (server mode: a folder every writer shares).
The operating system releases it when the holder exits or is killed, so a crashed run
never leaves a stale lock. The file holds the holder's pid and start time, for messages.

Shortcuts: POSIX only (fcntl); on network file systems flock works only where the
file system supports it (NFSv4 does).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.settings import Settings
from rag.store import StoreError

_POLL = 0.2  # seconds between attempts while waiting


class IndexBusy(StoreError):
    """Another process is writing the index."""

    def __init__(self, holder: str, message: str) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(settings: Settings) -> Path:
    """The writer lock file of the settings' index."""
    folder = settings.lock_dir if settings.lock_dir is not None else settings.index_dir
    if settings.chroma_host:
        name = f"ingest-{settings.chroma_host}-{settings.chroma_port}-{settings.collection}.lock"
    else:
        name = f"ingest-{settings.collection}.lock"
    return folder / name


def describe(content: str) -> str:
    """'pid N, started …' from the lock file's content.

    >>> describe("4711 2026-11-26T10:00:00+00:00")
    'pid 4711, started 2026-11-26 10:00:00 UTC'
    >>> describe("")
    'pid unknown, just starting'
    """
    parts = content.split()
    if len(parts) < 2:
        return "pid unknown, just starting"
    try:
        started = dt.datetime.fromisoformat(parts[1]).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        started = parts[1]
    return f"pid {parts[0]}, started {started}"


def holder(settings: Settings) -> str | None:
    """Who writes the index right now ('pid N, started …'), or None. Writes nothing."""
    import fcntl

    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # no writer ever ran here, or the folder is not readable
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return describe(os.pread(fd, 200, 0).decode("utf-8", "replace"))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def writer_lock(
    settings: Settings,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the index's writer lock for the block.

    When another process holds it: with `wait`, call `on_wait(holder)` once and wait;
    without, raise IndexBusy naming the holder.
    """
    import fcntl

    path = lock_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    except OSError as exc:
        where = "RAG_LOCK_DIR" if settings.lock_dir is not None else "RAG_INDEX_DIR"
        raise StoreError(
            f"Cannot create the writer lock {path}: {exc.strerror or exc}. "
            f"Set {where} to a writable folder."
        ) from exc
    try:
        told = False
        tries = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                tries += 1
                who = describe(os.pread(fd, 200, 0).decode("utf-8", "replace"))
                if not wait and tries > 3:  # a reader's momentary check is not a writer
                    raise IndexBusy(
                        who, f"another ingest ({who}) is writing this index; try again later"
                    ) from None
                if wait and not told and tries > 3:
                    told = True
                    if on_wait is not None:
                        on_wait(who)
                time.sleep(_POLL if wait else 0.05)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {stamp}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
