"""BM25 keyword search over the chunks, German-aware, in a persistent SQLite FTS5 index.

Text is lower-cased, split into word tokens, stripped of German and English stop words
(journalists ask in English about German articles) and stemmed with the Snowball German
stemmer (which also folds umlauts: "österreichischen" -> "osterreich"). The stemmed tokens
are what FTS5 indexes (space-separated, its unicode61 tokenizer only splits them again),
so the analysis stays ours and FTS5 supplies the inverted index and its `bm25()`.

The keyword index is a side index of the chunk collection (rag/sidecar.py): one SQLite
file per index generation, `<RAG_KEYWORD_DIR or RAG_INDEX_DIR>/<collection>.keyword.sqlite3`,
written with the chunks of each article version (before its record, the commit point),
deleted with them, repaired by `Index.reconcile()`. Tables:

- `article`: one row per (article id, version): title, date, source, url, path, chunks;
  answers the app's questions at start (sources, date range, counts) without a scan;
- `chunk`: one row per chunk (id, article id, version, date, source), the filter fields;
- `kw`: the FTS5 table of stemmed terms, rowid = `chunk.id`;
- `meta`: schema version and the chunk count (N for the idf of `match_strength`).

Readers open the file read-only; SQLite's write-ahead log lets any number of readers (in
this and other processes) search while one writer writes, and every query sees the last
commit, so a refresh by another process is visible at the next question. Date and source
filters are SQL conditions on `chunk` inside the ranked query, not a filter of its top k.

`match_strength` tells how well a query's terms actually match the corpus (IDF-weighted
share of the query's terms found in its best BM25 chunk): the retriever uses it to decide
how much to trust BM25 for that query.

Shortcuts: FTS5's BM25 (k1 1.2, b 0.75, idf log((N - n + 0.5) / (n + 0.5)), terms in more
than half of the chunks count for almost nothing) is not bm25s's Lucene variant (k1 1.5,
idf log(1 + …)); retrieval quality on the XQuAD benchmark is unchanged (docs/benchmarks.md).
SQLite's log needs shared memory, so the file must be on a local disk of the machine that
runs the app and the ingest (not a network file system).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import re
import sqlite3
import threading
import warnings
from collections.abc import Iterable, Sequence
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

SUFFIX = ".keyword.sqlite3"
SCHEMA_VERSION = "1"
NAME = "keyword"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS article(
    article_id TEXT NOT NULL, version TEXT NOT NULL, title TEXT, date TEXT, date_int INTEGER,
    source TEXT, url TEXT, path TEXT, n_chunks INTEGER,
    PRIMARY KEY (article_id, version));
CREATE INDEX IF NOT EXISTS article_date ON article(date);
CREATE INDEX IF NOT EXISTS article_source ON article(source);
CREATE TABLE IF NOT EXISTS chunk(
    id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, article_id TEXT NOT NULL,
    version TEXT NOT NULL, date_int INTEGER NOT NULL, source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_version ON chunk(article_id, version);
CREATE VIRTUAL TABLE IF NOT EXISTS kw USING fts5(
    terms, tokenize = "unicode61 remove_diacritics 0 tokenchars '_'", detail = column);
CREATE VIRTUAL TABLE IF NOT EXISTS kw_vocab USING fts5vocab(kw, row);
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
    row: int  # the chunk's row in the keyword index (for its terms)


@dataclass(frozen=True)
class Summary:
    """What the app shows at start, from the article table (no scan of Chroma)."""

    articles: int  # (article id, version) rows
    chunks: int
    date_min: str | None
    date_max: str | None
    sources: list[str]


class KeywordIndex:
    """The persistent keyword index of one chunk collection (a side index)."""

    name = NAME

    def __init__(self, path: Path, *, server_mode: bool = False) -> None:
        self.path = Path(path)
        self.server_mode = server_mode
        self._local = threading.local()  # one read connection per thread
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._warned = False

    # --- connections ---------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read-only connection; None while the file does not exist."""
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        if not self.path.is_file():
            return None
        uri = self.path.resolve().as_uri()
        try:
            con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
            con.execute("SELECT 1 FROM meta LIMIT 1")
        except sqlite3.Error:
            # A read-only folder: the log's shared-memory file cannot be created; nobody
            # writes there, so the file can be read as immutable.
            try:
                con = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)
                con.execute("SELECT 1 FROM meta LIMIT 1")
            except sqlite3.Error:
                return None
        if self._meta(con, "schema") != SCHEMA_VERSION:
            con.close()
            return None
        self._local.con = con
        return con

    def _write_con(self) -> sqlite3.Connection:
        """The writer's connection, creating the file and its tables when missing."""
        if self._writer is not None:
            return self._writer
        from rag.store import StoreError

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")  # durable at each checkpoint; atomic
            if self._meta(con, "schema") not in (None, SCHEMA_VERSION):
                con.executescript(
                    "DROP TABLE IF EXISTS kw_vocab; DROP TABLE IF EXISTS kw; "
                    "DROP TABLE IF EXISTS chunk; DROP TABLE IF EXISTS article; "
                    "DROP TABLE IF EXISTS meta;"
                )  # another layout: rebuilt from the records by reconcile
            con.executescript(_SCHEMA)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('chunks', '0')",
                (SCHEMA_VERSION,),
            )
        except (OSError, sqlite3.Error) as exc:
            where = "RAG_KEYWORD_DIR" if self.server_mode else "RAG_KEYWORD_DIR or RAG_INDEX_DIR"
            raise StoreError(
                f"The keyword index {self.path} cannot be written ({exc}). Set {where} to a "
                "writable folder on a local disk."
            ) from exc
        self._writer = con
        # Fold the log into the file at exit, so that a copy or a read-only reader of the
        # folder sees every commit in the database file itself.
        atexit.register(self.close)
        return con

    @staticmethod
    def _meta(con: sqlite3.Connection, key: str) -> str | None:
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    @property
    def available(self) -> bool:
        return self._reader() is not None

    def close(self) -> None:
        """Close this process's connections (the writer's folds the log in first)."""
        if self._writer is not None:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with contextlib.suppress(sqlite3.Error):
                self._writer.close()
            atexit.unregister(self.close)
        self._writer = None
        con = getattr(self._local, "con", None)
        if con is not None:
            with contextlib.suppress(sqlite3.Error):
                con.close()
            self._local.con = None

    # --- the side-index contract (rag/sidecar.py) -----------------------------------
    def write(self, items: Sequence, embed=None) -> None:
        """Add these article versions (replacing what the index held for them), in one
        transaction."""
        if not items:
            return
        con = self._write_con()
        article_rows, chunk_rows, term_rows = [], [], []
        for item in items:
            a = item.article
            article_rows.append(
                (
                    a.id,
                    item.version,
                    a.title,
                    a.date or "",
                    schema.date_to_int(a.date),
                    a.source,
                    a.url,
                    a.path,
                    len(item.spans),
                )
            )
            for cid, (start, end) in zip(item.chunk_ids, item.spans, strict=True):
                chunk_rows.append((cid, a.id, item.version, schema.date_to_int(a.date), a.source))
                term_rows.append(" ".join(tokenize(a.text[start:end])))
        with self._lock:
            con.execute("BEGIN IMMEDIATE")
            try:
                self._delete(con, [(i.article.id, i.version) for i in items])
                con.executemany("INSERT INTO article VALUES (?,?,?,?,?,?,?,?,?)", article_rows)
                first = con.execute("SELECT coalesce(max(id), 0) + 1 FROM chunk").fetchone()[0]
                con.executemany(
                    "INSERT INTO chunk(id, chunk_id, article_id, version, date_int, source) "
                    "VALUES (?,?,?,?,?,?)",
                    [(first + i, *row) for i, row in enumerate(chunk_rows)],
                )
                con.executemany(
                    "INSERT INTO kw(rowid, terms) VALUES (?, ?)",
                    [(first + i, terms) for i, terms in enumerate(term_rows)],
                )
                self._count(con, len(chunk_rows))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove the entries of these (article id, version) pairs."""
        if not keys or (self._writer is None and not self.path.is_file()):
            return
        con = self._write_con()
        with self._lock:
            con.execute("BEGIN IMMEDIATE")
            try:
                self._delete(con, keys)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _delete(self, con: sqlite3.Connection, keys: Iterable[tuple[str, str]]) -> None:
        gone = 0
        for aid, version in keys:
            rows = con.execute(
                "SELECT id FROM chunk WHERE article_id = ? AND version = ?", (aid, version)
            ).fetchall()
            if rows:
                con.executemany("DELETE FROM kw WHERE rowid = ?", rows)
                con.executemany("DELETE FROM chunk WHERE id = ?", rows)
                gone += len(rows)
            con.execute("DELETE FROM article WHERE article_id = ? AND version = ?", (aid, version))
        if gone:
            self._count(con, -gone)

    @staticmethod
    def _count(con: sqlite3.Connection, delta: int) -> None:
        con.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'chunks'", (delta,)
        )

    def versions(self) -> set[tuple[str, str]]:
        """Every (article id, version) held; each is written whole in one transaction."""
        con = self._writer or self._reader()
        if con is None:
            return set()
        return {(a, v) for a, v in con.execute("SELECT article_id, version FROM article")}

    def entries(self) -> dict[tuple[str, str], list[str]]:
        """Chunk ids per (article id, version), for consistency checks (a full scan)."""
        con = self._writer or self._reader()
        out: dict[tuple[str, str], list[str]] = {}
        if con is not None:
            for cid, aid, version in con.execute("SELECT chunk_id, article_id, version FROM chunk"):
                out.setdefault((aid, version), []).append(cid)
        return out

    def drop(self) -> None:
        """Delete the file (its generation was replaced); open readers keep their copy."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.path}{suffix}")

    # --- reading -------------------------------------------------------------------
    def _con_or_warn(self) -> sqlite3.Connection | None:
        con = self._reader()
        if con is None and not self._warned:
            self._warned = True
            warnings.warn(
                f"No keyword index at {self.path}: answering from the embeddings alone. "
                "Run `python -m ingest` to build it"
                + (
                    ", and set RAG_KEYWORD_DIR to the folder the ingest writes it to."
                    if self.server_mode
                    else "."
                ),
                stacklevel=3,
            )
        return con

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
        match = _match(query_terms)
        con = self._con_or_warn() if match else None
        if con is None:
            return []
        sql = [
            "SELECT c.chunk_id, -bm25(kw) AS score, kw.rowid FROM kw JOIN chunk c "
            "ON c.id = kw.rowid WHERE kw MATCH ?"
        ]
        args: list = [match]
        if date_from:
            sql.append("AND c.date_int >= ?")
            args.append(date_from)
        if date_to:
            sql.append("AND c.date_int <= ? AND c.date_int > 0")
            args.append(date_to)
        if sources:
            sql.append(f"AND c.source IN ({','.join('?' * len(sources))})")
            args += list(sources)
        sql.append("ORDER BY score DESC, c.chunk_id LIMIT ?")
        args.append(k)
        rows = con.execute(" ".join(sql), args).fetchall()
        return [KeywordHit(cid, float(score), row) for cid, score, row in rows if score > 0]

    def scores(self, query_terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 scores of these chunks (those matching no term are left out)."""
        match = _match(query_terms)
        con = self._reader() if match and chunk_ids else None
        if con is None:
            return {}
        out = {}
        for cid, row in con.execute(
            f"SELECT chunk_id, id FROM chunk WHERE chunk_id IN ({','.join('?' * len(chunk_ids))})",
            list(chunk_ids),
        ).fetchall():
            got = con.execute(
                "SELECT -bm25(kw) FROM kw WHERE kw MATCH ? AND rowid = ?", (match, row)
            ).fetchone()
            if got and got[0] > 0:
                out[cid] = float(got[0])
        return out

    def match_strength(self, query_terms: Sequence[str], best: KeywordHit | None) -> float:
        """IDF-weighted share of the query's distinct terms found in its best BM25 chunk.

        In [0, 1]: a German question over German news finds most of its terms in one
        passage (~0.7-1); an English question over German text matches a name or two
        (~0.1-0.3), so its BM25 ranking is mostly noise. `best` is the top hit of
        `search` (with the query's filters). 0 for a query with no terms or no match.
        """
        terms = set(query_terms)
        con = self._reader() if terms and best is not None else None
        if con is None:
            return 0.0
        n = int(self._meta(con, "chunks") or 0)
        row = con.execute("SELECT terms FROM kw WHERE rowid = ?", (best.row,)).fetchone()
        held = set(row[0].split()) if row else set()
        weights = {t: idf(n, self.doc_freq(t, con)) for t in terms}
        total = sum(weights.values())
        found = sum(w for t, w in weights.items() if t in held)
        return found / total if total > 0 else 0.0

    def doc_freq(self, term: str, con: sqlite3.Connection | None = None) -> int:
        """Chunks holding the term (one lookup; fts5vocab scans for `IN (...)`)."""
        con = con or self._reader()
        if con is None:
            return 0
        row = con.execute("SELECT doc FROM kw_vocab WHERE term = ?", (term,)).fetchone()
        return int(row[0]) if row else 0

    def summary(self) -> Summary | None:
        """Counts, date range and sources from the article table; None without an index."""
        con = self._reader()
        if con is None:
            return None
        articles = con.execute("SELECT count(*) FROM article").fetchone()[0]
        lo = con.execute("SELECT min(date) FROM article WHERE date > ''").fetchone()[0]
        hi = con.execute("SELECT max(date) FROM article WHERE date > ''").fetchone()[0]
        sources = [
            s for (s,) in con.execute("SELECT DISTINCT source FROM article ORDER BY source") if s
        ]
        return Summary(
            articles=int(articles),
            chunks=int(self._meta(con, "chunks") or 0),
            date_min=lo or None,
            date_max=hi or None,
            sources=sources,
        )


def _match(query_terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the terms (each quoted: terms are data, not syntax).

    >>> _match(["peskow", "nato", "peskow"])
    '"nato" OR "peskow"'
    """
    return " OR ".join(f'"{t}"' for t in sorted(set(query_terms)) if t)


def make(index) -> KeywordIndex:
    """The keyword index of `index`'s current generation (the factory in FACTORIES)."""
    return KeywordIndex(
        path_for(index.settings, index.current),
        server_mode=bool(index.settings.chroma_host),
    )
