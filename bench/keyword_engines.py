"""Which engine for the persistent keyword index: SQLite FTS5 or Tantivy?

Both get the same synthetic German chunks (about 800 characters of sentences resampled
from the 10kGNAD articles, dates spread over ten years, five sources), pre-analysed by the
product's own `rag.keyword.tokenize` (stop words, Snowball German stemming), so that only
the engines differ. Measured per engine:

- bulk write: all chunks in batches of 2,000, one commit per batch (as ingest writes);
- incremental: add 100 articles (500 chunks) and delete 100, committed, as a refresh does;
- search: top 50 for 200 real XQuAD questions (English and German), a date filter on
  half of them; p50/p95 in ms, plus the document frequencies match_strength needs;
- the same search while another process writes batches (concurrent readers);
- visibility: a reader opened before another process commits, searching again;
- size on disk.

    nice -n 10 .venv/bin/python bench/keyword_engines.py --chunks 200000 [--json]

Shortcuts: the tokenising time is measured once (the same for both engines); BM25
variants differ slightly (FTS5: k1 1.2, idf log((N-n+.5)/(n+.5)); Tantivy: Lucene's
idf log(1+…)), which the `rag eval` run of the product settles, not this benchmark.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SOURCES = ("Der Standard", "Kurier", "ORF", "Die Presse", "profil")
CHUNKS_PER_ARTICLE = 5
BATCH = 2000
K = 50


# --- data ------------------------------------------------------------------------------


def sentences(data: Path) -> list[str]:
    path = data / "10kGNAD" / "test.csv"
    if not path.is_file():
        sys.exit(f"error: {path} not found; pass --data with a folder holding 10kGNAD/")
    csv.field_size_limit(10**9)
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.reader(f, delimiter=";", quotechar="'"):
            if len(row) == 2:
                out += [s for s in re.split(r"(?<=[.!?])\s+", row[1]) if len(s) > 30]
    return out


def synthetic_chunks(n: int, sents: list[str], seed: int = 0, first: int = 0):
    """(chunk id, article id, tokens, date_int, source) for n chunks."""
    from rag.keyword import tokenize

    rng = random.Random(seed)
    for i in range(first, first + n):
        aid = f"a{i // CHUNKS_PER_ARTICLE}"
        text, parts = "", []
        while len(text) < 800:
            parts.append(rng.choice(sents))
            text = " ".join(parts)
        year = 2015 + (i // CHUNKS_PER_ARTICLE) % 10
        date = year * 10000 + rng.randint(1, 12) * 100 + rng.randint(1, 28)
        source = SOURCES[(i // CHUNKS_PER_ARTICLE) % len(SOURCES)]
        yield f"{aid}#{i % CHUNKS_PER_ARTICLE}", aid, tokenize(text), date, source


def questions(data: Path, n: int = 200) -> list[list[str]]:
    from rag.keyword import tokenize

    qs = []
    for lang in ("en", "de"):
        doc = json.loads((data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        qs += [
            qa["question"]
            for art in doc["data"]
            for para in art["paragraphs"]
            for qa in para["qas"]
        ]
    rng = random.Random(1)
    return [tokenize(q) for q in rng.sample(qs, n)]


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# --- engines ---------------------------------------------------------------------------


class Fts5:
    name = "sqlite-fts5"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "keyword.sqlite3"
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS chunk(
                id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, article_id TEXT,
                date_int INTEGER, source TEXT);
            CREATE INDEX IF NOT EXISTS chunk_article ON chunk(article_id);
            CREATE VIRTUAL TABLE IF NOT EXISTS kw USING fts5(
                terms, tokenize="unicode61 remove_diacritics 0 tokenchars '_'",
                detail=full);
            CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(kw, row);
            """
        )

    @classmethod
    def reader(cls, folder: Path):
        return cls(folder)

    def write(self, rows) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        for cid, aid, toks, date, source in rows:
            cur = self.db.execute(
                "INSERT INTO chunk(chunk_id, article_id, date_int, source) VALUES (?,?,?,?)",
                (cid, aid, date, source),
            )
            self.db.execute(
                "INSERT INTO kw(rowid, terms) VALUES (?, ?)", (cur.lastrowid, " ".join(toks))
            )
        self.db.execute("COMMIT")

    def delete_articles(self, aids) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        for aid in aids:
            ids = [r[0] for r in self.db.execute("SELECT id FROM chunk WHERE article_id=?", (aid,))]
            for i in ids:
                self.db.execute("DELETE FROM kw WHERE rowid=?", (i,))
            self.db.execute("DELETE FROM chunk WHERE article_id=?", (aid,))
        self.db.execute("COMMIT")

    def finish(self) -> None:
        self.db.execute("INSERT INTO kw(kw) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def search(self, toks, date_from: int = 0) -> list:
        terms = sorted(set(toks))
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        sql = (
            "SELECT c.chunk_id, -bm25(kw) AS s FROM kw JOIN chunk c ON c.id = kw.rowid "
            "WHERE kw MATCH ?"
        )
        args: list = [match]
        if date_from:
            sql += " AND c.date_int >= ?"
            args.append(date_from)
        got = self.db.execute(sql + " ORDER BY s DESC LIMIT ?", (*args, K)).fetchall()
        for term in terms:  # one lookup per term: fts5vocab scans the vocabulary for IN (…)
            self.db.execute("SELECT doc FROM vocab WHERE term = ?", (term,)).fetchall()
        return got

    def reopen(self) -> None:
        pass  # WAL readers see every commit at their next statement


class Tantivy:
    name = "tantivy"

    def __init__(self, folder: Path, writer: bool = True) -> None:
        import tantivy

        self.t = tantivy
        b = tantivy.SchemaBuilder()
        b.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        b.add_text_field("article_id", stored=False, tokenizer_name="raw")
        b.add_text_field("terms", stored=True, tokenizer_name="whitespace")
        b.add_integer_field("date_int", indexed=True, fast=True)
        b.add_text_field("source", stored=False, tokenizer_name="raw", fast=True)
        self.schema = b.build()
        self.path = folder / "tantivy"
        self.path.mkdir(exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self.writer = self.index.writer(heap_size=100_000_000, num_threads=1) if writer else None

    @classmethod
    def reader(cls, folder: Path):
        return cls(folder, writer=False)

    def write(self, rows) -> None:
        for cid, aid, toks, date, source in rows:
            self.writer.add_document(
                self.t.Document(
                    chunk_id=cid,
                    article_id=aid,
                    terms=" ".join(toks),
                    date_int=date,
                    source=source,
                )
            )
        self.writer.commit()

    def delete_articles(self, aids) -> None:
        for aid in aids:
            self.writer.delete_documents_by_term("article_id", aid)
        self.writer.commit()

    def finish(self) -> None:
        self.writer.wait_merging_threads()
        self.writer = None
        self.index.reload()

    def search(self, toks, date_from: int = 0) -> list:
        """As rag.keyword does it: any term (BM25), filters as zero-scored musts."""
        terms = sorted(set(toks))
        if not terms:
            return []
        t = self.t
        should = [
            (t.Occur.Should, t.Query.term_query(self.schema, "terms", w, index_option="freq"))
            for w in terms
        ]
        clauses = [(t.Occur.Must, t.Query.boolean_query(should))]
        if date_from:
            date = t.Query.range_query(self.schema, "date_int", t.FieldType.Integer, date_from)
            clauses.append((t.Occur.Must, t.Query.const_score_query(date, 0.0)))
        self.index.reload()  # every query sees the last commit of any process
        searcher = self.index.searcher()
        hits = searcher.search(t.Query.boolean_query(clauses), K, count=False).hits
        for term in terms:
            searcher.doc_freq("terms", term)
        return [(searcher.doc(addr)["chunk_id"][0], score) for score, addr in hits]

    def reopen(self) -> None:
        self.index.reload()


ENGINES = {"sqlite-fts5": Fts5, "tantivy": Tantivy}


# --- measurements ------------------------------------------------------------------------


def latencies(engine, qs) -> list[float]:
    out = []
    for i, toks in enumerate(qs):
        t0 = time.perf_counter()
        engine.search(toks, date_from=20200101 if i % 2 else 0)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _background_writer(engine_name: str, folder: str, rows, stop) -> None:
    engine = ENGINES[engine_name](Path(folder))
    i = 0
    while not stop.is_set():  # 200 new chunks per commit, under ids not used before
        lo = i % len(rows)
        engine.write([(f"bg{i}-{c}", f"bg{i}-{a}", *rest) for c, a, *rest in rows[lo : lo + 200]])
        i += 200


def _late_commit(engine_name: str, folder: str) -> None:
    engine = ENGINES[engine_name](Path(folder))
    engine.write([("late#0", "late", ["zzzspatmeldung"], 20250101, "ORF")])


def measure(name: str, rows: list, fresh: list, qs, folder: Path) -> dict:
    cls = ENGINES[name]
    engine = cls(folder)
    t0 = time.perf_counter()
    for lo in range(0, len(rows), BATCH):
        engine.write(rows[lo : lo + BATCH])
    engine.finish()
    bulk = time.perf_counter() - t0
    disk = folder_mb(folder)
    del engine

    writer = cls(folder)
    t0 = time.perf_counter()
    writer.write(fresh)
    writer.delete_articles([f"a{i}" for i in range(100)])
    incremental = time.perf_counter() - t0
    del writer

    reader = cls.reader(folder)
    latencies(reader, qs[:20])  # warm-up
    quiet = latencies(reader, qs)

    stop = mp.Event()
    bg = mp.Process(target=_background_writer, args=(name, str(folder), fresh, stop))
    bg.start()
    time.sleep(1.0)
    busy = latencies(reader, qs)
    stop.set()
    bg.join()

    # A reader opened before another process commits: does it see the commit?
    before = reader.search(["zzzspatmeldung"])
    proc = mp.Process(target=_late_commit, args=(name, str(folder)))
    proc.start()
    proc.join()
    seen_at_once = bool(reader.search(["zzzspatmeldung"])) and not before
    t0 = time.perf_counter()
    reader.reopen()
    reopen_ms = (time.perf_counter() - t0) * 1000
    seen_after_reopen = bool(reader.search(["zzzspatmeldung"]))
    return {
        "engine": name,
        "chunks": len(rows),
        "bulk_write_s": round(bulk, 1),
        "incremental_s": round(incremental, 2),
        "p50_ms": round(float(np.percentile(quiet, 50)), 1),
        "p95_ms": round(float(np.percentile(quiet, 95)), 1),
        "p95_ms_while_writing": round(float(np.percentile(busy, 95)), 1),
        "disk_mb": round(disk, 1),
        "other_commit_visible_without_reopen": seen_at_once,
        "visible_after_reopen": seen_after_reopen,
        "reopen_ms": round(reopen_ms, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=200_000)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sents = sentences(args.data)
    t0 = time.perf_counter()
    rows = list(synthetic_chunks(args.chunks, sents))
    tokenize_s = time.perf_counter() - t0
    fresh = list(synthetic_chunks(100 * CHUNKS_PER_ARTICLE, sents, seed=7, first=10**8))
    qs = questions(args.data)
    results = []
    for name in args.engines.split(","):
        if name == "tantivy":
            try:
                import tantivy  # noqa: F401
            except ImportError:
                print("tantivy is not installed (pip install tantivy); skipped", file=sys.stderr)
                continue
        folder = Path(tempfile.mkdtemp(prefix=f"kw-{name}-"))
        try:
            results.append(measure(name, rows, fresh, qs, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"tokenize_s": round(tokenize_s, 1), "results": results}))
        return 0
    print(f"{args.chunks} chunks; tokenising them (both engines): {tokenize_s:.1f} s\n")
    keys = list(results[0]) if results else []
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    for r in results:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
