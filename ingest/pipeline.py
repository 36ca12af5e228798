"""Incremental ingest: corpus files (or any articles) -> chunks -> embeddings -> Chroma.

One pass over the sources, streaming: articles are read, compared with the index by
version (`version_hash`), and only new or changed ones are chunked and embedded, in
batches, so memory stays flat however large the corpus is. Each article version is written chunks
first and record last (see rag.store), and the old version is deleted after the new one
is in, so a run killed at any moment leaves nothing that the next run's
`Index.reconcile()` cannot clean up.

`--rebuild` writes a new generation of the index aside (rag.store `Index.aside`) and
switches readers to it only when it is complete; a killed rebuild leaves the old index
serving and its partial generation is dropped by the next run.

Scope of removal: an indexed article disappears when its file lies under one of the
paths given to this run and the article was not read again (deleted file or record).
Articles from other folders, and from files that failed to read this time, are kept.

Duplicates (same cleaned text under another id) are stored once: the copy already in
the index, else the first one read (sorted path order), wins; later copies are reported.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import chunk_spans, token_fits
from ingest.clean import text_hash
from ingest.readers import Problem, ReadOptions, read_file, stored_path, unescape_name, walk
from rag import calibration, schema, sentences
from rag.settings import Settings
from rag.store import ArticleRecord, Index, incomplete

# Embed and write when this many encode batches' worth of chunks are waiting: big enough
# for efficient batches, small enough that memory does not grow with the corpus.
_BATCHES_PER_WRITE = 8

# Bump when what is embedded for a chunk changes (rag.embeddings.passage_for_embedding)
# or how chunks are cut (ingest.chunk; 2: chunks fit the model's token window; 3: the
# sentence vectors stored with each chunk, rag.sentences).
_EMBEDDED_TEXT_VERSION = 3

Progress = Callable[[int, int, str], None]  # (files done, files total, current file)
Written = Callable[[int], None]  # chunks written so far in this run, after each batch


@dataclass
class Summary:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (skipped id, kept id)
    failed: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    chunks_written: int = 0
    repaired_chunks: int = 0  # leftovers of an interrupted run cleaned up
    incomplete: list[str] = field(default_factory=list)  # records lacking chunks (dry run)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.repaired_chunks)

    def as_dict(self) -> dict:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
            "duplicates": len(self.duplicates),
            "failed": len(self.failed),
            "warnings": len(self.warnings),
            "chunks_written": self.chunks_written,
            "repaired_chunks": self.repaired_chunks,
            "incomplete": len(self.incomplete),
            "seconds": round(self.seconds, 2),
            "dry_run": self.dry_run,
        }


def version_hash(article: schema.Article, settings: Settings) -> str:
    """Hash of everything an article's chunks depend on: its text, its metadata and the
    chunking recipe, so a change in any of them re-indexes it. The recipe names the
    embedding model, whose tokenizer and window (max tokens) decide where chunks end:
    the name, not the window itself, so that an unchanged corpus never loads the model."""
    h = hashlib.sha256()
    recipe = (
        f"{settings.chunk_size}/{settings.chunk_overlap}/{_EMBEDDED_TEXT_VERSION}/"
        f"{settings.embedding_model}"
    )
    for part in (
        article.text,
        article.title,
        article.date or "",
        article.source,
        article.url,
        recipe,
    ):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass
class _Pending:
    article: schema.Article
    version: str
    text_hash: str
    spans: list[tuple[int, int]]
    old_chunk_ids: list[str]
    is_new: bool
    old_version: str = ""  # the committed version this one replaces ("" when new)


class _Writer:
    """Collects new/changed articles and embeds + writes them in batches."""

    def __init__(
        self,
        index: Index,
        settings: Settings,
        embedder_factory,
        summary: Summary,
        on_written: Written | None = None,
    ):
        self.index = index
        self.on_written = on_written
        self.settings = settings
        self.embedder_factory = embedder_factory
        self.embedder = None
        self.summary = summary
        self.pending: list[_Pending] = []
        self.n_chunks = 0

    def add(self, item: _Pending) -> None:
        self.pending.append(item)
        self.n_chunks += len(item.spans)
        if self.n_chunks >= self.settings.embedding_batch_size * _BATCHES_PER_WRITE:
            self.flush()

    def model(self):
        """The embedder, loaded and checked against the index on first use."""
        if self.embedder is None:
            self.embedder = self.embedder_factory()
            self.index.check_model(self.embedder.model_id, self.embedder.dimension)
        return self.embedder

    def embed(self, texts: list[str]):
        """Passage vectors for side indexes that store their own (loads the model once)."""
        return self.model().encode_passages(texts)

    def _sentence_vectors(self, chunk_texts: list[str]) -> list[str]:
        """Each chunk's sentence vectors, packed for its metadata (rag.sentences)."""
        per_chunk = [sentences.sentence_texts(t) for t in chunk_texts]
        flat = [s for group in per_chunk for s in group]
        vectors = self.embedder.encode_passages(flat)
        packed, row = [], 0
        for group in per_chunk:
            packed.append(sentences.pack(vectors[row : row + len(group)]))
            row += len(group)
        return packed

    def flush(self) -> None:
        if not self.pending:
            return
        embedder = self.model()
        self.index.mark_model(embedder.model_id, embedder.dimension)
        from rag.embeddings import passage_for_embedding

        texts = [
            passage_for_embedding(p.article.title, p.article.text[s:e])
            for p in self.pending
            for s, e in p.spans
        ]
        vectors = self.embedder.encode_passages(texts)
        tokens = [self.embedder.passage_tokens(t) for t in texts]  # what the model saw
        per_chunk = [
            {schema.TOKENS: t, schema.TRUNCATED: t > self.embedder.max_tokens} for t in tokens
        ]
        if calibration.for_model(embedder.model_id).sentence_weight:
            chunk_texts = [p.article.text[s:e] for p in self.pending for s, e in p.spans]
            for m, packed in zip(per_chunk, self._sentence_vectors(chunk_texts), strict=True):
                m[schema.SENTENCE_VECTORS] = packed
        items, meta, row = [], [], 0
        for p in self.pending:
            n = len(p.spans)
            items.append((p.article, p.version, p.spans, vectors[row : row + n], p.text_hash))
            meta.append(per_chunk[row : row + n])
            row += n
        self.summary.chunks_written += self.index.write_articles(
            items, chunk_meta=meta, embed=self.embed
        )
        # Replaced versions go only once the new ones are committed.
        self.index.delete_versions(
            {(p.article.id, p.old_version): p.old_chunk_ids for p in self.pending if p.old_version}
        )
        for p in self.pending:
            (self.summary.added if p.is_new else self.summary.updated).append(p.article.id)
        self.pending.clear()
        if self.on_written:
            self.on_written(self.summary.chunks_written)
        self.n_chunks = 0


