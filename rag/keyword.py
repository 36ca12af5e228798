"""BM25 keyword search over the chunks, German-aware, in a persistent index on disk.

Text is lower-cased, split into word tokens, stripped of German and English stop words
(journalists ask in English about German articles) and stemmed with the Snowball German
stemmer (which also folds umlauts: "österreichischen" -> "osterreich"). The stemmed tokens
are what the engine indexes (space-separated; its whitespace tokenizer only splits them
again), so the analysis stays ours and the engine supplies the inverted index and BM25.

The keyword index is a side index of the chunk collection (rag/sidecar.py): one folder
per index generation, `<RAG_KEYWORD_DIR or RAG_INDEX_DIR>/<collection>.keyword/`, written
with the chunks of each article version (before its record, the commit point), deleted
with them, repaired by `Index.reconcile()`. It holds

- `terms/`: a Tantivy index, one document per chunk (chunk id, article id + version,
  stemmed terms, date, source). Tantivy ranks with BM25 and prunes to the top k (block-max
  WAND), so a question with common words costs milliseconds at a million chunks, and the
  date and source filters are part of the ranked query, not a filter of its top k;
- `articles.sqlite3`: one row per (article id, version) with title, date, source, url,
  path and chunk count, written after the version's terms (its "complete" mark); it
  answers the app's questions at start (sources, date range, counts) without a scan.

Readers reload Tantivy's reader at each search (a file check when nothing changed), so
a refresh by another process is visible at the next question; SQLite's write-ahead log
lets them read the article table while an ingest writes. One writer at a time (Tantivy
locks its folder; the ingest's writer lock orders ingests anyway): an ingest holds it for
its run (`hold`), any other write opens and releases it.

`match_strength` tells how well a query's terms actually match the corpus (IDF-weighted
share of the query's terms found in its best BM25 chunk): the retriever uses it to decide
how much to trust BM25 for that query.

Shortcuts: Tantivy's BM25 (k1 1.2, b 0.75, idf log(1 + (N - n + 0.5) / (n + 0.5))) differs
from bm25s's (k1 1.5) only in k1; document frequencies count deleted chunks until their
segment is merged. Engine choice and the measurements behind it: docs/benchmarks.md
("Keyword index engine"). The folder must be on a local disk of the machine that runs the
app and the ingest (SQLite's log needs shared memory; not a network file system).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import re
import shutil
import sqlite3
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag import schema

_TOKEN = re.compile(r"\w+", re.UNICODE)

# Question words and fillers that the stock German list lacks.
_EXTRA_GERMAN = """wer wen wem wessen wann warum weshalb wieso wofür womit wovon woher wohin
worauf worüber wodurch wozu viele vielen wieviel wieviele gibt gab ab etwa laut sowie bzw
ja nein mehr beim seit wurde wurden worden"""

# A compact English stop list (bm25s ships only 33 words); no word here is a German
# content word that would be lost from German questions.
_ENGLISH = """a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each
few for from further had has have having he her here hers herself him himself his how i if
in into is it its itself just me more most my myself no nor not of off on once only or
other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why with would you your yours yourself
yourselves many much also whose did does done called named known
type one"""

SUFFIX = ".keyword"
SCHEMA_VERSION = "3"
NAME = "keyword"
_ARTICLES_DB = "articles.sqlite3"
_TERMS_DIR = "terms"
_KEY_SEP = "\x1f"
_WRITER_HEAP = 64_000_000  # bytes of the Tantivy writer's buffer (it flushes when full)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS article(
    article_id TEXT NOT NULL, version TEXT NOT NULL, title TEXT, date TEXT, date_int INTEGER,
    source TEXT, url TEXT, path TEXT, n_chunks INTEGER,
    truncated INTEGER,  -- chunks cut off at the model's window; NULL: not measured
    PRIMARY KEY (article_id, version));
CREATE INDEX IF NOT EXISTS article_date ON article(date);
CREATE INDEX IF NOT EXISTS article_source ON article(source);
"""


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """German (bm25s list + question words) and English stop words, lower case."""
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

    return frozenset(
        w.lower()
        for w in (*STOPWORDS_GERMAN, *STOPWORDS_EN, *_EXTRA_GERMAN.split(), *_ENGLISH.split())
    )


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("german")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, German-stemmed word tokens.

    >>> tokenize("Die österreichischen Häuser wurden 1973 gebaut.")
    ['osterreich', 'haus', '1973', 'gebaut']
    """
    stops = stop_words()
    words = [
        w for w in _TOKEN.findall(text.lower()) if w not in stops and (len(w) > 1 or w.isdigit())
    ]
    return _stemmer().stemWords(words) if words else []


def idf(n_chunks: int, df: int) -> float:
    """Smoothed inverse document frequency; unseen terms get the highest value.

    >>> round(idf(100, 0), 3), round(idf(100, 50), 3)
    (5.308, 0.693)
    """
    n = max(n_chunks, 1)
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def folder(settings) -> Path:
    """Where the keyword index files live: RAG_KEYWORD_DIR, else the index folder."""
    return Path(settings.keyword_dir or settings.index_dir)


def path_for(settings, collection: str) -> Path:
    """The keyword index file of one chunk collection (one index generation)."""
    return folder(settings) / f"{collection}{SUFFIX}"


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    score: float
    terms: tuple[str, ...] = ()  # the chunk's stemmed terms (for match_strength)


@dataclass(frozen=True)
class Summary:
    """What the app shows at start, from the article table (no scan of Chroma)."""

    articles: int  # (article id, version) rows
    chunks: int  # their chunks
    truncated: int | None  # chunks cut off at the model's window (None: not all measured)
    date_min: str | None
    date_max: str | None
    sources: list[str]


def _schema():
    import tantivy

    b = tantivy.SchemaBuilder()
    b.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    b.add_text_field("key", tokenizer_name="raw")  # article id + version, for deletes
    b.add_text_field("terms", stored=True, tokenizer_name="whitespace")  # pre-stemmed
    b.add_integer_field("date_int", indexed=True, fast=True)
    b.add_text_field("source", tokenizer_name="raw")
    return b.build()


def _key(article_id: str, version: str) -> str:
    return f"{article_id}{_KEY_SEP}{version}"


class KeywordIndex:
    """The persistent keyword index of one chunk collection (a side index): a folder with
    the Tantivy index of the chunks' terms and the SQLite table of the article versions."""

    name = NAME

    def __init__(self, path: Path, *, server_mode: bool = False) -> None:
        self.path = Path(path)
        self.server_mode = server_mode
        self._local = threading.local()  # one SQLite read connection per thread
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None  # the writer's
        self._writer = None  # Tantivy's IndexWriter (a lock on the folder)
        self._held = False  # keep the writer between writes (an ingest run: `hold`)
        self._index = None  # Tantivy index opened for reading
        self._schema = None
        self._warned = False

    # --- opening -------------------------------------------------------------------
    @property
    def _terms_path(self) -> Path:
        return self.path / _TERMS_DIR

    def _articles(self) -> sqlite3.Connection | None:
        """This thread's read-only connection to the article table (None: no index)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        db = self.path / _ARTICLES_DB
        if not db.is_file():
            return None
        uri = db.resolve().as_uri()
        for mode in ("mode=ro", "immutable=1"):  # immutable: a read-only folder
            try:
                con = sqlite3.connect(f"{uri}?{mode}", uri=True, check_same_thread=False)
                row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.Error:  # e.g. the log's shared memory cannot be created
                continue
            if row and row[0] == SCHEMA_VERSION:
                self._local.con = con
                return con
            con.close()
            return None
        return None

    def _terms(self):
        """The Tantivy index for searching, reloaded so that it shows the last commit of
        any process (a cheap check when nothing changed); None while there is none."""
        import tantivy

        with self._lock:
            if self._index is None:
                if not (self._terms_path / "meta.json").is_file():
                    return None
                try:
                    self._index = tantivy.Index.open(str(self._terms_path))
                except Exception:  # noqa: BLE001 - e.g. a read-only folder (a lock file)
                    self._index = tantivy.Index.open(str(_read_only_copy(self._terms_path)))
                self._schema = self._index.schema
            else:
                try:
                    self._index.reload()
                except Exception:  # noqa: BLE001 - the folder was dropped (a rebuild's switch)
                    self._index = None
                    return None
            return self._index

    def _write_db(self) -> sqlite3.Connection:
        """The writer's connection to the article table, creating the folder and files."""
        if self._db is not None:
            return self._db
        from rag.store import StoreError

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(
                self.path / _ARTICLES_DB, isolation_level=None, check_same_thread=False
            )
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")  # atomic; durable at each checkpoint
            if self._meta(con, "schema") not in (None, SCHEMA_VERSION):
                con.executescript("DROP TABLE IF EXISTS article; DROP TABLE IF EXISTS meta;")
            con.executescript(_SCHEMA)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('chunks', '0')",
                (SCHEMA_VERSION,),
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(self._unwritable(exc)) from exc
        self._db = con
        # Fold the log into the file at exit, so that a copy or a read-only reader of the
        # folder sees every commit in the database file itself.
        atexit.register(self.close)
        return con

    def _index_writer(self):
        """Tantivy's writer (one per index across processes; held until `close`)."""
        if self._writer is not None:
            return self._writer
        import tantivy

        from rag.store import StoreError

        self._write_db()
        try:
            self._terms_path.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(_schema(), path=str(self._terms_path), reuse=True)
            self._writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        except (OSError, ValueError) as exc:
            raise StoreError(self._unwritable(exc)) from exc
        self._schema = index.schema
        return self._writer

    def _unwritable(self, exc: BaseException) -> str:
        where = "RAG_KEYWORD_DIR" if self.server_mode else "RAG_KEYWORD_DIR or RAG_INDEX_DIR"
        return (
            f"The keyword index {self.path} cannot be written ({exc}). Set {where} to a "
            "writable folder on a local disk."
        )

    @staticmethod
    def _meta(con: sqlite3.Connection, key: str) -> str | None:
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def hold(self) -> None:
        """Keep the writer open between writes until `close` (an ingest run): cheaper than
        opening it per batch, and Tantivy merges segments meanwhile."""
        self._held = True

    def _release(self) -> None:
        """Let go of Tantivy's writer (and its lock) once its merges are done."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.wait_merging_threads()
            self._writer = None

    def close(self) -> None:
        """Release the writer (Tantivy's lock, merges finished) and fold SQLite's log in."""
        self._held = False
        self._release()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            atexit.unregister(self.close)
            self._db = None

    # --- the side-index contract (rag/sidecar.py) -----------------------------------
    def write(self, items: Sequence, embed=None) -> None:
        """Add these article versions, replacing what the index held for them. Their
        article rows, the mark of a complete version, are written after the terms."""
        if not items:
            return
        import tantivy

        keys = [(i.article.id, i.version) for i in items]
        self._forget(keys)
        writer = self._index_writer()
        for key in keys:
            writer.delete_documents_by_term("key", _key(*key))
        n = 0
        for item in items:
            a = item.article
            date = schema.date_to_int(a.date)
            for cid, (start, end) in zip(item.chunk_ids, item.spans, strict=True):
                writer.add_document(
                    tantivy.Document(
                        chunk_id=cid,
                        key=_key(a.id, item.version),
                        terms=" ".join(tokenize(a.text[start:end])),
                        date_int=date,
                        source=a.source,
                    )
                )
                n += 1
        writer.commit()
        if not self._held:  # e.g. one article removed from the app: free the lock at once
            self._release()
        rows = [
            (
                i.article.id,
                i.version,
                i.article.title,
                i.article.date or "",
                schema.date_to_int(i.article.date),
                i.article.source,
                i.article.url,
                i.article.path,
                len(i.spans),
                _truncated(i.chunk_meta),
            )
            for i in items
        ]
        self._transaction(
            lambda con: (
                con.executemany("INSERT INTO article VALUES (?,?,?,?,?,?,?,?,?,?)", rows),
                self._count(con, n),
            )
        )

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove the entries of these (article id, version) pairs: the article rows first
        (a kill in between leaves terms that `versions()` does not claim: repaired)."""
        if not keys or (self._db is None and not (self.path / _ARTICLES_DB).is_file()):
            return
        self._forget(keys)
        writer = self._index_writer()
        for key in keys:
            writer.delete_documents_by_term("key", _key(*key))
        writer.commit()
        if not self._held:
            self._release()

    def _forget(self, keys: Sequence[tuple[str, str]]) -> None:
        """Delete article rows (and their chunk count) of these versions, if any."""
        if self._db is None and not (self.path / _ARTICLES_DB).is_file():
            return

        def run(con):
            gone = 0
            for aid, version in keys:
                row = con.execute(
                    "DELETE FROM article WHERE article_id = ? AND version = ? RETURNING n_chunks",
                    (aid, version),
                ).fetchone()
                gone += row[0] if row else 0
            self._count(con, -gone)

        self._transaction(run)

    def _transaction(self, work) -> None:
        con = self._write_db()
        con.execute("BEGIN IMMEDIATE")
        try:
            work(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    @staticmethod
    def _count(con: sqlite3.Connection, delta: int) -> None:
        if delta:
            con.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'chunks'",
                (delta,),
            )

    def versions(self) -> set[tuple[str, str]]:
        """Every (article id, version) whose terms are completely written."""
        con = self._db or self._articles()
        if con is None:
            return set()
        return {(a, v) for a, v in con.execute("SELECT article_id, version FROM article")}

    def version_count(self) -> int:
        """How many complete versions the index holds (a cheap check that it is in step
        with the article records; see rag.store `Index.reconcile`)."""
        con = self._db or self._articles()
        if con is None:
            return 0
        return int(con.execute("SELECT count(*) FROM article").fetchone()[0])

    def entries(self) -> dict[tuple[str, str], list[str]]:
        """Chunk ids per (article id, version) of the complete versions (a full scan, for
        consistency checks)."""
        import tantivy

        held = self.versions()
        index = self._terms()
        if index is None or not held:
            return {}
        searcher = index.searcher()
        out: dict[tuple[str, str], list[str]] = {}
        for key in held:
            query = tantivy.Query.term_query(self._schema, "key", _key(*key))
            for _score, addr in searcher.search(query, limit=100_000, count=False).hits:
                out.setdefault(key, []).append(searcher.doc(addr)["chunk_id"][0])
        return out

    def drop(self) -> None:
        """Delete the folder (its generation was replaced)."""
        self.close()
        with self._lock:
            self._index = None
        shutil.rmtree(self.path, ignore_errors=True)

    # --- reading -------------------------------------------------------------------
    def _searchable(self):
        """The index to search. Missing: with a Chroma server that is a setting to fix
        (the ingest wrote it elsewhere), so it stops with a message; an embedded index
        from before the keyword index answers from the embeddings until the next ingest."""
        index = self._terms()
        if index is not None:
            return index
        if self.server_mode:
            from rag.store import StoreError

            raise StoreError(
                f"The Chroma server holds chunks but there is no keyword index at {self.path}. "
                "Set RAG_KEYWORD_DIR to the folder the ingest writes it to (a local disk of "
                "the machine that runs both the app and the ingest), or run `python -m "
                "ingest` with the same settings to build it there."
            )
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"No keyword index at {self.path}: answering from the embeddings alone. "
                "Run `python -m ingest` to build it.",
                stacklevel=3,
            )
        return None

    def _terms_query(self, query_terms: Sequence[str]):
        import tantivy

        Occur, Query = tantivy.Occur, tantivy.Query
        return Query.boolean_query(
            [
                (Occur.Should, Query.term_query(self._schema, "terms", t, index_option="freq"))
                for t in sorted(set(query_terms))
            ]
        )

    def search(
        self,
        query_terms: Sequence[str],
        k: int,
        date_from: int = 0,
        date_to: int = 0,
        sources: Sequence[str] = (),
    ) -> list[KeywordHit]:
        """The k best chunks for these terms within the filters (dates as YYYYMMDD ints, 0 =
        open; unknown dates are outside any upper bound), best first, scores positive."""
        import tantivy

        terms = [t for t in query_terms if t]
        index = self._searchable() if terms else None
        if index is None:
            return []
        Occur, Query = tantivy.Occur, tantivy.Query
        clauses = [(Occur.Must, self._terms_query(terms))]
        if date_from or date_to:
            lo = date_from or (1 if date_to else None)
            rng = Query.range_query(
                self._schema, "date_int", tantivy.FieldType.Integer, lo, date_to or None
            )
            clauses.append((Occur.Must, Query.const_score_query(rng, 0.0)))
        if sources:
            chosen = Query.term_set_query(self._schema, "source", list(sources))
            clauses.append((Occur.Must, Query.const_score_query(chosen, 0.0)))
        searcher = index.searcher()
        hits = searcher.search(Query.boolean_query(clauses), limit=k, count=False).hits
        out = []
        for score, addr in hits:
            if score > 0:
                doc = searcher.doc(addr)
                terms_ = tuple(doc["terms"][0].split()) if doc["terms"] else ()
                out.append(KeywordHit(doc["chunk_id"][0], float(score), terms_))
        return out

    def scores(self, query_terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 scores of these chunks (those matching no term are left out)."""
        import tantivy

        terms = [t for t in query_terms if t]
        index = self._terms() if terms and chunk_ids else None
        if index is None:
            return {}
        Occur, Query = tantivy.Occur, tantivy.Query
        only = Query.term_set_query(self._schema, "chunk_id", list(chunk_ids))
        query = Query.boolean_query(
            [
                (Occur.Must, self._terms_query(terms)),
                (Occur.Must, Query.const_score_query(only, 0.0)),
            ]
        )
        searcher = index.searcher()
        hits = searcher.search(query, limit=len(chunk_ids), count=False).hits
        return {
            searcher.doc(addr)["chunk_id"][0]: float(score) for score, addr in hits if score > 0
        }

    def match_strength(self, query_terms: Sequence[str], best: KeywordHit | None) -> float:
        """IDF-weighted share of the query's distinct terms found in its best BM25 chunk.

        In [0, 1]: a German question over German news finds most of its terms in one
        passage (~0.7-1); an English question over German text matches a name or two
        (~0.1-0.3), so its BM25 ranking is mostly noise. `best` is the top hit of
        `search` (with the query's filters). 0 for a query with no terms or no match.
        """
        terms = set(query_terms)
        index = self._terms() if terms and best is not None else None
        if index is None:
            return 0.0
        searcher = index.searcher()
        n = searcher.num_docs
        weights = {t: idf(n, searcher.doc_freq("terms", t)) for t in terms}
        total = sum(weights.values())
        held = set(best.terms)
        found = sum(w for t, w in weights.items() if t in held)
        return found / total if total > 0 else 0.0

    def chunks_by_day(
        self, date_from: int = 0, date_to: int = 0, sources: Sequence[str] = ()
    ) -> tuple[int, dict[int, int]] | None:
        """(all chunks, {YYYYMMDD: chunks} of the article versions inside the filters), from
        the article table without a scan of the chunks; None without an article table.

        The same filter rule as `search`: an upper bound leaves out unknown dates (0).
        Versions being replaced are counted until their rows go, so it is an estimate
        of what a filter keeps, not a promise.
        """
        con = self._articles()
        if con is None:
            return None
        sql, args = "SELECT date_int, sum(n_chunks) FROM article WHERE 1", []
        if date_from or date_to:
            sql += " AND date_int >= ?"
            args.append(date_from or 1)
        if date_to:
            sql += " AND date_int <= ?"
            args.append(date_to)
        if sources:
            sql += f" AND source IN ({','.join('?' * len(sources))})"
            args.extend(sources)
        days = {int(d or 0): int(n or 0) for d, n in con.execute(sql + " GROUP BY date_int", args)}
        total = int(self._meta(con, "chunks") or 0)
        return total, days

    def article_rows(self, article_ids: Sequence[str]) -> dict[str, list[tuple[str, int, str]]]:
        """(version, date_int, source) of every complete version of these articles."""
        con = self._articles()
        ids = sorted(set(article_ids))
        if con is None or not ids:
            return {}
        out: dict[str, list[tuple[str, int, str]]] = {}
        for start in range(0, len(ids), 900):  # within SQLite's limit of bound values
            part = ids[start : start + 900]
            rows = con.execute(
                "SELECT article_id, version, date_int, source FROM article "
                f"WHERE article_id IN ({','.join('?' * len(part))})",
                part,
            )
            for aid, version, day, source in rows:
                out.setdefault(aid, []).append((version, int(day or 0), source or ""))
        return out

    def summary(self) -> Summary | None:
        """Counts, date range and sources from the article table; None without an index."""
        con = self._articles()
        if con is None:
            return None
        articles, truncated, measured = con.execute(
            "SELECT count(*), coalesce(sum(truncated), 0), count(truncated) FROM article"
        ).fetchone()
        lo = con.execute("SELECT min(date) FROM article WHERE date > ''").fetchone()[0]
        hi = con.execute("SELECT max(date) FROM article WHERE date > ''").fetchone()[0]
        sources = [
            s for (s,) in con.execute("SELECT DISTINCT source FROM article ORDER BY source") if s
        ]
        return Summary(
            articles=int(articles),
            chunks=int(self._meta(con, "chunks") or 0),
            truncated=int(truncated) if measured == articles else None,
            date_min=lo or None,
            date_max=hi or None,
            sources=sources,
        )


def _truncated(chunk_meta) -> int | None:
    """Chunks of a version cut off at the model's window; None when not all were measured.

    >>> _truncated([{"tokens": 90, "truncated": False}, {"tokens": 600, "truncated": True}])
    1
    >>> _truncated([{}]) is None
    True
    """
    if not chunk_meta or not all(schema.TOKENS in m for m in chunk_meta):
        return None
    return sum(bool(m.get(schema.TRUNCATED)) for m in chunk_meta)


def _read_only_copy(path: Path) -> Path:
    """A private copy of a Tantivy index this process may not write (removed at exit)."""
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="rag-keyword-")) / "terms"
    atexit.register(shutil.rmtree, copy.parent, True)
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns("*.lock"))
    return copy


def make(index) -> KeywordIndex:
    """The keyword index of `index`'s current generation (the factory in FACTORIES)."""
    return KeywordIndex(
        path_for(index.settings, index.current),
        server_mode=bool(index.settings.chroma_host),
    )
