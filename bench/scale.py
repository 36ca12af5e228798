"""Archive-scale benchmark: an index of N chunks, measured with the product's own code.

    .venv/bin/python bench/scale.py --chunks 200000 [--data ../shared/data] [--json]
    .venv/bin/python bench/scale.py --chunks 1000000 --index /big/disk/scale-1m --reuse
    .venv/bin/python bench/scale.py --chunks 1000000 --index /big/disk/scale-1m --reuse --partial

A build is resumable: its folder records how far it got (`scale-build.json`), a killed
build continues with `--reuse`, and `--partial` measures an unfinished one as it is.
Ctrl-C or SIGTERM stops a build after the batch being written, with the index consistent
(a second one stops at once; the next ingest then repairs what was half-written).

What it builds (once; `--index DIR --reuse` keeps it and measures it again):
- the 240 German XQuAD paragraphs, ingested for real (`ingest.pipeline.sync_articles`,
  the default embedding model), so that the 200 questions have their answers somewhere;
- synthetic German articles up to N chunks in total: sentences of the 10kGNAD texts
  (segmented by the product's `rag.text`), resampled within a topic section into
  articles of realistic length (log-normal, median ~20 sentences), titled, dated
  2015-2025, spread over six outlets, chunked by the product's `ingest.chunk`, written
  by `rag.store.Index.write_articles` (so every side index, e.g. the keyword index, is
  written as in a real ingest). A second process makes the articles and runs the
  statement extraction (half the build's CPU) a batch or two ahead of the writing one
  (`StatementIndex.use_extracted`); the index is the same as with extraction in place.
  While it writes, Chroma persists its HNSW files every 25,000 vectors rather than every
  1,000 (`_persist_every`), which at 500k chunks had become most of the build's cost.

Shortcut, said in the output: the synthetic chunks' vectors are *simulated* (and so are
those of their statements, which the statement index embeds), because
embedding a million chunks takes about a day on a 2-core CPU. They are unit vectors near
real e5 vectors of 10kGNAD passages (one centre per topic cluster; article and chunk
noise), so HNSW sees a clustered space like a real one, and the real questions land in
it as they would. Synthetic chunks are packed from the sentence boundaries found when
the pool was built rather than segmented again (pysbd needs hours for 5M sentences), and
without the token-window check (800 characters of German are far below 512 tokens).

What it measures, each in a fresh process so that nothing is warm (and so that a kept
build is measured with the code as it is now, not as it was when it was built):
- `reconcile_s`: first, `Index.reconcile()` as every ingest starts with; on a build made
  by an older version it back-fills the side indexes that version did not write;
- `open_s`: process start to a retriever that has answered its first question
  (`rag.retrieve.Retriever`: dense + keyword + fusion), minus the model load and the
  embedding of the questions (both timed in that process);
- `p95_ms`: 200 XQuAD questions (100 English, 100 German), embedded up front, searched
  with `Retriever.search(query_vector=...)`; every other one with a one-year date filter
  around its answer's date. `recall_at_5` tells that the answers are still found;
- `refresh_overhead_s`: 100 new real articles (10kGNAD, with their dates) ingested by
  `ingest.pipeline.run_ingest`, embedded for real, minus the time inside the embedding
  model's `encode`; then removed again the same way, so a kept index stays at N chunks;
  `reader_after_refresh_ms` is the first search of a retriever opened before the refresh;
- `peak_rss_mb`: the larger peak RSS of those two measuring processes (search, refresh),
  the embedding model included (`peak_rss_mb_by_process` lists each, and the build's);
- `disk_mb`: what the index folder occupies on disk.

The data sets are not shipped: `--data` (default `../shared/data`, or RAG_TEST_DATA_DIR)
must hold `xquad/` and `10kGNAD/`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = Path(os.environ.get("RAG_TEST_DATA_DIR", ROOT.parent / "shared" / "data"))
MANIFEST = "scale-build.json"  # in the index folder: what was built, how far
CENTRES = "scale-centres.npz"  # in the index folder: the real vectors the simulated ones are near
BUILD_VERSION = 1  # bump when the synthetic corpus changes: old builds are not reused
OUTLETS = ("Tagesblatt", "Abendpost", "Wiener Rundschau", "Alpenkurier", "Nordstern", "Linzer Bote")
OUTLET_WEIGHTS = (0.3, 0.2, 0.15, 0.15, 0.1, 0.1)
FIRST_DAY, DAYS = dt.date(2015, 1, 1), 11 * 365  # synthetic dates: 2015-2025
ARTICLES_PER_WRITE = 1500  # ~6,000 chunks per Index.write_articles call
CENTRES_PER_SECTION = 24  # real e5 vectors of 10kGNAD passages used as cluster centres
ARTICLE_NOISE, CHUNK_NOISE = 0.025, 0.015  # per-dimension sigma: cos ~0.90 / ~0.96
QUESTIONS = 200
REFRESH_ARTICLES = 100
TARGETS = {"open_s": 5, "p95_ms": 150, "refresh_overhead_s": 10, "peak_rss_mb": 4096}
# Chroma's local engine rewrites a collection's HNSW files (vectors, links, id maps) every
# `sync_threshold` vectors added, 1,000 by default: ~0.4 GB per 1,000 chunks at 500k. The
# build persists every SYNC_DURING_BUILD instead (see `_persist_every`).
CHROMA_SYNC_DEFAULT, SYNC_DURING_BUILD = 1000, 25_000
KEYS = ("chunks", "open_s", "p95_ms", "refresh_overhead_s", "peak_rss_mb", "disk_mb")


class BenchError(Exception):
    """Bad input or a missing data set; the message says what to do."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB: Linux's VmHWM, which starts
    afresh with the program (`ru_maxrss` carries a parent's peak across fork and exec, so
    a worker started by a large build would report the build's), else `ru_maxrss`."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_for(index_dir: Path):
    from rag.settings import Settings

    return Settings(_env_file=None, index_dir=index_dir)


# --- data -------------------------------------------------------------------------------
def read_gnad(data: Path) -> list[tuple[str, str, str | None]]:
    """(section, text, date or None) of each 10kGNAD test article."""
    path = data / "10kGNAD" / "test.csv"
    if not path.is_file():
        raise BenchError(f"{path} not found. Pass --data with a folder holding 10kGNAD/test.csv.")
    dates: dict[int, str] = {}
    dates_path = data / "10kGNAD" / "dates.csv"
    if dates_path.is_file():
        with open(dates_path, encoding="utf-8", newline="") as f:
            dates = {int(r["row"]): r["date"] for r in csv.DictReader(f) if r.get("date")}
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    return [(label, text, dates.get(i)) for i, (label, text) in enumerate(rows)]


def sentence_pool(gnad) -> dict[str, list[str]]:
    """Sentences of 30-400 characters per 10kGNAD section, segmented by rag.text."""
    from rag.text import sentences

    pool: dict[str, list[str]] = {}
    for label, text, _ in gnad:
        pool.setdefault(label, []).extend(s for s in sentences(text) if 30 <= len(s) <= 400)
    return pool


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    article_id: str
    date: str  # the gold article's date
    filtered: bool  # searched with a one-year date filter around `date`


def gold_date(article_index: int) -> str:
    """A fixed date for each XQuAD paragraph, spread over the synthetic years."""
    return (FIRST_DAY + dt.timedelta(days=(article_index * 7919) % DAYS)).isoformat()


def load_gold(data: Path, n_questions: int):
    """XQuAD paragraphs (dated) and `n_questions` questions spread over them, half English."""
    from evaluation.data import load_xquad
    from rag.errors import UserError

    try:
        ev = load_xquad(data / "xquad")
    except UserError as exc:
        raise BenchError(f"{exc} (--data {data})") from None
    articles = [replace(a, date=gold_date(k)) for k, a in enumerate(ev.articles)]
    date_of = {a.id: a.date for a in articles}
    step = max(1, len(ev.questions) // n_questions)
    picked = ev.questions[::step][:n_questions]
    questions = [
        Question(
            text=q.text["en" if k % 2 == 0 else "de"],
            lang="en" if k % 2 == 0 else "de",
            article_id=q.article_id,
            date=date_of[q.article_id],
            filtered=k % 4 >= 2,  # both languages filtered and unfiltered
        )
        for k, q in enumerate(picked)
    ]
    return articles, questions


# --- the synthetic archive --------------------------------------------------------------
class Archive:
    """Deterministic synthetic articles: article i depends only on (seed, i)."""

    def __init__(self, pool: dict[str, list[str]], centres, centre_section, seed: int):
        import numpy as np

        self.np = np
        self.pool = pool
        self.sections = sorted(pool)
        self.centres = centres
        self.centres_of = {
            s: np.flatnonzero(np.asarray(centre_section) == s) for s in self.sections
        }
        self.seed = seed

    def article(self, i: int):
        """Article i, its sentence spans, and the random state for its vectors."""
        from rag.schema import Article

        rng = self.np.random.default_rng([self.seed, i])
        section = self.sections[int(rng.integers(len(self.sections)))]
        sents = self.pool[section]
        n = int(min(80, max(3, rng.lognormal(mean=3.0, sigma=0.5))))
        picked = [sents[int(k)] for k in rng.integers(len(sents), size=n + 1)]
        title = " ".join(picked[0].split()[: int(rng.integers(5, 10))]).rstrip(".,;:!?")
        text, spans = "", []
        for k, sentence in enumerate(picked[1:]):
            if text:
                text += "\n\n" if k % 4 == 0 else " "
            spans.append((len(text), len(text) + len(sentence)))
            text += sentence
        day = FIRST_DAY + dt.timedelta(days=int(rng.integers(DAYS)))
        source = OUTLETS[int(rng.choice(len(OUTLETS), p=OUTLET_WEIGHTS))]
        article = Article(
            id=f"archiv-{i:07d}",
            text=text,
            title=title,
            date=day.isoformat(),
            source=source,
            url=f"https://example.org/{source.lower().replace(' ', '-')}/{i}",
            path=f"archiv/{day.year}/archiv-{i:07d}.txt",
        )
        return article, spans, section, rng

    def vectors(self, section: str, n: int, rng):
        """n unit vectors near one of the section's centres (one article's chunks)."""
        np = self.np
        centre = self.centres[int(rng.choice(self.centres_of[section]))]
        dim = centre.shape[0]
        art = centre + rng.normal(0, ARTICLE_NOISE, dim)
        art /= np.linalg.norm(art)
        vecs = art + rng.normal(0, CHUNK_NOISE, (n, dim))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs.astype(np.float32)


def real_centres(index_dir: Path, gnad, seed: int, embedder=None):
    """Real e5 vectors of 10kGNAD passages, CENTRES_PER_SECTION per section, and their
    sections; computed once per build and kept beside it (`scale-centres.npz`)."""
    import numpy as np

    kept = index_dir / CENTRES
    if kept.is_file():
        with np.load(kept) as saved:
            return saved["centres"], [str(x) for x in saved["sections"]]
    if embedder is None:
        from rag.embeddings import Embedder

        embedder = Embedder.from_settings(settings_for(index_dir))
    say(f"embedding {CENTRES_PER_SECTION} real centre passages per section")
    rng = np.random.default_rng(seed)
    texts, sections = [], []
    for section in sorted({label for label, _, _ in gnad}):
        of_section = [t for label, t, _ in gnad if label == section]
        size = min(CENTRES_PER_SECTION, len(of_section))
        for k in rng.choice(len(of_section), size=size, replace=False):
            texts.append(of_section[int(k)][:700])
            sections.append(section)
    centres = embedder.encode_passages(texts)
    np.savez(kept, centres=centres, sections=np.asarray(sections))
    return centres, sections


def simulated_embed(centres):
    """The `embed` given to side indexes that store vectors of their own (the statement
    index) for the synthetic bulk: each text a unit vector near a centre picked by its
    hash, so the same text always gets the same vector."""
    import zlib

    import numpy as np

    def embed(texts: list[str]):
        out = np.empty((len(texts), centres.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
            vec = centres[int(rng.integers(len(centres)))] + rng.normal(
                0, ARTICLE_NOISE, centres.shape[1]
            )
            out[row] = vec / np.linalg.norm(vec)
        return out

    return embed


def chunk_known_sentences(text: str, spans, settings):
    """The product's chunker over sentence boundaries already known (see the docstring)."""
    import ingest.chunk as chunking

    segment = chunking.sentence_spans
    chunking.sentence_spans = lambda _text, language="de": list(spans)
    try:
        return chunking.chunk_spans(text, settings.chunk_size, settings.chunk_overlap)
    finally:
        chunking.sentence_spans = segment


def make_items(archive: Archive, settings, start: int, done: int, n_chunks: int):
    """The synthetic articles from `start` on (`done` chunks written before them), in
    batches of ARTICLES_PER_WRITE, as `Index.write_articles` takes them; yields
    (items, next article, chunks done after the batch). The last article is cut so that
    the index ends at exactly `n_chunks`."""
    from ingest.clean import text_hash
    from ingest.pipeline import version_hash

    i = start
    while done < n_chunks:
        items = []
        while done < n_chunks and len(items) < ARTICLES_PER_WRITE:
            article, sentence_spans, section, art_rng = archive.article(i)
            spans = chunk_known_sentences(article.text, sentence_spans, settings)
            spans = spans[: n_chunks - done]
            if spans[-1][1] < len(article.text):
                article = replace(article, text=article.text[: spans[-1][1]])
            vecs = archive.vectors(section, len(spans), art_rng)
            version = version_hash(article, settings)
            items.append((article, version, spans, vecs, text_hash(article.text)))
            done += len(spans)
            i += 1
        yield items, i, done


def produce(out, data: str, index_dir: str, seed: int, start: int, done0: int, n_chunks: int):
    """The build's second process: makes the batches (`make_items`) and extracts their
    statements with the statement index's own extractor, ahead of the writing process
    (`StatementIndex.use_extracted`), so that extraction (about half the build's CPU)
    runs beside the Chroma and Tantivy writes. Puts ("batch", items, statements by text,
    next article, chunks done), then ("end",), or ("error", traceback) on `out`."""
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writing process's to handle
    try:
        from rag.quotes.store import default_extractor

        extract = default_extractor()
        gnad = read_gnad(Path(data))
        say(f"segmenting {len(gnad)} 10kGNAD articles into the sentence pool")
        pool = sentence_pool(gnad)
        centres, centre_section = real_centres(Path(index_dir), gnad, seed)  # kept: loaded
        archive = Archive(pool, centres, centre_section, seed)
        settings = settings_for(Path(index_dir))
        for items, i, done in make_items(archive, settings, start, done0, n_chunks):
            extracted = {}
            for article, *_ in items:
                with contextlib.suppress(Exception):  # the writer extracts again and logs it
                    extracted[article.text] = extract(article.text)
            out.put(("batch", items, extracted, i, done))
        out.put(("end",))
    except BaseException:  # noqa: BLE001 - reported to the writing process
        out.put(("error", traceback.format_exc()))


@contextlib.contextmanager
def _producer(data: Path, index_dir: Path, manifest: dict, n_chunks: int):
    """Run `produce` in a fresh process (two batches ahead at most); yields its batches.
    A producer that dies is an error here, never a hang."""
    import multiprocessing as mp
    import queue

    ctx = mp.get_context("spawn")  # this process already runs Chroma's and ONNX's threads
    out = ctx.Queue(maxsize=2)
    proc = ctx.Process(
        target=produce,
        args=(
            out,
            str(data),
            str(index_dir),
            manifest["seed"],
            manifest["articles_done"],
            manifest["chunks_done"],
            n_chunks,
        ),
        daemon=True,
    )
    proc.start()

    def batches():
        while True:
            try:
                msg = out.get(timeout=5)
            except queue.Empty:
                if not proc.is_alive():
                    raise BenchError(
                        f"the article producer process died (exit {proc.exitcode})"
                    ) from None
                continue
            if msg[0] == "end":
                return
            if msg[0] == "error":
                raise BenchError(f"making the synthetic articles failed:\n{msg[1]}")
            yield msg[1:]

    try:
        yield batches()
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=10)


def _persist_every(index, n: int) -> None:
    """Let Chroma persist the HNSW index of the chunks and of the statements every `n`
    vectors added. At Chroma's default (1,000) every write of a batch rewrites the whole
    files, which made the build's cost per chunk grow with the archive (at 500k chunks
    the writer wrote 30 GB in 14 minutes). Vectors not yet persisted stay in Chroma's log,
    which readers replay, so nothing is lost when a build is killed. The build sets the
    default back before its last batch (also a stopped build's), whose write then
    persists everything: the index ends as Chroma's default leaves it."""
    collections = [index.chunks]
    statements = index.side("statements")
    if statements is not None:
        collections.append(statements.collection())
    for col in collections:
        col.modify(configuration={"hnsw": {"sync_threshold": n}})


class _StopRequest:
    """Ctrl-C or SIGTERM during the build: finish the batch being written, leave the
    index consistent (manifest saved, dirty mark cleared) and stop; a second one stops
    at once."""

    def __init__(self) -> None:
        import signal

        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        say("stopping after the batch being written (again to stop at once)")


def build(index_dir: Path, n_chunks: int, data: Path, seed: int) -> dict:
    """Build (or continue building) the index; returns the finished manifest."""
    from ingest.pipeline import sync_articles
    from rag.embeddings import Embedder
    from rag.lock import writer_lock
    from rag.store import Index

    settings = settings_for(index_dir)
    manifest_path = index_dir / MANIFEST
    manifest = _read_manifest(index_dir) or {
        "build_version": BUILD_VERSION,
        "target_chunks": n_chunks,
        "seed": seed,
        "articles_done": 0,
        "chunks_done": 0,
        "build_s": 0.0,
        "complete": False,
    }
    started = time.perf_counter()
    say("loading the embedding model")
    embedder = Embedder.from_settings(settings)
    if manifest["chunks_done"] == 0:
        gold, _ = load_gold(data, QUESTIONS)
        say(f"ingesting {len(gold)} XQuAD paragraphs for real (embedded by {embedder.model_id})")
        summary = sync_articles(lambda _s: gold, settings, embedder=embedder)
        manifest["gold_articles"] = len(summary.added) + summary.unchanged
        manifest["gold_chunks"] = Index(settings).chunks.count()
        manifest["chunks_done"] = manifest["gold_chunks"]
        _write_manifest(manifest_path, manifest)
    centres = real_centres(index_dir, read_gnad(data), seed, embedder)[0]
    embed = simulated_embed(centres)

    index = Index(settings)
    statements = index.side("statements")
    i, done = manifest["articles_done"], manifest["chunks_done"]
    say(f"writing {n_chunks - done:,} synthetic chunks with SIMULATED vectors (near real centres)")
    say("  (articles made and their statements extracted in a second process, ahead)")
    t0, done0 = time.perf_counter(), done
    manifest["build_s"] = round(manifest["build_s"] + t0 - started, 1)  # the setup so far
    t = t0
    stop = _StopRequest()
    producer = _producer(data, index_dir, manifest, n_chunks)
    with writer_lock(settings), producer as batches:
        _persist_every(index, SYNC_DURING_BUILD)
        restored = False
        for items, extracted, i, done in batches:
            if statements is not None:
                statements.use_extracted(extracted)
            if done >= n_chunks or stop.requested:  # the last batch: its writes persist all
                _persist_every(index, CHROMA_SYNC_DEFAULT)
                restored = True
            index.write_articles(items, embed=embed)
            now = time.perf_counter()
            manifest.update(
                articles_done=i, chunks_done=done, build_s=round(manifest["build_s"] + now - t, 1)
            )
            t = now
            _write_manifest(manifest_path, manifest)
            rate = (done - done0) / max(time.perf_counter() - t0, 1e-9)
            eta = (n_chunks - done) / rate if rate else 0
            say(
                f"  {done:,} / {n_chunks:,} chunks ({i:,} articles), {rate:,.0f} chunks/s, "
                f"ETA {eta / 60:.1f} min"
            )
            if stop.requested and restored:
                break
        if not restored:  # nothing was left to write
            _persist_every(index, CHROMA_SYNC_DEFAULT)
        index.mark_refreshed()  # every write above finished: the index is consistent
    if stop.requested and done < n_chunks:
        raise BenchError(
            f"stopped at {done:,} chunks, the index consistent; continue with --reuse, or "
            "measure it as it is with --reuse --partial"
        )
    manifest["complete"] = True
    manifest["build_peak_rss_mb"] = round(peak_rss_mb())
    _write_manifest(manifest_path, manifest)
    return manifest


def worker_reconcile(index_dir: Path, data: Path) -> dict:
    """Repair the index as an ingest's first step does, and back-fill side indexes it
    lacks (e.g. a keyword index of a newer version than the build's); side indexes that
    store vectors get simulated ones, like the chunks of the synthetic bulk."""
    from rag.lock import writer_lock
    from rag.store import Index

    settings = settings_for(index_dir)
    manifest = _read_manifest(index_dir) or {}
    embed = simulated_embed(real_centres(index_dir, read_gnad(data), manifest.get("seed", 10))[0])
    t0 = time.perf_counter()
    with writer_lock(settings):
        _records, _groups, removed = Index(settings).reconcile(embed=embed)
    return {
        "reconcile_s": round(time.perf_counter() - t0, 1),
        "reconcile_removed_chunks": removed,
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_manifest(path: Path, manifest: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    tmp.replace(path)


# --- measuring processes ----------------------------------------------------------------
def worker_search(index_dir: Path, data: Path, spawned_at: float, n_questions: int) -> dict:
    """Open a retriever in this fresh process and time the questions."""
    import numpy as np

    t = time.time()
    from rag.embeddings import Embedder
    from rag.retrieve import Filters, Retriever
    from rag.store import Index

    settings = settings_for(index_dir)
    _, questions = load_gold(data, n_questions)
    t_model = time.time()
    embedder = Embedder.from_settings(settings)
    model_load_s = time.time() - t_model
    t_q = time.time()
    vectors = embedder.encode_queries([q.text for q in questions])
    embed_questions_s = time.time() - t_q
    imports_s = t_model - t
    t_open = time.time()
    retriever = Retriever(settings, Index(settings), embedder)
    first = retriever.search(questions[0].text, query_vector=vectors[0])
    ready = time.time()
    if not first:
        raise BenchError(f"the index at {index_dir} answered nothing; is it empty?")
    open_s = (ready - spawned_at) - model_load_s - embed_questions_s
    times, hits = {True: [], False: []}, []
    for q, vec in zip(questions, vectors, strict=True):
        filters = Filters()
        if q.filtered:
            day = dt.date.fromisoformat(q.date)
            filters = Filters(
                date_from=(day - dt.timedelta(days=182)).isoformat(),
                date_to=(day + dt.timedelta(days=182)).isoformat(),
            )
        t0 = time.perf_counter()
        passages = retriever.search(q.text, k=5, filters=filters, query_vector=vec)
        times[q.filtered].append((time.perf_counter() - t0) * 1000)
        hits.append(any(p.article_id == q.article_id for p in passages))
    every = times[True] + times[False]
    t0 = time.perf_counter()
    retriever.search(questions[1].text)  # what a user waits for: the question embedded too
    one_with_embedding_ms = (time.perf_counter() - t0) * 1000
    return {
        "open_s": round(open_s, 2),
        "open_parts_s": {
            "process_start_and_imports": round(t_model - spawned_at, 2),
            "of_which_imports": round(imports_s, 2),
            "index_and_first_search": round(ready - t_open, 2),
        },
        "model_load_s": round(model_load_s, 2),
        "p50_ms": round(float(np.percentile(every, 50)), 1),
        "p95_ms": round(float(np.percentile(every, 95)), 1),
        "p95_filtered_ms": round(float(np.percentile(times[True], 95)), 1),
        "p95_unfiltered_ms": round(float(np.percentile(times[False], 95)), 1),
        "max_ms": round(max(every), 1),
        "one_search_with_embedding_ms": round(one_with_embedding_ms, 1),
        "questions": len(questions),
        "recall_at_5": round(sum(hits) / len(hits), 3),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def worker_refresh(index_dir: Path, data: Path, n_articles: int) -> dict:
    """Add n real articles through the ingest pipeline, then remove them again."""
    from ingest.pipeline import run_ingest
    from rag.embeddings import Embedder
    from rag.retrieve import Retriever
    from rag.store import Index

    settings = settings_for(index_dir)
    gnad = read_gnad(data)
    embedder = Embedder.from_settings(settings)
    in_model = [0.0]
    encode = embedder.encode

    def timed_encode(texts, prefix=""):
        t = time.perf_counter()
        try:
            return encode(texts, prefix)
        finally:
            in_model[0] += time.perf_counter() - t

    reader = Retriever(settings, Index(settings), embedder)
    probe = "Wie hoch war die Arbeitslosigkeit in Österreich?"
    probe_vec = reader.encode_query(probe)
    reader.search(probe, query_vector=probe_vec)  # opened and warm before the refresh

    embedder.encode = timed_encode
    folder = Path(tempfile.mkdtemp(prefix="scale-refresh-"))
    try:
        # The last rows of the data set, so a small build's sentences are least related.
        picked = gnad[-n_articles:]
        records = [
            {
                "id": f"neu-{k:04d}",
                "title": " ".join(text.split()[:8]),
                "date": date or "2026-01-15",
                "source": "Neue Meldungen",
                "text": text,
            }
            for k, (_label, text, date) in enumerate(picked)
        ]
        feed = folder / "neu.jsonl"
        feed.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        added = run_ingest([folder], settings, embedder=embedder)
        embed_s = in_model[0]
        t0 = time.perf_counter()
        seen = reader.search(probe, query_vector=probe_vec)
        reader_after_ms = (time.perf_counter() - t0) * 1000
        feed.unlink()
        in_model[0] = 0.0
        removed = run_ingest([folder], settings, embedder=embedder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if len(added.added) != n_articles or len(removed.removed) != n_articles:
        raise BenchError(
            f"the refresh added {len(added.added)} and removed {len(removed.removed)} of "
            f"{n_articles} articles (failed: {[str(p) for p in added.failed[:3]]})"
        )
    return {
        "refresh_overhead_s": round(added.seconds - embed_s, 2),
        "refresh_s": round(added.seconds, 2),
        "refresh_embed_s": round(embed_s, 2),
        "refresh_articles": len(added.added),
        "refresh_chunks": added.chunks_written,
        "remove_s": round(removed.seconds, 2),
        "reader_after_refresh_ms": round(reader_after_ms, 1),
        "reader_saw_results": bool(seen),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def spawn(worker: str, index_dir: Path, args, profile: bool) -> dict:
    """Run one measuring worker in a fresh interpreter; its JSON result."""
    cmd = [sys.executable]
    prof = index_dir / f"profile-{worker}.out"
    if profile:
        cmd += ["-m", "cProfile", "-o", str(prof)]
    cmd += [
        str(Path(__file__).resolve()),
        "--worker", worker,
        "--index", str(index_dir),
        "--data", str(args.data),
        "--questions", str(args.questions),
        "--refresh-articles", str(args.refresh_articles),
        "--spawned-at", repr(time.time()),
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise BenchError(f"the {worker} measurement failed (exit {done.returncode}); see above")
    if profile:
        import pstats

        with open(index_dir / f"profile-{worker}.txt", "w", encoding="utf-8") as out:
            pstats.Stats(str(prof), stream=out).sort_stats("cumulative").print_stats(40)
        say(f"profile of the {worker} process: {index_dir / f'profile-{worker}.txt'}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def disk_mb(folder: Path) -> float:
    """Space the folder's files occupy on disk (allocated blocks), in MB."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total / 2**20


# --- command line -----------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="targets at 200,000 chunks: " + ", ".join(f"{k} < {v}" for k, v in TARGETS.items()),
    )
    p.add_argument("--chunks", type=int, help="chunks in the index (XQuAD + synthetic)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with xquad/, 10kGNAD/")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--index", type=Path, help="keep the index in this folder (default: temp)")
    p.add_argument("--reuse", action="store_true", help="measure the index in --index again")
    p.add_argument(
        "--partial", action="store_true", help="with --reuse: measure an unfinished build as it is"
    )
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--questions", type=int, default=QUESTIONS, help=argparse.SUPPRESS)
    p.add_argument("--refresh-articles", type=int, default=REFRESH_ARTICLES)
    p.add_argument("--profile", action="store_true", help="cProfile the measuring processes")
    p.add_argument("--worker", choices=("search", "refresh", "reconcile"), help=argparse.SUPPRESS)
    p.add_argument("--spawned-at", type=float, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def check_args(args) -> None:
    if args.chunks is None:
        raise BenchError("--chunks N is required, e.g. --chunks 200000")
    if args.chunks < 1000:
        raise BenchError(f"--chunks {args.chunks} is too small; use at least 1000")
    if args.reuse and args.index is None:
        raise BenchError("--reuse measures a kept index: pass its folder with --index DIR")
    if args.partial and not args.reuse:
        raise BenchError("--partial measures a kept, unfinished build: add --reuse --index DIR")
    if not 4 <= args.questions <= 1000 or not 1 <= args.refresh_articles <= 1000:
        raise BenchError("--questions must be 4-1000 and --refresh-articles 1-1000")
    for part in ("xquad/xquad.de.json", "xquad/xquad.en.json", "10kGNAD/test.csv"):
        if not (args.data / part).is_file():
            raise BenchError(
                f"{args.data / part} not found. Pass --data (or set RAG_TEST_DATA_DIR) with "
                "the folder holding xquad/ and 10kGNAD/."
            )
    if args.index is not None and args.index.exists():
        manifest = _read_manifest(args.index)
        if not args.index.is_dir():
            raise BenchError(f"--index {args.index} is a file; pass a folder")
        if any(args.index.iterdir()) and manifest is None:
            raise BenchError(
                f"--index {args.index} holds something that is not a scale-bench index; "
                "pass an empty or new folder"
            )
        if manifest is not None and not args.reuse:
            raise BenchError(
                f"--index {args.index} already holds a build; add --reuse to measure it again, "
                "or pass a new folder"
            )
        if manifest is not None and (
            manifest.get("target_chunks") != args.chunks
            or manifest.get("seed") != args.seed
            or manifest.get("build_version") != BUILD_VERSION
        ):
            raise BenchError(
                f"--index {args.index} holds a build of {manifest.get('target_chunks')} chunks "
                f"(seed {manifest.get('seed')}); pass --chunks "
                f"{manifest.get('target_chunks')} or a new folder"
            )


def run(args) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    index_dir = args.index or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        manifest = _read_manifest(index_dir)
        reused = bool(manifest and (manifest.get("complete") or args.partial))
        if reused and not manifest.get("complete"):
            say(f"measuring an unfinished build as it is ({manifest['chunks_done']:,} chunks)")
        elif reused:
            say(f"reusing the build in {index_dir} ({manifest['chunks_done']:,} chunks)")
        else:
            manifest = build(index_dir, args.chunks, args.data, args.seed)
        say("reconciling the index as an ingest does first (back-fills missing side indexes)")
        repaired = spawn("reconcile", index_dir, args, profile=False)
        say("measuring: open and search (fresh process)")
        search = spawn("search", index_dir, args, args.profile)
        say("measuring: refresh (fresh process)")
        refresh = spawn("refresh", index_dir, args, args.profile)
        from rag.store import Index

        chunks = Index(settings_for(index_dir)).chunks.count()
        size = disk_mb(index_dir)
    finally:
        if args.index is None:
            shutil.rmtree(index_dir, ignore_errors=True)
    simulated = manifest["chunks_done"] - manifest.get("gold_chunks", 0)
    return {
        "chunks": chunks,
        "open_s": search["open_s"],
        "p95_ms": search["p95_ms"],
        "refresh_overhead_s": refresh["refresh_overhead_s"],
        "peak_rss_mb": max(search["peak_rss_mb"], refresh["peak_rss_mb"]),
        "disk_mb": round(size),
        "simulated_vectors": simulated > 0,
        "simulated_chunks": simulated,
        "real_chunks": manifest.get("gold_chunks", 0),
        "articles": manifest["articles_done"] + manifest.get("gold_articles", 0),
        "peak_rss_mb_by_process": {
            "search": search["peak_rss_mb"],
            "refresh": refresh["peak_rss_mb"],
            "reconcile": repaired["peak_rss_mb"],
            "build": manifest.get("build_peak_rss_mb"),
        },
        "build_s": manifest["build_s"],
        "reused_build": reused,
        "complete_build": bool(manifest.get("complete")),
        "reconcile_s": repaired["reconcile_s"],
        "reconcile_removed_chunks": repaired["reconcile_removed_chunks"],
        **{k: v for k, v in search.items() if k not in ("open_s", "p95_ms", "peak_rss_mb")},
        **{k: v for k, v in refresh.items() if k not in ("refresh_overhead_s", "peak_rss_mb")},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "index": str(index_dir) if args.index else None,
    }


def report(result: dict) -> None:
    print(
        f"{result['chunks']:,} chunks ({result['simulated_chunks']:,} with SIMULATED vectors "
        f"near real e5 centres, {result['real_chunks']:,} embedded for real), "
        f"{result['articles']:,} articles"
    )
    for key in KEYS[1:]:
        target = TARGETS.get(key)
        verdict = "" if target is None else ("  ok" if result[key] < target else "  MISSED")
        limit = f" (target < {target})" if target is not None else ""
        print(f"  {key:22} {result[key]}{limit}{verdict}")
    print("details:")
    for key, value in result.items():
        if key not in KEYS:
            print(f"  {key:30} {value}")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.worker:
            worker = {
                "search": lambda: worker_search(
                    args.index, args.data, args.spawned_at or time.time(), args.questions
                ),
                "refresh": lambda: worker_refresh(args.index, args.data, args.refresh_articles),
                "reconcile": lambda: worker_reconcile(args.index, args.data),
            }[args.worker]
            print(json.dumps(worker()))
            return 0
        check_args(args)
        result = run(args)
    except BenchError as exc:
        print(f"bench/scale.py: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