def run_ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    options: ReadOptions | None = None,
    rebuild: bool = False,
    dry_run: bool = False,
    keep_missing: bool = False,
    progress: Progress | None = None,
    index: Index | None = None,
    embedder=None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    on_written: Written | None = None,
) -> Summary:
    """Bring the index in line with the articles under `paths` (see `sync_articles`)."""
    options = options or ReadOptions(max_article_chars=settings.max_article_chars)
    # Compared with the stored (escaped) article paths; a typo must not empty the index.
    roots = [Path(stored_path(p)) for p in paths if Path(p).exists()]
    unreadable: list[Path] = []  # files/folders that failed this time: keep what they had

    def articles(summary: Summary) -> Iterator[schema.Article]:
        files = []
        for entry in walk(paths):
            if isinstance(entry, Problem):  # missing path, unreadable folder, symlink loop
                summary.failed.append(entry)
                unreadable.append(Path(stored_path(unescape_name(entry.path))))
            else:
                files.append(entry)
        for done, (root, path) in enumerate(files):
            if progress:
                progress(done, len(files), str(path))
            for item in read_file(path, root, options):
                if not isinstance(item, Problem):
                    yield item
                elif not item.skipped:
                    summary.warnings.append(item)
                else:
                    summary.failed.append(item)
                    if item.line is None:  # the whole file failed
                        unreadable.append(Path(stored_path(path)))
        if progress:
            progress(len(files), len(files), "")

    scope = _Prefixes(roots)
    failed = [_Prefixes(())]  # of `unreadable`, rebuilt when reading adds to it

    def in_scope(record: ArticleRecord) -> bool:
        if not scope.holds(record.path):
            return False
        if len(failed[0].names) != len(unreadable):
            failed[0] = _Prefixes(unreadable)
        return not failed[0].holds(record.path)

    return sync_articles(
        articles,
        settings,
        in_scope=in_scope,
        rebuild=rebuild,
        dry_run=dry_run,
        remove_missing=not keep_missing,
        index=index,
        embedder=embedder,
        wait=wait,
        on_wait=on_wait,
        roots=[str(r) for r in roots],
        on_written=on_written,
    )


def sync_articles(
    articles: Callable[[Summary], Iterable[schema.Article]],
    settings: Settings,
    *,
    in_scope: Callable[[ArticleRecord], bool] = lambda record: True,
    rebuild: bool = False,
    dry_run: bool = False,
    remove_missing: bool = True,
    index: Index | None = None,
    embedder=None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    roots: Sequence[str] = (),
    on_written: Written | None = None,
) -> Summary:
    """Make the index hold exactly the given articles, within `in_scope`.

    `articles(summary)` yields the articles (and may record problems in the summary).
    Indexed articles in scope that it did not yield are removed (if `remove_missing`);
    out-of-scope ones are kept and count as the owners of their texts for duplicates.

    A writing run holds the index's writer lock (rag.lock) throughout: when another
    process writes, it calls `on_wait(holder)` and waits, or with `wait=False` raises
    `rag.lock.IndexBusy`. A dry run takes no lock. `roots` (the corpus folders read) are
    remembered in the index (`Index.roots()`). `on_written(chunks)` follows the writing
    (for a rate and an ETA).
    """
    from rag.lock import writer_lock

    lock = nullcontext() if dry_run else writer_lock(settings, wait=wait, on_wait=on_wait)
    with lock, _generation(settings, index, rebuild, dry_run) as (served, target):
        return _write(
            articles,
            settings,
            in_scope,
            rebuild,
            dry_run,
            remove_missing,
            served,
            target,
            embedder,
            roots,
            on_written,
        )


