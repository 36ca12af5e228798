"""The archive's files from the desk: upload article files, remove an article, refresh.

No Streamlit here: desk/archive.py renders what these functions return, and tests call
them directly. Every change goes through the ingest's own code and the index's writer
lock (rag.lock), never waiting for it: when another process writes the index, the
functions say who, and what happens to the user's work.

Upload. Each file is checked by the ingest's readers (`ingest.readers.read_file`, so the
same formats, checks and messages as `python -m ingest`) from a staging copy in a hidden
folder of the corpus folder (`.upload-*`; every ingest skips hidden entries). An accepted
file then enters the corpus folder with one hard link (a rename where links are not
supported), so the command line and a concurrent ingest see the whole file or nothing,
and an existing file is never overwritten. The stored files are then ingested by path
(`run_ingest` on those files: their ids are the same as when the folder is read). A file
is refused with its reason (bad name, too big, unknown type, empty, unreadable, no
article in it, a different file of that name already stored); the others go on. When the
index is busy, accepted files stay stored and the next refresh indexes them.

Remove. An article is removed from the index and its file moved to a `.removed` folder
beside it (hidden, so no ingest reads it again; move it back to restore the article). A
file holding several articles (JSON, CSV) cannot lose one of them this way: the caller is
told so, and may remove the whole file with `whole_file=True`.

Refresh. `python -m ingest` over the corpus folder with the caller's loaded embedding
model; the report names what was added, changed and removed by title (titles of removed
articles are read before the ingest, since they are gone afterwards).

Shortcuts: the titles read before a refresh are not taken under the writer lock (the
ingest takes it itself), so an article another process adds and deletes in between is
reported by its id. A removed article whose text is also in another file (a duplicate,
stored once) comes back under that file's id at the next refresh, as it should: the
text is still in the corpus.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desk.i18n import translator
from ingest.readers import Problem, ReadOptions, read_file, unescape_name
from rag import schema
from rag.settings import Settings

STRINGS = {
    "name_empty": ("the file has no name", "die Datei hat keinen Namen"),
    "name_path": (
        "the name {name!r} contains a folder or '..'; only plain file names are stored",
        "der Name {name!r} enthält einen Ordner oder '..'; gespeichert werden nur "
        "einfache Dateinamen",
    ),
    "name_hidden": (
        "names starting with '.' are hidden files, which the ingest skips; rename the file",
        "Namen mit '.' am Anfang sind versteckte Dateien, die der Import überspringt; "
        "bitte die Datei umbenennen",
    ),
    "name_bad": (
        "the name contains control characters or is too long; rename the file",
        "der Name enthält Steuerzeichen oder ist zu lang; bitte die Datei umbenennen",
    ),
    "too_big": (
        "{size:.3g} MB, over the upload limit of {limit:g} MB (RAG_UPLOAD_MAX_MB); put "
        "large files into the corpus folder and refresh, or use `python -m ingest`",
        "{size:.3g} MB, über der Grenze von {limit:g} MB (RAG_UPLOAD_MAX_MB); große "
        "Dateien in den Korpus-Ordner legen und aktualisieren, oder `python -m ingest`",
    ),
    "empty": ("empty file", "leere Datei"),
    "no_article": ("no article found in the file", "keine Artikel in der Datei gefunden"),
    "twice": (
        "the same name was uploaded twice with different contents; upload one of them",
        "derselbe Name wurde zweimal mit verschiedenem Inhalt hochgeladen; bitte nur eine",
    ),
    "collision": (
        "a different file named {name!r} is already in the archive; rename your file, or "
        "remove the archived article first",
        "im Archiv liegt schon eine andere Datei namens {name!r}; bitte umbenennen oder "
        "zuerst den archivierten Artikel entfernen",
    ),
    "same_file": (
        "already in the archive (same file)",
        "schon im Archiv (dieselbe Datei)",
    ),
    "cannot_store": (
        "cannot store it in the corpus folder: {reason}",
        "kann nicht im Korpus-Ordner gespeichert werden: {reason}",
    ),
    "corpus_unusable": (
        "The corpus folder {folder} cannot be used: {reason}. Set RAG_CORPUS_DIR to a "
        "writable folder.",
        "Der Korpus-Ordner {folder} ist nicht nutzbar: {reason}. Bitte RAG_CORPUS_DIR auf "
        "einen beschreibbaren Ordner setzen.",
    ),
    "duplicate_of": (
        "{article}: same text as {kept!r}, already in the archive; stored once",
        "{article}: gleicher Text wie {kept!r}, schon im Archiv; nur einmal gespeichert",
    ),
    "gone": (
        "This article is no longer in the archive.",
        "Dieser Artikel ist nicht mehr im Archiv.",
    ),
    "several": (
        "{file} holds {n} articles. One of them cannot be removed alone: the next "
        "refresh would read it again. Remove all {n} articles of the file, or delete the "
        "article from the file and refresh.",
        "{file} enthält {n} Artikel. Einer davon lässt sich nicht einzeln entfernen: die "
        "nächste Aktualisierung läse ihn wieder ein. Alle {n} Artikel der Datei entfernen, "
        "oder den Artikel in der Datei löschen und aktualisieren.",
    ),
    "cannot_move": (
        "Cannot move {file} out of the corpus ({reason}); nothing was removed.",
        "{file} kann nicht aus dem Korpus verschoben werden ({reason}); nichts wurde entfernt.",
    ),
}
t = translator(STRINGS)

REMOVED_FOLDER = ".removed"  # beside a removed article's file; hidden, so never ingested
_STAGING = ".upload-"  # staging folders in the corpus folder; hidden, so never ingested
_STALE_STAGING_S = 3600  # a staging folder this old belongs to a killed upload
_MB = 1024 * 1024  # as Streamlit's uploader counts megabytes
_MAX_NAME_BYTES = 255
_PAGE = 2000  # rows per Chroma get() when listing


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """An article named in a report."""

    article_id: str
    title: str


@dataclass
class RefreshReport:
    """What an ingest did, by title; `busy` names the other writer when it did nothing."""

    added: list[Entry] = field(default_factory=list)
    updated: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    unchanged: int = 0
    duplicates: list[tuple[str, Entry]] = field(default_factory=list)  # (skipped id, kept)
    problems: list[str] = field(default_factory=list)  # skipped files/records first
    failed: int = 0  # files or records skipped
    chunks_written: int = 0
    seconds: float = 0.0
    busy: str | None = None  # 'pid N, started …' of the ingest that holds the lock

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class FileResult:
    """One uploaded file: stored or refused, and why."""

    name: str
    accepted: bool
    reason: str = ""  # why it was refused, or a note on an accepted one
    article_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # records skipped, encoding, dates


@dataclass
class UploadReport:
    files: list[FileResult]
    ingest: RefreshReport | None = None  # None when nothing was accepted

    @property
    def accepted(self) -> list[FileResult]:
        return [f for f in self.files if f.accepted]

    @property
    def refused(self) -> list[FileResult]:
        return [f for f in self.files if not f.accepted]


@dataclass
class RemoveReport:
    removed: list[Entry] = field(default_factory=list)
    moved_to: Path | None = None  # where the article's file went
    refused: str = ""  # why nothing was removed
    file_articles: int = 0  # articles in the file, when it holds several
    busy: str | None = None


class CorpusError(Exception):
    """The corpus folder cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Incoming:
    """An uploaded file: its name as the browser gave it and its bytes."""

    name: str
    data: bytes


