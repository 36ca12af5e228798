"""Run `python -m ingest` that stops at a chosen point of its writing (a test hook).

    python -m tests.ingest_pause POINT FLAG_DIR [ingest arguments ...]

POINT is where the run stops, found by watching its Chroma calls (so it works whatever
the pipeline's internal structure):

- `records`: every chunk of the batch is written, the article records (the commit
  point) are not;
- `old-chunks`: the new records are written, the replaced versions' old chunks are not
  deleted yet.

On reaching it the process creates FLAG_DIR/paused (holding its pid) and waits until
FLAG_DIR/go exists, or until the test SIGKILLs it. Nothing in the product knows about it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _pause(flags: Path) -> None:
    (flags / "paused").write_text(str(os.getpid()))
    while not (flags / "go").exists():
        time.sleep(0.05)


def install(point: str, flags: Path) -> None:
    """Patch Chroma's Collection so the run stops once at `point`."""
    from chromadb.api.models.Collection import Collection

    state = {"done": False, "records_written": False}
    upsert, delete = Collection.upsert, Collection.delete

    def is_records(col) -> bool:
        return col.name.endswith("-articles")

    def patched_upsert(self, *args, **kwargs):
        if point == "records" and is_records(self) and not state["done"]:
            state["done"] = True
            _pause(flags)
        result = upsert(self, *args, **kwargs)
        if is_records(self):
            state["records_written"] = True
        return result

    def patched_delete(self, *args, **kwargs):
        if (
            point == "old-chunks"
            and not is_records(self)
            and state["records_written"]
            and not state["done"]
        ):
            state["done"] = True
            _pause(flags)
        return delete(self, *args, **kwargs)

    Collection.upsert = patched_upsert
    Collection.delete = patched_delete


def main() -> int:
    point, flags, *rest = sys.argv[1:]
    if point not in ("records", "old-chunks"):
        raise SystemExit(f"unknown pause point {point!r}")
    install(point, Path(flags))
    from ingest.__main__ import main as ingest_main

    return ingest_main(rest)


if __name__ == "__main__":
    sys.exit(main())