@contextmanager
def _generation(settings: Settings, index: Index | None, rebuild: bool, dry_run: bool):
    """(served, target): the index readers use while this run writes, and the one it
    writes (a new generation aside for a rebuild); side indexes keep their writers for the
    run and release them at its end (e.g. for the next process's ingest)."""
    served = index or Index(settings)
    target = served
    try:
        if not dry_run:
            served.drop_abandoned()  # generations of killed rebuilds
            if rebuild:  # build a new generation aside; readers keep the old one until done
                target = served.aside()
            target.hold()
        yield served, target
    finally:
        target.close()
        served.close()


def _write(
    articles,
    settings,
    in_scope,
    rebuild,
    dry_run,
    remove_missing,
    served,
    index,
    embedder,
    roots,
    on_written,
):
    started = time.perf_counter()
    summary = Summary(dry_run=dry_run)
    from rag.embeddings import model_may_be

    wanted = embedder.model_id if embedder is not None else settings.embedding_model
    built_with = index.embedding_model
    if built_with and not model_may_be(built_with, wanted) and index.chunks.count():
        # Fail before reading anything; the exact model and dimension are checked once loaded.
        index.check_model(wanted, -1)

    def load_embedder():
        if embedder is not None:
            return embedder
        from rag.embeddings import Embedder

        # An incremental run keeps the copy the index was built with; a rebuild starts over.
        return Embedder.from_settings(settings, built_with=None if rebuild else built_with)

    writer = _Writer(index, settings, load_embedder, summary, on_written)
    if dry_run:
        records, groups = index.records(), index.chunk_versions()
        summary.incomplete = incomplete(records, groups)
        for aid in summary.incomplete:  # the real run redoes them: show them as added
            del records[aid]
    else:
        records, groups, summary.repaired_chunks = index.reconcile(embed=writer.embed)
    # Texts of articles this run will neither read nor remove own their duplicates.
    text_owner = {
        rec.text_hash: aid
        for aid, rec in sorted(records.items(), reverse=True)
        if rec.text_hash and not in_scope(rec)
    }
    seen: set[str] = set()
    for article in articles(summary):
        _consider(article, records, groups, text_owner, seen, summary, writer, settings, dry_run)
    if not dry_run:
        writer.flush()

    if remove_missing:
        for aid, rec in records.items():
            if aid in seen or not in_scope(rec):
                continue
            if not dry_run:
                index.begin_write()  # once: the removes are part of this run's write
                index.remove_article(aid, groups.get((aid, rec.version), []), rec.version)
            summary.removed.append(aid)
    if not dry_run:
        if roots:
            index.add_roots(roots)
        index.mark_refreshed()
        if index is not served:
            served.switch_to(index)
    summary.seconds = time.perf_counter() - started
    return summary


def _consider(article, records, groups, text_owner, seen, summary, writer, settings, dry_run):
    """Decide what to do with one article read from the corpus."""
    if article.id in seen:
        summary.failed.append(
            Problem(article.path, None, f"duplicate article id {article.id!r}; kept the first")
        )
        return
    th = text_hash(article.text)
    owner = text_owner.setdefault(th, article.id)
    if owner != article.id:
        summary.duplicates.append((article.id, owner))
        return
    seen.add(article.id)
    version = version_hash(article, settings)
    rec = records.get(article.id)
    if rec is not None and rec.version == version:
        summary.unchanged += 1
        return
    fits = token_fits(article.text, article.title, writer.model())
    spans = chunk_spans(article.text, settings.chunk_size, settings.chunk_overlap, fits)
    if not spans:
        summary.failed.append(Problem(article.path, None, "no text left after cleaning"))
        return
    old = groups.get((article.id, rec.version), []) if rec else []
    item = _Pending(
        article, version, th, spans, old, is_new=rec is None, old_version=rec.version if rec else ""
    )
    if dry_run:
        (summary.added if item.is_new else summary.updated).append(article.id)
        summary.chunks_written += len(spans)
    else:
        writer.add(item)


class _Prefixes:
    """Paths at or under any of `roots`, by string comparison (stored paths are resolved
    and absolute, see `stored_path`): cheap enough to ask for every record of a large
    index. A record path equals a root, or starts with a root and a separator."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.names = [str(r) for r in roots]
        self.exact = frozenset(self.names)
        self.prefixes = tuple(n if n.endswith("/") else f"{n}/" for n in self.names)

    def holds(self, path: str) -> bool:
        return bool(path) and (path in self.exact or path.startswith(self.prefixes))
