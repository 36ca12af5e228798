"""BM25 keyword search over the chunks in the index, German-aware.

Text is lower-cased, split into word tokens, stripped of German and English stop words
(journalists ask in English about German articles) and stemmed with the Snowball German
stemmer (which also folds umlauts: "österreichischen" -> "osterreich"). Scoring is
bm25s (Lucene BM25). The index is derived from the Chroma chunk collection
(`Index.iter_chunks()`), so it can always be rebuilt from the one source of truth; a
process-wide cache keyed by `Index.fingerprint()` keeps it in memory between searches.

`match_strength` tells how well a query's terms actually match the corpus (IDF-weighted
share of the query's terms found in its best BM25 chunk): the retriever uses it to decide
how much to trust BM25 for that query.

Shortcuts: the whole keyword index lives in memory (token ids + a sparse matrix, a few
hundred bytes per chunk); it is rebuilt from scratch when the fingerprint changes rather
than patched, which takes seconds for ten thousand chunks.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

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


@dataclass(frozen=True)
class KeywordHit:
    row: int  # position in KeywordIndex.ids
    chunk_id: str
    score: float


class KeywordIndex:
    """BM25 over a fixed set of chunks, with per-chunk fields for filtering."""

    def __init__(self, chunks: Iterable[tuple[str, str, dict]], fingerprint: str = "") -> None:
        import bm25s

        self.fingerprint = fingerprint
        ids, dates, sources, corpus = [], [], [], []
        for cid, text, meta in chunks:
            ids.append(cid)
            dates.append(int(meta.get(schema.DATE_INT) or 0))
            sources.append(str(meta.get(schema.SOURCE, "")))
            corpus.append(tokenize(text or ""))
        self.ids: list[str] = ids
        self.date_int = np.asarray(dates, dtype=np.int64)
        self.sources = np.asarray(sources, dtype=object)
        # Term ids per chunk (distinct), for match_strength; df for idf.
        self._vocab: dict[str, int] = {}
        self._rows_terms: list[frozenset[int]] = []
        df: dict[int, int] = {}
        for toks in corpus:
            ids_ = frozenset(self._vocab.setdefault(t, len(self._vocab)) for t in toks)
            self._rows_terms.append(ids_)
            for t in ids_:
                df[t] = df.get(t, 0) + 1
        self._df = df
        self._bm25 = None
        if ids:
            # bm25s cannot index an empty token list; a placeholder token keeps rows aligned.
            padded = [toks or ["\x00"] for toks in corpus]
            self._bm25 = bm25s.BM25()
            self._bm25.index(padded, show_progress=False)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Row of each chunk id."""
        return {cid: row for row, cid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the highest value."""
        n = max(len(self.ids), 1)
        tid = self._vocab.get(term)
        df = self._df.get(tid, 0) if tid is not None else 0
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def match_strength(self, query_terms: Sequence[str], scores: np.ndarray | None = None) -> float:
        """IDF-weighted share of the query's distinct terms found in its best BM25 chunk.

        In [0, 1]: a German question over German news finds most of its terms in one
        passage (~0.7-1); an English question over German text matches a name or two
        (~0.1-0.3), so its BM25 ranking is mostly noise. `scores` (from `scores()`,
        possibly masked by a filter) picks the best chunk; computed when not given.
        0 for a query with no terms or no match.

        >>> kw = KeywordIndex([("a", "Peskow sprach in Moskau", {}), ("b", "Regen in Wien", {})])
        >>> kw.match_strength(tokenize("Peskow in Moskau?"))
        1.0
        >>> round(kw.match_strength(tokenize("Was sagte Peskow in Moskau?")), 2)  # "sagte" unseen
        0.44
        >>> kw.match_strength(tokenize("What did the spokesman say?"))
        0.0
        """
        terms = set(query_terms)
        if not terms or not self.ids:
            return 0.0
        if scores is None:
            scores = self.scores(query_terms)
        if scores.size == 0 or float(scores.max()) <= 0.0:
            return 0.0
        best = self._rows_terms[int(np.argmax(scores))]
        total = sum(self.idf(t) for t in terms)
        found = sum(self.idf(t) for t in terms if self._vocab.get(t, -1) in best)
        return found / total if total > 0 else 0.0

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk (row order of `ids`) for these terms."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in query_terms if t in self._vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def mask(self, date_from: int = 0, date_to: int = 0, sources: Sequence[str] = ()):
        """Boolean row mask for a date range (YYYYMMDD ints, 0 = open) and sources."""
        keep = np.ones(len(self.ids), dtype=bool)
        if date_from:
            keep &= self.date_int >= date_from
        if date_to:
            keep &= (self.date_int <= date_to) & (self.date_int > 0)
        if sources:
            keep &= np.isin(self.sources, list(sources))
        return keep

    def search(
        self, query_terms: Sequence[str], k: int, mask: np.ndarray | None = None
    ) -> list[KeywordHit]:
        """The k best chunks with a positive score, best first."""
        scores = self.scores(query_terms)
        if scores.size == 0:
            return []
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(int(r), self.ids[r], float(scores[r])) for r in top if scores[r] > 0]


_CACHE: dict[tuple, KeywordIndex] = {}
_LOCK = threading.Lock()


def keyword_index_for(index) -> KeywordIndex:
    """The keyword index for an `rag.store.Index`, rebuilt only when its fingerprint changed."""
    key = (index.settings.index_location, index.name)
    fingerprint = index.fingerprint()
    cached = _CACHE.get(key)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    with _LOCK:  # one rebuild at a time, e.g. several Streamlit sessions at once
        cached = _CACHE.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        built = KeywordIndex(index.iter_chunks(), fingerprint=fingerprint)
        _CACHE[key] = built
        return built
