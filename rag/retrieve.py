"""Question -> ranked passages: dense search in Chroma plus BM25, fused per query,
filtered by date and source, near-duplicates collapsed, optionally reranked.

Flow of `Retriever.search`:
1. the index is reopened if another process wrote it (`Index.refresh()`); the persistent
   keyword index (rag/keyword.py, SQLite) sees every commit by itself, so nothing is
   rebuilt and opening costs the same at any corpus size;
2. dense candidates come from the chunk collection (HNSW), keyword candidates from BM25
   in the keyword index (the filter inside its ranked query). Chroma's filtered query
   costs in proportion to the rows each `where` clause matches (seconds for a year of a
   200k-chunk archive), so a filter the keyword index's article table says keeps a large
   share of the chunks is checked in Python on a larger unfiltered query, and a narrow
   one goes to Chroma with its dates as the list of days that have articles (`_dense`);
3. candidates are kept only if they belong to the committed version of their article:
   its record exists and names the chunk's version (a writer adds a version's chunks
   before its record and deletes the old version's chunks after it, so in between the
   index holds chunks of two versions, or of an article without a record);
4. every candidate gets both scores: the BM25 of dense-only candidates is looked up per
   chunk, the cosine of keyword-only candidates from their stored embeddings; candidate
   texts and metadata are always read from Chroma, so a keyword hit for a chunk deleted a
   moment ago is dropped;
5. the two are standardised within the pool and added, BM25 with a per-query weight
   (see `rag.fusion`);
6. near-duplicates are collapsed, and the best SENTENCE_DEPTH passages are re-ranked by
   adding how well their best sentence matches the question (`rag.sentences`: vectors
   stored with each chunk at ingest), both standardised among them, the sentence signal
   with the model's `sentence_weight`; chunks stored without sentence vectors keep their
   place (an index from before them ranks as without this step); a configured
   cross-encoder (`RAG_RERANKER_MODEL`) reorders instead.

Shortcuts: the candidate pool is a fixed number per signal (`CANDIDATES`), which bounds
latency; a passage ranked below it by both signals is never seen. Candidates dropped as
uncommitted come out of that pool, which is many times `top_k`, so the result stays full.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag import calibration, fusion, schema, sentences
from rag.embeddings import Embedder
from rag.errors import UserError
from rag.keyword import tokenize
from rag.schema import Passage
from rag.settings import Settings
from rag.store import Index

CANDIDATES = 50  # per signal; the fused pool is at most twice this
# A filtered dense search asks Chroma without the filter for CANDIDATES / share * this
# many, checking the filter on each, as long as that stays within MAX_UNFILTERED.
OVERSAMPLE = 1.5
MAX_UNFILTERED = 3000
MAX_DAYS = 4000  # a longer list of days goes to Chroma as a range instead
SIGNALS = ("dense", "bm25")
SENTENCE_DEPTH = 30  # passages re-ranked by their best sentence (bench/sentence_rerank.py)


# How the user names the date bounds (CLI options, the app's date fields), for messages.
_START, _END = "start date (--since)", "end date (--until)"


@dataclass(frozen=True)
class Filters:
    """Restrict a search to a date range (ISO dates, inclusive) and/or some sources."""

    date_from: str | None = None
    date_to: str | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, shown in (("date_from", _START), ("date_to", _END)):
            value = getattr(self, name)
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise UserError(
                        f"The {shown} {value!r} is not a date; use the form YYYY-MM-DD."
                    ) from None
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise UserError(
                f"The {_START} {self.date_from} is after the {_END} {self.date_to}; swap them."
            )
        object.__setattr__(self, "sources", tuple(s for s in self.sources if s))

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)

    @property
    def date_range(self) -> tuple[int, int]:
        """(from, to) as YYYYMMDD ints, 0 where open."""
        return schema.date_to_int(self.date_from), schema.date_to_int(self.date_to)

    def where(self) -> dict | None:
        """The Chroma `where` clause, or None when nothing is filtered."""
        lo, hi = self.date_range
        clauses: list[dict] = []
        if lo:
            clauses.append({schema.DATE_INT: {"$gte": lo}})
        if hi:
            clauses.append({schema.DATE_INT: {"$lte": hi}})
            if not lo:  # unknown dates (0) are out of range; a start date excludes them
                clauses.append({schema.DATE_INT: {"$gt": 0}})
        if self.sources:
            clauses.append({schema.SOURCE: {"$in": list(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def where_days(self, days: Sequence[int]) -> dict:
        """The Chroma `where` clause with the date range given as the days (YYYYMMDD) on
        which articles inside the filters were published: Chroma's cost grows with the
        rows each clause matches, and a range clause matches every row on its open side."""
        clauses: list[dict] = [{schema.DATE_INT: {"$in": sorted(days)}}]
        if self.sources:
            clauses.append({schema.SOURCE: {"$in": list(self.sources)}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def admits(self, meta: Mapping) -> bool:
        """Whether a chunk with this metadata is inside the filters (the rule of `where`)."""
        lo, hi = self.date_range
        if lo or hi:
            day = int(meta.get(schema.DATE_INT) or 0)
            if day < max(lo, 1) or (hi and day > hi):
                return False
        return not self.sources or meta.get(schema.SOURCE) in self.sources


def _article_and_version(chunk_id: str) -> tuple[str, str]:
    """(article id, start of the version) named by a chunk id (`schema.chunk_id`).

    >>> _article_and_version("a#b.txt#3f9a0c1d2e4b-0002")
    ('a#b.txt', '3f9a0c1d2e4b')
    """
    article_id, _, rest = chunk_id.rpartition("#")
    return article_id, rest.rpartition("-")[0]


def _add_sentence(p: Passage, meta: Mapping, qvec: np.ndarray) -> None:
    """The cosine of the passage's best sentence as `scores["sentence"]`, when the chunk
    was stored with sentence vectors."""
    best = sentences.best_cosine(meta.get(schema.SENTENCE_VECTORS), qvec)
    if best is not None:
        p.scores["sentence"] = best


class Retriever:
    """Hybrid dense + BM25 retrieval over one Index."""

    def __init__(
        self,
        settings: Settings,
        index: Index,
        embedder: Embedder,
        *,
        signals: tuple[str, ...] = SIGNALS,
    ) -> None:
        unknown = set(signals) - set(SIGNALS)
        if unknown or not signals:
            raise ValueError(f"signals must be a non-empty subset of {SIGNALS}, got {signals}")
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.signals = tuple(signals)
        self.calibration = calibration.for_model(getattr(embedder, "model_id", ""))
        self._reranker = None
        if settings.reranker_model:
            from rag.rerank import Reranker

            self._reranker = Reranker(settings.reranker_model, device=settings.embedding_device)

    def refresh(self) -> None:
        """Follow other processes' writes now rather than at the next search (cheap: the
        keyword index needs no reload)."""
        self.index.refresh()

    def encode_query(self, query: str) -> np.ndarray:
        """The query's embedding."""
        return self.embedder.encode_queries([query])[0]

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        *,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """The k best passages for the query, best first, with per-signal scores.

        `query_vector` (from `encode_query`) skips embedding the query again.
        """
        k = k or self.settings.top_k
        filters = filters or Filters()
        self.index.refresh()  # another process may have written since the last search
        if not query or not query.strip():
            return []
        qvec = query_vector if query_vector is not None else self.encode_query(query)
        pool: dict[str, Passage] = {}
        if "dense" in self.signals:
            self._dense(qvec, filters, pool)
        # A row count scans the whole collection (70 ms at a million chunks): only when
        # the nearest-neighbour search found nothing is the index perhaps empty.
        if not pool and self.index.chunks.count() == 0:
            return []
        weight, best = 0.0, 0.0
        if "bm25" in self.signals:
            weight, best = self._add_keyword(query, qvec, filters, pool)
        if "dense" not in self.signals:
            weight = 1.0
        self._keep_committed(pool)
        passages = list(pool.values())
        fused = fusion.fuse_pool(
            [p.scores["dense"] for p in passages],
            [p.scores["bm25"] for p in passages],
            weight,
            self.signals,
        )
        for p, score in zip(passages, fused, strict=True):
            p.scores["fused"] = float(score)
            p.scores["keyword_weight"] = weight
            p.score = p.scores["fused"]
        ranked = sorted(pool.values(), key=lambda p: (-p.score, p.chunk_id))
        if self._reranker is not None:
            ranked = self._reranker.rerank(query, ranked)
        elif self.calibration.sentence_weight and self.signals == SIGNALS:
            best = fusion.collapse_duplicates(ranked, max(k, SENTENCE_DEPTH))
            return self._by_sentence(best, self.calibration.sentence_weight)[:k]
        return fusion.collapse_duplicates(ranked, k)

    @staticmethod
    def _by_sentence(passages: list[Passage], weight: float) -> list[Passage]:
        """The passages re-ranked by z(fused) + weight x z(best sentence's cosine)
        among them; unchanged when none has sentence vectors. A passage stored without
        them counts with its chunk's cosine."""
        if not any("sentence" in p.scores for p in passages):
            return passages
        fused = fusion.standardise(np.array([p.scores["fused"] for p in passages]))
        best = fusion.standardise(
            np.array([p.scores.get("sentence", p.scores["dense"]) for p in passages])
        )
        combined = fused + weight * best
        for p, score in zip(passages, combined, strict=True):
            p.score = float(score)
        order = np.argsort(-combined, kind="stable")
        return [passages[i] for i in order]

    # --- signals -------------------------------------------------------------------
    def _dense(self, qvec: np.ndarray, filters: Filters, pool: dict[str, Passage]) -> None:
        """The CANDIDATES nearest chunks inside the filters.

        Chroma's filtered query costs in proportion to the rows each `where` clause
        matches (seconds for a year of a 200k-chunk archive), while an unfiltered one
        costs milliseconds even for a thousand results. So the share of chunks the
        filters keep is looked up in the keyword index's article table: a wide filter
        (CANDIDATES / share within MAX_UNFILTERED) is checked in Python on an unfiltered
        query's results; a narrow one, or a wide one whose check left fewer than
        CANDIDATES, goes to Chroma with the dates as the list of days that have articles.
        """
        if not filters.active:
            self._add_dense(self._query(qvec, CANDIDATES, None), pool, qvec)
            return
        plan = self._filter_plan(filters)
        if plan is None:
            self._add_dense(self._query(qvec, CANDIDATES, filters.where()), pool, qvec)
            return
        share, days = plan
        if share <= 0:  # the article table says nothing is inside the filters
            return
        wanted = math.ceil(CANDIDATES / share * OVERSAMPLE)
        if wanted <= MAX_UNFILTERED:
            inside = self._nearest_inside(qvec, wanted, filters)
            if inside is not None:
                self._add_dense(inside, pool, qvec)
                return
        where = filters.where_days(days) if days and len(days) <= MAX_DAYS else filters.where()
        self._add_dense(self._query(qvec, CANDIDATES, where), pool, qvec)

    def _filter_plan(self, filters: Filters) -> tuple[float, list[int]] | None:
        """(share of the chunks inside the filters, the days with such articles; empty
        when no date bound is set), or None when the keyword index cannot tell."""
        kw = self.index.side("keyword")
        lo, hi = filters.date_range
        counted = kw.chunks_by_day(lo, hi, filters.sources) if kw is not None else None
        if counted is None:
            return None
        total, by_day = counted
        if total <= 0:
            return None
        share = min(1.0, sum(by_day.values()) / total)
        return share, sorted(d for d in by_day if d) if lo or hi else []

    def _query(self, qvec: np.ndarray, n: int, where: dict | None) -> dict:
        return self.index.chunks.query(
            query_embeddings=[qvec.tolist()],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )

    def _nearest_inside(self, qvec: np.ndarray, n: int, filters: Filters) -> dict | None:
        """The CANDIDATES nearest chunks inside the filters among the n nearest of all, as a
        query result; None when fewer than CANDIDATES of them are inside.

        Reading n chunks' metadata from Chroma costs far more than finding them, so the
        filter is first checked on their articles' rows in the keyword index (the chunk
        id names article and version), and only the chosen chunks are read, their own
        metadata checked again.
        """
        got = self.index.chunks.query(
            query_embeddings=[qvec.tolist()], n_results=n, include=["distances"]
        )
        ids, distances = got["ids"][0], got["distances"][0]
        owners = [_article_and_version(cid) for cid in ids]
        rows = self.index.side("keyword").article_rows([aid for aid, _v in owners])
        chosen: dict[str, float] = {}
        for cid, (aid, version), dist in zip(ids, owners, distances, strict=True):
            if any(
                v.startswith(version) and filters.admits({schema.DATE_INT: d, schema.SOURCE: s})
                for v, d, s in rows.get(aid, ())
            ):
                chosen[cid] = dist
                if len(chosen) == CANDIDATES:
                    break
        if len(chosen) < CANDIDATES:
            return None
        read = self.index.chunks.get(ids=list(chosen), include=["documents", "metadatas"])
        found = {
            cid: (text, meta)
            for cid, text, meta in zip(
                read["ids"], read["documents"], read["metadatas"], strict=True
            )
            if meta is not None and filters.admits(meta)
        }
        keep = [cid for cid in chosen if cid in found]  # nearest first
        return {
            "ids": [keep],
            "documents": [[found[cid][0] for cid in keep]],
            "metadatas": [[found[cid][1] for cid in keep]],
            "distances": [[chosen[cid] for cid in keep]],
        }

    @staticmethod
    def _add_dense(got: dict, pool: dict[str, Passage], qvec: np.ndarray) -> None:
        for cid, text, meta, dist in zip(
            got["ids"][0],
            got["documents"][0],
            got["metadatas"][0],
            got["distances"][0],
            strict=True,
        ):
            if meta is None:  # deleted by a writer since the vector index was read
                continue
            p = Passage.from_chroma(cid, text or "", meta)
            p.scores = {"dense": 1.0 - float(dist), "bm25": 0.0}
            _add_sentence(p, meta, qvec)
            pool[cid] = p

    def _add_keyword(
        self, query: str, qvec: np.ndarray, filters: Filters, pool: dict[str, Passage]
    ) -> tuple[float, float]:
        """Add BM25 scores and candidates to the pool; returns (keyword weight, best BM25)."""
        kw = self.index.side("keyword")
        terms = tokenize(query)
        if kw is None or not terms:
            return 0.0, 0.0
        lo, hi = filters.date_range
        hits = kw.search(terms, CANDIDATES, lo, hi, filters.sources)
        if not hits:
            return 0.0, 0.0
        weight = fusion.keyword_weight(
            kw.match_strength(terms, hits[0]), self.calibration.fusion_keyword_weight
        )
        top = {h.chunk_id: h.score for h in hits}
        outside = [cid for cid in pool if cid not in top]
        known = {**kw.scores(terms, outside), **top} if outside else top
        for cid, p in pool.items():
            p.scores["bm25"] = known.get(cid, 0.0)
        if weight == 0.0 and "dense" in self.signals:
            return weight, hits[0].score  # BM25 cannot add anything; skip its candidates
        new = [cid for cid in top if cid not in pool]
        if new:
            got = self._get_with_vectors(new)
            for cid, text, meta, emb in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            ):
                if meta is None:  # deleted since the keyword search
                    continue
                p = Passage.from_chroma(cid, text or "", meta)
                dense = (
                    float(np.dot(np.asarray(emb, dtype=np.float32), qvec))
                    if emb is not None
                    else 0.0
                )
                p.scores = {
                    "dense": dense if "dense" in self.signals else 0.0,
                    "bm25": top[cid],
                }
                _add_sentence(p, meta, qvec)
                pool[cid] = p
        return weight, hits[0].score

    def _keep_committed(self, pool: dict[str, Passage]) -> None:
        """Drop candidates whose article has no record or another version than theirs."""
        ids = sorted({p.article_id for p in pool.values()})
        if not ids:
            return
        got = self.index.articles.get(ids=ids, include=["metadatas"])
        committed = {
            aid: str(meta.get(schema.VERSION, ""))
            for aid, meta in zip(got["ids"], got["metadatas"], strict=True)
            if meta is not None
        }
        for cid, p in list(pool.items()):
            if committed.get(p.article_id) != p.version or not p.version:
                del pool[cid]

    def _get_with_vectors(self, ids: list[str]) -> dict:
        """Texts, metadata and vectors of chunks; vectors None when Chroma cannot give them.

        Chunks another process wrote after this one loaded its vector index are unknown
        to it ("Error finding id"): reopen once, then do without their vectors.
        """
        include = ["documents", "metadatas", "embeddings"]
        try:
            return self.index.chunks.get(ids=ids, include=include)
        except Exception:  # noqa: BLE001 - chromadb raises InternalError for stale state
            self.index.refresh(force=True)
        try:
            return self.index.chunks.get(ids=ids, include=include)
        except Exception:  # noqa: BLE001
            got = self.index.chunks.get(ids=ids, include=["documents", "metadatas"])
            return {**got, "embeddings": [None] * len(got["ids"])}
