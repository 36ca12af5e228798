"""`python -m ingest [PATH ...]`: refresh the index from corpus files and folders."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

EPILOG = """\
examples:
  python -m ingest                         refresh from corpus/ (the default folder)
  python -m ingest corpus/ ~/exports/      several folders and files at once
  python -m ingest --dry-run               show what would change, write nothing
  python -m ingest --rebuild               drop the index and embed everything again
                                           (needed after changing RAG_EMBEDDING_MODEL)
  python -m ingest --no-wait               stop instead of waiting when another ingest
                                           (or the app's refresh) is writing the index
  python -m ingest articles.csv --csv-columns label,text --csv-delimiter ';' --csv-quotechar "'"

Supported files: .txt (incl. the 'date YYYY-MM-DD … <BR \\/>' export format), .md,
.json, .jsonl/.ndjson, .csv/.tsv, .html/.htm. Articles whose files were deleted from the
given folders are removed from the index (unless --keep-missing); articles from other
folders stay. Exit code 0 when the run finished, even if some files were skipped;
1 or 2 on a fatal error (unusable index, bad settings, model mismatch).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Read news articles, chunk and embed them, and bring the index up to date.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders to ingest (default: RAG_CORPUS_DIR, i.e. corpus/)",
    )
    p.add_argument("--rebuild", action="store_true", help="drop the index first, re-embed all")
    p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="stop with an error instead of waiting when another ingest writes the index",
    )
    p.add_argument(
        "--keep-missing",
        action="store_true",
        help="keep indexed articles whose files are gone instead of removing them",
    )
    p.add_argument(
        "--csv-columns",
        metavar="A,B,…",
        help="column names for CSV files without a header, e.g. label,text",
    )
    p.add_argument("--csv-delimiter", metavar="CHAR", help="CSV delimiter (default: detected)")
    p.add_argument(
        "--csv-quotechar", metavar="CHAR", help="CSV quote character (default: detected)"
    )
    p.add_argument("--source", default="", help="outlet name for articles that name none")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="list every added/updated/removed article"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag in ("csv_delimiter", "csv_quotechar"):
        value = getattr(args, flag)
        if value is not None and len(value) != 1:
            print(
                f"error: --{flag.replace('_', '-')} takes one character, got {value!r}",
                file=sys.stderr,
            )
            return 2
    from rag.errors import run_command

    return run_command(_run, args)


def _run(args, settings) -> int:
    from ingest.pipeline import run_ingest
    from ingest.readers import ReadOptions
    from rag.lock import IndexBusy

    paths = args.paths or [settings.corpus_dir]
    options = ReadOptions(
        csv_columns=tuple(c.strip() for c in args.csv_columns.split(","))
        if args.csv_columns
        else None,
        csv_delimiter=args.csv_delimiter,
        csv_quotechar=args.csv_quotechar,
        default_source=args.source,
        max_article_chars=settings.max_article_chars,
    )
    bar = _ProgressBar(enabled=not (args.quiet or args.json), mode=settings.progress)
    try:
        summary = run_ingest(
            paths,
            settings,
            options=options,
            rebuild=args.rebuild,
            dry_run=args.dry_run,
            keep_missing=args.keep_missing,
            progress=bar,
            wait=not args.no_wait,
            on_wait=_say_waiting,
            on_written=bar.written,
        )
    except IndexBusy as exc:
        raise IndexBusy(
            exc.holder,
            f"another ingest ({exc.holder}) is writing this index; stopped because of "
            "--no-wait. Run again when it has finished, or without --no-wait to wait for it.",
        ) from None
    finally:
        bar.close()
    if args.json:
        out = summary.as_dict()
        out["problems"] = [
            {"path": _show(p.path), "line": p.line, "reason": p.reason, "skipped": p.skipped}
            for p in summary.failed + summary.warnings
        ]
        out["duplicate_of"] = dict(summary.duplicates)
        print(json.dumps(out, ensure_ascii=False))
    else:
        _print_summary(summary, settings, verbose=args.verbose)
    return 0


def _say_waiting(holder: str) -> None:
    print(
        f"another ingest ({holder}) is writing this index; waiting… (--no-wait to stop instead)",
        file=sys.stderr,
        flush=True,
    )


class _ProgressBar:
    """tqdm over files, only for longer runs; RAG_PROGRESS: auto = on a terminal only.

    Shows files done, their rate and the time left (tqdm's ETA from the file rate), and
    the chunks embedded and written so far with their rate, which is what a long run of a
    large archive is bound by.
    """

    def __init__(self, enabled: bool, mode: str = "auto") -> None:
        shown = {"always": True, "never": False}.get(mode, sys.stderr.isatty())
        self.enabled = enabled and shown
        self.bar = None
        self.chunks = 0
        self.started = time.monotonic()
        self.current = ""

    def written(self, chunks: int) -> None:
        """Chunks written so far (after each batch)."""
        self.chunks = chunks
        if self.bar is not None:
            self._postfix()
            self.bar.refresh()

    def _postfix(self) -> None:
        rate = self.chunks / max(time.monotonic() - self.started, 1e-9)
        name = Path(self.current).name[:30] if self.current else ""
        self.bar.set_postfix_str(
            f"{self.chunks} chunks, {rate:.1f}/s" + (f", {name}" if name else ""), refresh=False
        )

    def __call__(self, done: int, total: int, current: str) -> None:
        if not self.enabled or total < 2:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr)
        self.bar.n = done
        self.current = current
        self._postfix()
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _show(path: str) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return path


def _print_summary(s, settings, verbose: bool) -> None:
    head = "Dry run (nothing written)" if s.dry_run else "Ingest finished"
    print(
        f"{head} in {s.seconds:.1f} s — index: {settings.index_location}, "
        f"collection {settings.collection!r}"
    )
    rows = [
        ("added", len(s.added)),
        ("updated", len(s.updated)),
        ("unchanged", s.unchanged),
        ("removed", len(s.removed)),
        ("duplicates", len(s.duplicates)),
        ("failed", len(s.failed)),
        ("chunks written", s.chunks_written),
    ]
    if s.incomplete:
        rows.append(("incomplete (records without all their chunks; redone)", len(s.incomplete)))
    if s.repaired_chunks:
        rows.append(("repaired (leftovers of an interrupted run)", s.repaired_chunks))
    for name, n in rows:
        print(f"  {name:<15}{n:>7}")
    if verbose:
        for label, ids in (("added", s.added), ("updated", s.updated), ("removed", s.removed)):
            for aid in ids:
                print(f"  {label}: {aid}")
    if s.duplicates:
        print("Duplicates (stored once):")
        for dup, kept in s.duplicates[:50]:
            print(f"  {dup}  = same text as  {kept}")
        if len(s.duplicates) > 50:
            print(f"  … and {len(s.duplicates) - 50} more")
    for title, problems in (("Skipped:", s.failed), ("Warnings:", s.warnings)):
        if problems:
            print(title)
            for p in problems[:100]:
                where = f"{_show(p.path)}:{p.line}" if p.line else _show(p.path)
                print(f"  {where}: {p.reason}")
            if len(problems) > 100:
                print(f"  … and {len(problems) - 100} more (use --json for all)")


if __name__ == "__main__":
    sys.exit(main())
