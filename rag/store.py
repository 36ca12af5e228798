"""The Chroma index: one collection of chunks plus one collection of article records.

The article collection is the manifest. An article counts as indexed only when its
record exists *and* all `n_chunks` chunks of the same content version are present;
`Index.reconcile()` removes anything else (orphaned or half-written versions), which
makes every ingest step safe to kill. Article records carry the cleaned full text,
so the UI can show an article around a cited passage.

That repair scans every chunk and side index, so it runs only when needed: a writer sets
a dirty mark in the chunk collection's metadata before its first write and clears it
when it has finished (`begin_write`, `mark_refreshed`; a remove on its own clears it
itself). A writer killed in between leaves the mark and the next `reconcile()` scans; on
a clean index it reads the records and checks cheap counts instead, so a refresh costs
what it writes, not what the index holds.

The chunk collection's metadata records the embedding model and dimension that built
it; opening it with another model raises `ModelMismatch`, naming the fix.

Side indexes (rag/sidecar.py: the keyword index, the statement index) are derived from
each article version like its chunks and kept in step here: written after the chunks and
before the record, deleted before the record, repaired by `reconcile()`, and dropped with
their generation.

Embedded (`PersistentClient`) by default, a Chroma server when `chroma_host` is set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag import schema, sidecar
from rag.settings import ARTICLES_SUFFIX, Settings

MODEL_KEY = "embedding_model"
DIM_KEY = "embedding_dim"
REFRESH_KEY = "last_refresh"
GENERATION_KEY = "generation"  # random per refresh: two refreshes in one second still differ
ROOTS_KEY = "roots"  # JSON list of the corpus folders and files ingests read
# "1" from a writer's first write until it has finished everything it wrote, "0" after:
# `reconcile()` scans the whole index only when it is not "0" (a writer was killed, or
# the index predates the mark). See `Index.begin_write`.
DIRTY_KEY = "writing"
# A rebuild writes collections "<name>.g<6 hex>" (+ ARTICLES_SUFFIX) and then points the
# collection "<name>-pointer" at them (metadata SERVING_KEY); no pointer = "<name>" itself.
POINTER_SUFFIX = "-pointer"
SERVING_KEY = "serving"
_PAGE = 2000  # rows per get() page when scanning a collection
# The embedded index's files whose change means another process wrote (SQLite and its log).
_DB_FILES = ("chroma.sqlite3", "chroma.sqlite3-wal")
_WRITE_BATCH = 1000  # rows per add()/delete() call (Chroma limits the batch size)
_REPAIR_BATCH = 200  # articles per side-index repair write (texts are read back for them)


class StoreError(Exception):
    """The index cannot be opened or written; the message says what to do."""


class ModelMismatch(StoreError):
    """The index was built with another embedding model than the settings ask for."""


@dataclass(frozen=True)
class ArticleRecord:
    article_id: str
    version: str  # of the article's text and metadata (ingest.pipeline.version_hash)
    n_chunks: int
    path: str
    date: str
    text_hash: str


@dataclass(frozen=True)
class Stats:
    articles: int
    chunks: int
    embedding_model: str | None
    date_min: str | None
    date_max: str | None
    last_refresh: str | None
    # Records whose chunk count differs from their n_chunks (never searchable as they are;
    # the next ingest redoes them). While a writer runs, its uncommitted articles count too.
    incomplete_articles: int = 0
    writer: str | None = None  # 'pid N, started …' of the ingest writing right now
    # Chunks longer than the model's window, cut off when embedded (goal 0); None when
    # chunks written before this was measured remain (the next ingest re-chunks them).
    truncated_chunks: int | None = 0

    def as_dict(self) -> dict:
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "embedding_model": self.embedding_model or "",
            "date_min": self.date_min,
            "date_max": self.date_max,
            "last_refresh": self.last_refresh,
            "incomplete_articles": self.incomplete_articles,
            "writer": self.writer,
            "truncated_chunks": self.truncated_chunks,
        }


def connect(settings: Settings):
    """A Chroma client for the settings: embedded at `index_dir`, or a server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001 - connection errors come in many types
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"({exc.__class__.__name__}). Start it with `chroma run --host "
                f"{settings.chroma_host} --port {settings.chroma_port} --path <folder>`, or unset "
                "RAG_CHROMA_HOST to use the embedded index."
            ) from exc
        return client
    path = settings.index_dir
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise StoreError(
            f"RAG_INDEX_DIR: {blocker} is a file, not a folder. Set RAG_INDEX_DIR to a folder "
            "(it is created when missing), or move the file away."
        )
    try:  # readers write nothing: an index in a read-only folder still answers
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"The index folder {path} is not usable: {exc.strerror or exc}. "
            "Set RAG_INDEX_DIR to a writable folder."
        ) from exc
    opened = _snapshot(path) if _read_only(path) else path
    try:
        return chromadb.PersistentClient(path=str(opened), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(
            f"Cannot open the Chroma index in {path}: {exc}. If the folder holds something "
            "else or a damaged index, point RAG_INDEX_DIR elsewhere or delete the folder "
            "and run `python -m ingest` again."
        ) from exc


def _read_only(path) -> bool:
    """An existing index this process may not write (permissions, immutable files)."""
    db = path / _DB_FILES[0]
    return db.exists() and not (os.access(path, os.W_OK) and os.access(db, os.W_OK))


def _snapshot(path):
    """A private copy of a read-only index, removed at exit.

    Chroma's embedded client writes to its folder even to read (its database on opening,
    vector files on the first query), so a read-only index is read through a copy; the
    copy is taken again when the original changes (see `Index.refresh`).
    """
    import atexit
    import shutil
    import sqlite3
    import tempfile
    from pathlib import Path

    copy = Path(tempfile.mkdtemp(prefix="rag-index-"))
    atexit.register(shutil.rmtree, copy, True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, copy / entry.name)
    source = sqlite3.connect(f"{(path / _DB_FILES[0]).as_uri()}?mode=ro", uri=True)
    try:
        with sqlite3.connect(copy / _DB_FILES[0]) as target:
            source.backup(target)  # consistent even if someone may write the original
    finally:
        source.close()
    return copy


def incomplete(
    records: dict[str, ArticleRecord], groups: dict[tuple[str, str], list[str]]
) -> list[str]:
    """Ids of records without exactly their n_chunks chunks of their own version, sorted."""
    return sorted(
        aid
        for aid, rec in records.items()
        if len(groups.get((aid, rec.version), ())) != rec.n_chunks
    )


def _forget_cached_client(path) -> None:
    """Make the next PersistentClient for `path` a new one, reading the files afresh.

    chromadb keeps one system per path and process (SharedSystemClient); its in-memory
    vector index is not reloaded when another process writes. The old system is not
    stopped: handles still in use by other threads keep working until dropped.
    """
    from chromadb.api.client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        with SharedSystemClient._refcount_lock:
            systems.pop(str(path), None)
            SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    else:  # another chromadb layout: forget every cached system
        SharedSystemClient.clear_system_cache()


class Index:
    """Chunks and article records of one corpus in Chroma.

    Long-lived readers call `refresh()` before reading (the retriever does, per search):
    when another process wrote the embedded index since, the client is reopened, because
    Chroma's in-process vector index would otherwise keep serving the old state (ids of
    deleted chunks, whose rows come back as None, and no new chunks).
    """

    def __init__(self, settings: Settings, client=None, generation: str | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else connect(settings)
        self.name = settings.collection
        self.generation = generation  # fixed (a rebuild's target) or resolved (None)
        self._chunks = None
        self._articles = None
        self._sidecars: list[sidecar.Sidecar] | None = None
        self._lock = threading.Lock()
        self._marked = False  # this object set the dirty mark and has not cleared it
        self._seen = self._disk_state()
        self.current = f"{self.name}.g{generation}" if generation else self._serving()

    # --- other processes' writes ---------------------------------------------
    def _disk_state(self) -> tuple | None:
        """Size, mtime and inode of the embedded index's database files (None for a server)."""
        if self.settings.chroma_host:
            return None
        state = []
        for name in _DB_FILES:
            try:
                st = os.stat(self.settings.index_dir / name)
            except OSError:
                state.append(None)
            else:
                state.append((st.st_size, st.st_mtime_ns, st.st_ino))
        return tuple(state)

    def _wrote(self) -> None:
        """Our own writes keep the in-process state current: no reopen for them."""
        self._seen = self._disk_state()

    def refresh(self, force: bool = False) -> bool:
        """Reopen the embedded client if another process wrote since (or `force`);
        True when it did."""
        state = self._disk_state()
        if state is None:  # a server: no files to watch, only the pointer
            self._follow_pointer()
            return False
        if state == self._seen and not force:
            return False
        with self._lock:
            if state == self._seen and not force:
                return False
            _forget_cached_client(self.settings.index_dir)
            self.client = connect(self.settings)
            self._chunks = self._articles = None
            self._seen = state
        self._follow_pointer()
        return True

    # --- collections -------------------------------------------------------
    def _serving(self) -> str:
        """The chunk collection readers use: the pointer's generation, else the base name."""
        try:
            pointer = self.client.get_collection(f"{self.name}{POINTER_SUFFIX}")
        except Exception:  # noqa: BLE001 - no pointer: never rebuilt aside
            return self.name
        generation = (pointer.metadata or {}).get(SERVING_KEY)
        return f"{self.name}.g{generation}" if generation else self.name

    def _follow_pointer(self) -> None:
        if self.generation is None:
            current = self._serving()
            if current != self.current:  # a rebuild was switched in
                self.current = current
                self._chunks = self._articles = None
                self._sidecars = None

    def _collection(self, name: str, **create):
        """Open a collection; create it only when missing (readers of an index write nothing)."""
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception:  # noqa: BLE001 - missing: chromadb raises NotFoundError or ValueError
            pass
        try:
            return self.client.get_or_create_collection(name, embedding_function=None, **create)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(
                f"The index at {self.settings.index_location} has no collection {name!r} and "
                f"it cannot be created ({exc}). Fill the index with `python -m ingest` from an "
                "account that may write it."
            ) from exc

    @property
    def chunks(self):
        if self._chunks is None:
            self._chunks = self._collection(
                self.current, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._chunks

    @property
    def articles(self):
        if self._articles is None:
            self._articles = self._collection(f"{self.current}{ARTICLES_SUFFIX}")
        return self._articles

    @property
    def sidecars(self) -> list[sidecar.Sidecar]:
        """The side indexes of the current generation (rag.sidecar.FACTORIES)."""
        if self._sidecars is None:
            self._sidecars = sidecar.make_all(self)
        return self._sidecars

    def side(self, name: str) -> sidecar.Sidecar | None:
        """The side index called `name` (e.g. "keyword"), or None when none is registered."""
        return next((s for s in self.sidecars if s.name == name), None)

    def hold(self) -> None:
        """Let side indexes keep their writers open until `close` (one ingest run)."""
        for side in self.sidecars:
            hold = getattr(side, "hold", None)
            if hold is not None:
                hold()

    def close(self) -> None:
        """Let side indexes release what they hold for writing (a writer lock, a log)."""
        for side in self._sidecars or ():
            close = getattr(side, "close", None)
            if close is not None:
                close()

    def _at(self, collection: str) -> Index:
        """This index's view of another generation's chunk collection (to drop it)."""
        generation = collection[len(self.name) + 2 :] if collection != self.name else None
        other = Index(self.settings, client=self.client, generation=generation)
        other.current = collection
        return other

    def aside(self) -> Index:
        """A new, empty generation of this index, invisible to readers until `switch_to`."""
        return Index(self.settings, client=self.client, generation=uuid.uuid4().hex[:6])

    def switch_to(self, target: Index) -> None:
        """Point readers at `target`'s complete generation, then drop the one it replaces."""
        old = self.current
        pointer = self.client.get_or_create_collection(
            f"{self.name}{POINTER_SUFFIX}", embedding_function=None
        )
        pointer.modify(metadata={SERVING_KEY: target.generation})  # the switch: one write
        self.current = target.current
        self._chunks = self._articles = None
        self._sidecars = None
        self._drop([old, f"{old}{ARTICLES_SUFFIX}"])

    def drop_abandoned(self) -> list[str]:
        """Drop collections of this index that readers do not use: generations of killed
        rebuilds, and the ones a switch replaced if it was killed before dropping them."""
        ours = re.compile(
            rf"{re.escape(self.name)}(\.g[0-9a-f]{{6}})?({re.escape(ARTICLES_SUFFIX)})?"
        )
        keep = {self.current, f"{self.current}{ARTICLES_SUFFIX}"}
        names = [getattr(c, "name", c) for c in self.client.list_collections()]
        gone = [n for n in names if ours.fullmatch(n) and n not in keep]
        self._drop(gone)
        return gone

    def _drop(self, names: Sequence[str]) -> None:
        """Drop these collections; a chunk collection's side indexes go first, so a kill in
        between leaves the collection, and with it the next run's reason to drop them."""
        for name in names:
            if not name.endswith(ARTICLES_SUFFIX):
                for side in sidecar.make_all(self._at(name)):
                    side.drop()
            with contextlib.suppress(Exception):  # a missing collection is fine
                self.client.delete_collection(name)
        self._wrote()

    def _meta(self) -> dict:
        """The chunk collection's metadata as stored now (a handle keeps a snapshot)."""
        try:
            return dict(self.client.get_collection(self.chunks.name).metadata or {})
        except Exception:  # noqa: BLE001 - dropped meanwhile: the handle's copy will do
            return dict(self.chunks.metadata or {})

    # --- model bookkeeping -------------------------------------------------
    @property
    def embedding_model(self) -> str | None:
        return self._meta().get(MODEL_KEY)

    @property
    def embedding_dim(self) -> int | None:
        dim = self._meta().get(DIM_KEY)
        return int(dim) if dim is not None else None

    def check_model(self, model_id: str, dimension: int) -> None:
        """Raise ModelMismatch unless the index is empty or was built with this model."""
        built_with, built_dim = self.embedding_model, self.embedding_dim
        if built_with is None or self.chunks.count() == 0:
            return
        if built_with != model_id or (built_dim is not None and built_dim != dimension):
            also = ""
            if built_with.split("@")[0] == model_id.split("@")[0]:  # hub original vs 4-bit copy
                also = (
                    "; these are two copies of one model with different vectors (the hub "
                    "original loads only when it is cached or the hub is reachable)"
                )
            built_name, _, variant = built_with.partition("+")  # e.g. "+onnx-int8"
            keep = f"RAG_EMBEDDING_MODEL={built_name}"
            if variant != model_id.partition("+")[2]:
                keep += f" RAG_EMBEDDING_BACKEND={variant or 'auto'}"
            raise ModelMismatch(
                f"The index at {self.settings.index_location} was built with embedding model "
                f"{built_with!r} ({built_dim} dimensions), but the settings load "
                f"{model_id!r} ({dimension} dimensions){also}. Either rebuild the index with "
                f"the new model: `python -m ingest --rebuild`, or set {keep} to use the index "
                "as it is."
            )

    def _set_meta(self, **values) -> None:
        meta = self._meta()
        meta.update(values)
        meta.pop("hnsw:space", None)  # legacy key, rejected by modify()
        self.chunks.modify(metadata=meta)
        self._wrote()

    def mark_model(self, model_id: str, dimension: int) -> None:
        if self.embedding_model != model_id or self.embedding_dim != dimension:
            self._set_meta(**{MODEL_KEY: model_id, DIM_KEY: dimension})

    def mark_refreshed(self) -> None:
        """A writer finished everything it wrote: note the time and clear the dirty mark
        (one metadata write)."""
        self._set_meta(
            **{
                REFRESH_KEY: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                GENERATION_KEY: uuid.uuid4().hex,
                DIRTY_KEY: "0",
            }
        )
        self._marked = False

    # --- the dirty mark ------------------------------------------------------
    def begin_write(self) -> None:
        """Set the dirty mark before this writer's first write (once per writer).

        Every writing method calls this first; `mark_refreshed` clears the mark when the
        writer (an ingest run, the archive view's remove) has finished. A writer killed
        in between leaves the mark set, and the next `reconcile()` scans and repairs.
        """
        if not self._marked:
            self._set_meta(**{DIRTY_KEY: "1"})
            self._marked = True

    def is_clean(self) -> bool:
        """True when the last writer finished everything it wrote (no repair needed)."""
        return self._meta().get(DIRTY_KEY) == "0"

    # --- reading -------------------------------------------------------------
    def _scan(self, collection, include: list[str], where: dict | None = None) -> Iterator[tuple]:
        offset = 0
        while True:
            page = collection.get(include=include, limit=_PAGE, offset=offset, where=where)
            ids = page["ids"]
            if not ids:
                return
            cols = [page[k] for k in include]
            yield from zip(ids, *cols, strict=True)
            if len(ids) < _PAGE:
                return
            offset += len(ids)

    def records(self) -> dict[str, ArticleRecord]:
        """Every article record, by article id."""
        out = {}
        for _id, meta in self._scan(self.articles, ["metadatas"]):
            out[_id] = ArticleRecord(
                article_id=_id,
                version=str(meta[schema.VERSION]),
                n_chunks=int(meta[schema.N_CHUNKS]),
                path=str(meta.get(schema.PATH, "")),
                date=str(meta.get(schema.DATE, "")),
                text_hash=str(meta.get(schema.TEXT_HASH, "")),
            )
        return out

    def chunk_versions(self) -> dict[tuple[str, str], list[str]]:
        """Chunk ids grouped by (article id, version)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for cid, meta in self._scan(self.chunks, ["metadatas"]):
            key = (str(meta[schema.ARTICLE_ID]), str(meta[schema.VERSION]))
            groups.setdefault(key, []).append(cid)
        return groups

    def get_article(self, article_id: str) -> schema.Article | None:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return schema.Article.from_metadata(got["documents"][0] or "", got["metadatas"][0])

    def iter_chunks(self) -> Iterator[tuple[str, str, dict]]:
        """(chunk id, text, metadata) for every chunk, in pages."""
        yield from self._scan(self.chunks, ["documents", "metadatas"])

    def stats(self) -> Stats:
        """What the index holds; cheap at any size when the keyword index is there (counts,
        date bounds and a consistency check from its article table, no scan of Chroma)."""
        from rag.lock import holder

        writer = holder(self.settings)
        meta = self._meta()
        articles, chunks = self.articles.count(), self.chunks.count()
        keyword = self.side("keyword")
        summary = keyword.summary() if keyword is not None else None
        if summary is not None:
            date_min, date_max = summary.date_min, summary.date_max
        else:  # an index written before the keyword index existed: scan the records
            dates = [r.date for r in self.records().values() if r.date]
            date_min, date_max = (min(dates), max(dates)) if dates else (None, None)
        # The scan is needed only when the counts disagree (an interrupted run, a writer
        # at work): every committed version's chunks and keyword entries match its record.
        consistent = (
            writer is None
            and summary is not None
            and summary.articles == articles
            and summary.chunks == chunks
        )
        return Stats(
            articles=articles,
            chunks=chunks,
            embedding_model=meta.get(MODEL_KEY),
            date_min=date_min,
            date_max=date_max,
            last_refresh=meta.get(REFRESH_KEY),
            incomplete_articles=0
            if consistent
            else len(incomplete(self.records(), self.chunk_versions())),
            writer=writer,
            truncated_chunks=summary.truncated if consistent else self.truncated_chunks(),
        )

    def truncated_chunks(self) -> int | None:
        """Chunks whose embedded text exceeded the model's window (None: not all measured)."""
        measured = self.chunks.get(where={schema.TOKENS: {"$gte": 0}}, include=[])["ids"]
        if len(measured) < self.chunks.count():
            return None
        return len(self.chunks.get(where={schema.TRUNCATED: True}, include=[])["ids"])

    def sources(self) -> list[str]:
        """Distinct non-empty sources, sorted (for the UI filter)."""
        keyword = self.side("keyword")
        summary = keyword.summary() if keyword is not None else None
        if summary is not None:
            return summary.sources
        found = {
            str(m.get(schema.SOURCE, "")) for _id, m in self._scan(self.articles, ["metadatas"])
        }
        return sorted(s for s in found if s)

    def roots(self) -> list[str]:
        """The corpus folders and files ingests have read into this index, sorted."""
        try:
            return sorted(json.loads(self._meta().get(ROOTS_KEY) or "[]"))
        except ValueError:
            return []

    def add_roots(self, roots: Sequence[str]) -> None:
        """Remember folders an ingest read (kept across runs; shown by the archive view)."""
        known = set(self.roots())
        if not set(roots) <= known:
            self._set_meta(**{ROOTS_KEY: json.dumps(sorted(known | set(roots)))})

    def fingerprint(self) -> str:
        """Changes whenever the content changes; keys caches such as the keyword index."""
        self.refresh()
        meta = self._meta()
        return (
            f"{self.chunks.count()}:{self.articles.count()}:{meta.get(REFRESH_KEY, '')}:"
            f"{meta.get(GENERATION_KEY, '')}"
        )

    # --- writing -------------------------------------------------------------
    def write_articles(
        self,
        items: Sequence[tuple[schema.Article, str, Sequence[tuple[int, int]], np.ndarray, str]],
        chunk_meta: Sequence[Sequence[dict]] | None = None,
        embed: sidecar.Embed | None = None,
    ) -> int:
        """Store article versions: all their chunks first, then every side index, then
        their records (the commit point), each in as few calls as the batch limit allows.

        Each item is (article, version, chunk spans, chunk vectors, text hash); spans
        are (start, end) offsets into `article.text`. `chunk_meta`, if given, holds extra
        metadata per item and chunk (token counts). `embed` encodes passages for side
        indexes that store vectors of their own. Returns the number of chunks written.
        """
        ids, vectors, documents, metadatas = [], [], [], []
        versions: list[sidecar.ArticleVersion] = []
        for k, (article, version, spans, embeddings, _) in enumerate(items):
            base = article.metadata(version)
            n = len(spans)
            extra = chunk_meta[k] if chunk_meta is not None else [{}] * n
            chunk_ids = [schema.chunk_id(article.id, version, i) for i in range(n)]
            metas = [
                {
                    **base,
                    schema.CHUNK_INDEX: i,
                    schema.N_CHUNKS: n,
                    schema.START: s,
                    schema.END: e,
                    **extra[i],
                }
                for i, (s, e) in enumerate(spans)
            ]
            ids += chunk_ids
            vectors.append(np.asarray(embeddings, dtype=np.float32).reshape(n, -1))
            documents += [article.text[s:e] for s, e in spans]
            metadatas += metas
            versions.append(sidecar.ArticleVersion(article, version, chunk_ids, spans, metas))
        if not ids:
            return 0
        self.begin_write()
        stacked = np.vstack(vectors)
        for lo in range(0, len(ids), _WRITE_BATCH):
            hi = lo + _WRITE_BATCH
            self.chunks.upsert(
                ids=ids[lo:hi],
                embeddings=stacked[lo:hi],
                documents=documents[lo:hi],
                metadatas=metadatas[lo:hi],
            )
        for side in self.sidecars:
            side.write(versions, embed)
        for lo in range(0, len(items), _WRITE_BATCH):
            batch = items[lo : lo + _WRITE_BATCH]
            self.articles.upsert(
                ids=[a.id for a, *_ in batch],
                embeddings=[[0.0]] * len(batch),  # records are looked up by id only
                documents=[a.text for a, *_ in batch],
                metadatas=[
                    {**a.metadata(h), schema.N_CHUNKS: len(sp), schema.TEXT_HASH: th}
                    for a, h, sp, _, th in batch
                ],
            )
        self._wrote()
        return len(ids)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete chunks by id (their side entries are deleted by `delete_versions`)."""
        if not ids:
            return
        self.begin_write()
        for lo in range(0, len(ids), _WRITE_BATCH):
            self.chunks.delete(ids=list(ids[lo : lo + _WRITE_BATCH]))
        self._wrote()

    def delete_versions(self, groups: Mapping[tuple[str, str], Sequence[str]]) -> None:
        """Delete article versions that are not (or no longer) committed: their side
        entries, then their chunks. `groups` maps (article id, version) to chunk ids."""
        if not groups:
            return
        self.begin_write()
        for side in self.sidecars:
            side.delete(list(groups))
        self.delete_chunks([cid for ids in groups.values() for cid in ids])

    def delete_records(self, article_ids: Sequence[str]) -> None:
        if not article_ids:
            return
        self.begin_write()
        for lo in range(0, len(article_ids), _WRITE_BATCH):
            self.articles.delete(ids=list(article_ids[lo : lo + _WRITE_BATCH]))
        self._wrote()

    def remove_article(
        self, article_id: str, chunk_ids: Sequence[str], version: str | None = None
    ) -> None:
        """Side entries and chunks first, the record last, so a kill never leaves searchable
        entries without a record. `version` is the record's (looked up when not given).

        A remove on a clean index (the archive view's) clears the dirty mark when it is
        done; one inside a larger write (an ingest run) leaves it to that writer."""
        on_its_own = not self._marked and self.is_clean()
        if version is None:
            got = self.articles.get(ids=[article_id], include=["metadatas"])
            metas = [m for m in got["metadatas"] if m is not None]
            version = str(metas[0].get(schema.VERSION, "")) if metas else ""
        self.delete_versions({(article_id, version): chunk_ids})
        self.delete_records([article_id])
        if on_its_own:
            self._set_meta(**{DIRTY_KEY: "0"})
            self._marked = False

    def reconcile(
        self, embed: sidecar.Embed | None = None
    ) -> tuple[dict[str, ArticleRecord], dict[tuple[str, str], list[str]], int]:
        """Drop orphaned and half-written versions left by an interrupted run, and bring
        every side index in line with the records (also how a side index that is new to
        this index is back-filled). `embed` is passed to side indexes that need vectors.

        Returns (records, chunk groups, number of chunks removed) as they are afterwards.

        The full scan of chunks and side indexes runs only when needed: when the dirty
        mark is not cleared (a writer was killed, or the index predates the mark), or when
        cheap counts disagree (chunks against the records' n_chunks, each side index's
        complete versions against the records: a side index new to this index, or
        versions a side index could not write). Otherwise the records are read and the
        chunk ids derived from them (`schema.chunk_id`), as every committed version has
        exactly its n_chunks chunks.
        """
        if self.is_clean():
            quick = self._clean_state()
            if quick is not None:
                return quick
        was_marked = self._marked
        records = self.records()
        groups = self.chunk_versions()
        removed = 0
        counts = Counter()
        orphans = {}
        for (aid, h), ids in list(groups.items()):
            rec = records.get(aid)
            if rec is None or rec.version != h:
                orphans[(aid, h)] = ids  # no record points at this version
                removed += len(ids)
                del groups[(aid, h)]
            else:
                counts[aid] = len(ids)
        self.delete_versions(orphans)
        for aid, rec in list(records.items()):
            if counts.get(aid, 0) != rec.n_chunks:  # half-written: redo from scratch
                ids = groups.pop((aid, rec.version), [])
                self.remove_article(aid, ids, rec.version)
                removed += len(ids)
                del records[aid]
        for side in self.sidecars:
            self._repair(side, records, groups, embed)
        if not was_marked:  # repaired, and this writer has nothing else in flight yet
            self._set_meta(**{DIRTY_KEY: "0"})
            self._marked = False
        return records, groups, removed

    def _clean_state(
        self,
    ) -> tuple[dict[str, ArticleRecord], dict[tuple[str, str], list[str]], int] | None:
        """`reconcile()`'s result without a scan of chunks or side indexes, or None when a
        cheap count says the index is not in step (then the full scan decides)."""
        records = self.records()
        if sum(r.n_chunks for r in records.values()) != self.chunks.count():
            return None
        for side in self.sidecars:
            count = getattr(side, "version_count", None)
            if count is None or count() != len(records):
                return None
        groups = {
            (aid, rec.version): [schema.chunk_id(aid, rec.version, i) for i in range(rec.n_chunks)]
            for aid, rec in records.items()
        }
        return records, groups, 0

    def _repair(self, side, records, groups, embed) -> None:
        """Delete a side index's entries of versions no record names; write the committed
        versions it lacks, in batches (texts from the records, spans from the chunks)."""
        held = side.versions()
        committed = {(aid, rec.version) for aid, rec in records.items()}
        stale = sorted(held - committed)
        missing = sorted(committed - held)
        if stale or missing:
            self.begin_write()
        if stale:
            side.delete(stale)
        for lo in range(0, len(missing), _REPAIR_BATCH):
            batch = missing[lo : lo + _REPAIR_BATCH]
            got = self.articles.get(
                ids=[aid for aid, _ in batch], include=["documents", "metadatas"]
            )
            texts = {
                aid: (doc or "", meta)
                for aid, doc, meta in zip(
                    got["ids"], got["documents"], got["metadatas"], strict=True
                )
                if meta is not None
            }
            chunk_ids = [cid for key in batch for cid in groups.get(key, [])]
            chunk_meta = {}
            for c in range(0, len(chunk_ids), _WRITE_BATCH):
                part = self.chunks.get(ids=chunk_ids[c : c + _WRITE_BATCH], include=["metadatas"])
                chunk_meta.update(zip(part["ids"], part["metadatas"], strict=True))
            versions = []
            for aid, version in batch:
                if aid not in texts:
                    continue
                article = schema.Article.from_metadata(*texts[aid])
                held_chunks = sorted(
                    (int(chunk_meta[c][schema.CHUNK_INDEX]), c)
                    for c in groups.get((aid, version), [])
                    if chunk_meta.get(c)
                )
                metas = [chunk_meta[c] for _, c in held_chunks]
                versions.append(
                    sidecar.ArticleVersion(
                        article,
                        version,
                        [c for _, c in held_chunks],
                        [(int(m[schema.START]), int(m[schema.END])) for m in metas],
                        metas,
                    )
                )
            if versions:
                side.write(versions, embed)