def incoming(files: Iterable) -> list[Incoming]:
    """Streamlit's UploadedFile objects, (name, bytes) pairs or Incoming, as Incoming."""
    out = []
    for f in files:
        if isinstance(f, Incoming):
            out.append(f)
        elif isinstance(f, tuple):
            out.append(Incoming(str(f[0]), bytes(f[1])))
        else:
            out.append(Incoming(str(f.name), bytes(f.getvalue())))
    return out


# --- upload -------------------------------------------------------------------------------
def upload(
    settings: Settings,
    files: Iterable,
    *,
    embedder=None,
    index=None,
    options: ReadOptions | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> UploadReport:
    """Check, store and ingest uploaded files; refused files say why, the rest go on."""
    options = options or ReadOptions(max_article_chars=settings.max_article_chars)
    corpus = Path(settings.corpus_dir)
    try:
        corpus.mkdir(parents=True, exist_ok=True)
        _clear_stale_staging(corpus)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=corpus))
    except OSError as exc:
        raise CorpusError(t("corpus_unusable", folder=corpus, reason=exc.strerror or exc)) from exc
    results: list[FileResult] = []
    stored: list[Path] = []
    taken: dict[str, tuple[bytes, FileResult]] = {}  # a name given twice in one upload
    try:
        for item in incoming(files):
            name = unicodedata.normalize("NFC", item.name.strip())
            if name in taken:
                data, first = taken[name]
                same = data == item.data
                results.append(first if same else FileResult(name, False, t("twice")))
                continue
            result, path = _take(item, name, corpus, staging, settings, options)
            taken[name] = (item.data, result)
            results.append(result)
            if path is not None:
                stored.append(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report = UploadReport(results)
    if stored:
        report.ingest = _ingest(stored, settings, index, embedder, options, progress)
        _note_duplicates(report)
    return report


def _take(item, name, corpus, staging, settings, options) -> tuple[FileResult, Path | None]:
    """Check one file and store it when it passes; (result, stored path or None)."""
    refused = _name_problem(name)
    if refused:
        return FileResult(item.name or "?", False, refused), None
    limit = settings.upload_max_mb
    if len(item.data) > limit * _MB:
        return FileResult(name, False, t("too_big", size=len(item.data) / _MB, limit=limit)), None
    staged = staging / name
    try:
        with open(staged, "xb") as out:
            out.write(item.data)
            out.flush()
            os.fsync(out.fileno())  # whole on disk before anyone can see it
    except OSError as exc:  # a full disk, a name the file system refuses
        return FileResult(name, False, t("cannot_store", reason=exc.strerror or exc)), None
    ids, skips, warnings = [], [], []
    for got in read_file(staged, staging, options):
        if not isinstance(got, Problem):
            ids.append(got.id)
        elif got.skipped:
            skips.append(got)
        else:
            warnings.append(got)
    whole = [p.reason for p in skips if p.line is None]
    if whole or not ids:
        if not item.data and not whole:
            reason = t("empty")
        else:
            reason = "; ".join(whole or [str(_short(p)) for p in skips[:3]]) or t("no_article")
        return FileResult(name, False, reason), None
    notes = [_short(p) for p in skips + warnings]
    target = corpus / name
    try:
        note = _store(staged, target, item.data)
    except FileExistsError:
        return FileResult(name, False, t("collision", name=name)), None
    except OSError as exc:
        return FileResult(name, False, t("cannot_store", reason=exc.strerror or exc)), None
    return FileResult(name, True, note, ids, notes), target


def _clear_stale_staging(corpus: Path) -> None:
    """Remove staging folders that a killed upload left (older than an hour)."""
    cutoff = time.time() - _STALE_STAGING_S
    for entry in corpus.glob(f"{_STAGING}*"):
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


def _name_problem(name: str) -> str:
    """Why `name` cannot be stored as a file of the corpus folder, or ''."""
    if not name:
        return t("name_empty")
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        return t("name_path", name=name)
    if name.startswith("."):
        return t("name_hidden")
    if any(unicodedata.category(c) == "Cc" for c in name) or len(os.fsencode(name)) > (
        _MAX_NAME_BYTES
    ):
        return t("name_bad")
    return ""


def _store(staged: Path, target: Path, data: bytes) -> str:
    """Put the staged file at `target` in one step; never overwrite a different file.

    Returns a note ('' or 'already in the archive'); raises FileExistsError on a
    different file of that name.
    """
    if target.exists() or target.is_symlink():
        if target.is_file() and _same_bytes(target, data):
            return t("same_file")
        raise FileExistsError(target)
    try:
        os.link(staged, target)  # fails if the name appeared meanwhile: no overwrite
    except FileExistsError:
        if target.is_file() and _same_bytes(target, data):
            return t("same_file")
        raise
    except OSError:  # a file system without hard links: rename (atomic, tiny race)
        if target.exists():
            raise FileExistsError(target) from None
        os.rename(staged, target)
    return ""


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _short(p: Problem) -> str:
    """A problem without its (staging) path: 'line 3: reason'."""
    where = f"line {p.line}: " if p.line else ""
    return f"{where}{p.reason}{'' if p.skipped else ' (warning)'}"


def _note_duplicates(report: UploadReport) -> None:
    """Tell, per file, which of its articles were stored once as duplicates."""
    if report.ingest is None:
        return
    for result in report.accepted:
        for dup, kept in report.ingest.duplicates:
            if dup in result.article_ids:
                result.warnings.append(t("duplicate_of", article=dup, kept=kept.title))


# --- refresh ------------------------------------------------------------------------------
def refresh(
    settings: Settings,
    embedder=None,
    progress: Callable[[int, int, str], None] | None = None,
    *,
    index=None,
    options: ReadOptions | None = None,
) -> RefreshReport:
    """`python -m ingest` over the corpus folder, never waiting for another writer."""
    return _ingest([Path(settings.corpus_dir)], settings, index, embedder, options, progress)


def _ingest(paths: Sequence[Path], settings, index, embedder, options, progress) -> RefreshReport:
    from ingest.pipeline import run_ingest
    from rag.lock import IndexBusy
    from rag.store import Index

    index = index if index is not None else Index(settings)
    index.refresh()
    before = titles(index)  # removed articles are gone afterwards
    try:
        summary = run_ingest(
            list(paths),
            settings,
            options=options,
            index=index,
            embedder=embedder,
            progress=progress,
            wait=False,
        )
    except IndexBusy as exc:
        return RefreshReport(busy=exc.holder)
    kept = [k for _, k in summary.duplicates]
    fresh = titles(index, summary.added + summary.updated + kept)
    return RefreshReport(
        added=[Entry(a, fresh.get(a, a)) for a in summary.added],
        updated=[Entry(a, fresh.get(a, a)) for a in summary.updated],
        removed=[Entry(a, before.get(a, a)) for a in summary.removed],
        unchanged=summary.unchanged,
        duplicates=[(d, Entry(k, fresh.get(k, k))) for d, k in summary.duplicates],
        problems=[str(p) for p in summary.failed + summary.warnings],
        failed=len(summary.failed),
        chunks_written=summary.chunks_written,
        seconds=summary.seconds,
    )


# --- remove -------------------------------------------------------------------------------
def remove(settings: Settings, article_id: str, *, index=None, whole_file: bool = False):
    """Remove an article from the index and its file from the corpus (see module doc)."""
    from rag.lock import IndexBusy, writer_lock
    from rag.store import Index

    index = index if index is not None else Index(settings)
    try:
        with writer_lock(settings, wait=False):
            index.refresh()
            try:
                return _remove(index, article_id, whole_file)
            finally:  # side indexes release their writers, as after an ingest run
                index.close()
    except IndexBusy as exc:
        return RemoveReport(busy=exc.holder)


def _remove(index, article_id: str, whole_file: bool) -> RemoveReport:
    got = index.articles.get(ids=[article_id], include=["metadatas"])
    if not got["ids"]:
        return RemoveReport(refused=t("gone"))
    stored = str(got["metadatas"][0].get(schema.PATH, ""))
    same_file = {article_id: got["metadatas"][0]}  # id -> record metadata, sorted below
    if stored:
        siblings = index.articles.get(where={schema.PATH: stored}, include=["metadatas"])
        same_file.update(zip(siblings["ids"], siblings["metadatas"], strict=True))
        same_file = dict(sorted(same_file.items()))
    path = Path(unescape_name(stored)) if stored else None
    shown = path.name if path else article_id
    if len(same_file) > 1 and not whole_file:
        return RemoveReport(refused=t("several", file=shown, n=len(same_file)),
                            file_articles=len(same_file))  # fmt: skip
    moved = None
    if path is not None and (path.is_file() or path.is_symlink()):
        try:  # the file first: if the index part fails, the next ingest finishes the job
            moved = _to_removed(path)
        except OSError as exc:
            return RemoveReport(refused=t("cannot_move", file=shown, reason=exc.strerror or exc))
    for aid, meta in same_file.items():
        chunk_ids = index.chunks.get(where={schema.ARTICLE_ID: aid}, include=[])["ids"]
        index.remove_article(aid, chunk_ids, version=str(meta.get(schema.VERSION, "")))
    index.mark_refreshed()
    entries = [
        Entry(aid, str(meta.get(schema.TITLE, "")) or aid)
        for aid, meta in sorted(same_file.items())
    ]
    return RemoveReport(removed=entries, moved_to=moved, file_articles=len(same_file))


def _to_removed(path: Path) -> Path:
    """Move a file into the `.removed` folder beside it, under a name not yet taken there."""
    folder = path.parent / REMOVED_FOLDER
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = folder / f"{path.stem}-{n}{path.suffix}"
    os.rename(path, target)
    return target


# --- reading the archive ------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One archived article as the archive view lists it (no text)."""

    article_id: str
    title: str
    date: str  # ISO, '' when unknown
    source: str
    url: str
    path: str  # the file it was read from, as stored (escaped)
    passages: int


def articles(index) -> list[Row]:
    """Every archived article's listing data, read from the records' metadata (no text)."""
    rows = []
    for aid, meta in _metadata(index):
        rows.append(
            Row(
                article_id=aid,
                title=str(meta.get(schema.TITLE, "")) or aid,
                date=str(meta.get(schema.DATE, "") or ""),
                source=str(meta.get(schema.SOURCE, "")),
                url=str(meta.get(schema.URL, "")),
                path=str(meta.get(schema.PATH, "")),
                passages=int(meta.get(schema.N_CHUNKS, 0) or 0),
            )
        )
    return rows


def titles(index, ids: Sequence[str] | None = None) -> dict[str, str]:
    """Article id -> title, for `ids` or for every article."""
    if ids is None:
        return {aid: str(m.get(schema.TITLE, "")) or aid for aid, m in _metadata(index)}
    out = {}
    for lo in range(0, len(ids), _PAGE):
        got = index.articles.get(ids=list(ids[lo : lo + _PAGE]), include=["metadatas"])
        for aid, meta in zip(got["ids"], got["metadatas"], strict=True):
            out[aid] = str(meta.get(schema.TITLE, "")) or aid
    return out


def _metadata(index):
    offset = 0
    while True:
        got = index.articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
        yield from zip(got["ids"], got["metadatas"], strict=True)
        if len(got["ids"]) < _PAGE:
            return
        offset += _PAGE


def folders(index, rows: Sequence[Row] | None = None) -> list[str]:
    """The folders the index was built from, top-most only: from `Index.roots()` where the
    index records what its ingests read (a file read on its own counts as its folder), else
    the folders holding the articles' files."""
    found: list[str] = []
    roots = getattr(index, "roots", None)
    if callable(roots):
        with contextlib.suppress(Exception):
            found = [r if Path(unescape_name(r)).is_dir() else str(Path(r).parent) for r in roots()]
    if not found:
        found = [str(Path(r.path).parent) for r in (rows or articles(index)) if r.path]
    top: list[str] = []
    for p in sorted(set(found)):  # sorted: a folder comes before the folders under it
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in top):
            top.append(p)
    return top
