"""Combine the dense and keyword signals into one ranking, and collapse near-duplicates.

Fusion standardises each signal within the query's candidate pool and adds them:
`fused = z(cosine) + w * z(bm25)`, where z(x) = (x - pool mean) / pool standard deviation
(`fuse_pool`). The keyword weight `w` is decided per query from how well its terms match
the corpus (`KeywordIndex.match_strength`: the IDF-weighted share of the query's terms
found in its best BM25 passage): `w = KEYWORD_WEIGHT * match_strength`. A question whose
terms a passage actually uses (a German question over German news) gives BM25, which is
precise for names and rare words, almost as much say as the embedding; a question that
matches only a name or two (an English question over German text) is ranked by the
embedding, with BM25 left to break near-ties. No language detection is involved.

Why standardise: the two signals live on unrelated scales, and the cosine's scale depends
on the embedding model. all-MiniLM-L6-v2 spreads a pool's cosines widely;
multilingual-e5-small packs them into about 0.75-0.90, so the rule tuned on MiniLM, a fixed
mix of the raw cosine and max-normalised BM25 (`(1 - w) * cosine + w * bm25/max`,
`w = 0.8 * match_strength`), let BM25 drown a good e5 ranking: English recall@5 fell from
0.937 (e5 alone) to 0.750. In z units a signal counts by how far a passage stands out
from the rest of its pool, whatever the model's scale. What stays model-specific is how
much the embedding deserves: MiniLM, weak on German text, prefers a BM25 weight of about
2 (`bench/fusion.py` on MiniLM pools); KEYWORD_WEIGHT is chosen for the default model.

Measured on XQuAD (1,190 questions in English and German over the 240 German paragraphs,
1,028 10kGNAD news articles as distractors), cross-validated by Wikipedia article (weight
chosen on the questions of half of the 48 articles, scored on the other half, swapped,
five random splits; `bench/fusion.py`), multilingual-e5-small, chunk-level ranks:

| rule                                         | en R@1 | en R@5 | de R@1 | de R@5 |
|----------------------------------------------|-------:|-------:|-------:|-------:|
| dense only                                   |  0.803 |  0.937 |  0.861 |  0.949 |
| BM25 only                                    |  0.437 |  0.642 |  0.872 |  0.950 |
| MiniLM rule (raw cosine + bm25/max)          |  0.552 |  0.750 |  0.900 |  0.966 |
| same, weight re-tuned (w = 0.1 x strength)   |  0.808 |  0.945 |  0.928 |  0.981 |
| RRF, BM25 weight x match strength            |  0.795 |  0.942 |  0.901 |  0.979 |
| **z-scores, w = 0.8 x match strength**       |  0.810 |  0.945 |  0.929 |  0.984 |

Judging agreement between the signals as the gate instead of the match strength
(overlap of the two top-10 lists, BM25's best inside dense's top 10, how peaked BM25's
scores are) was 1-2 points worse in German and no better in English; scaling the weight
by how far BM25's best stands out relative to dense's best was +0.7 points of German
recall@1 and -0.1 of English recall@5, not enough for an unbounded per-query weight.
Rank-based fusion (RRF) throws away how far the best passage stands out, which is what
tells a precise keyword hit from noise. All rules: docs/benchmarks.md.

>>> dense = np.array([0.86, 0.85, 0.80, 0.79])  # e5-like: compressed cosines
>>> bm25 = np.array([2.0, 14.0, 0.0, 3.0])  # the second passage holds the rare name
>>> [int(i) for i in np.argsort(-fuse_pool(dense, bm25, keyword_weight(0.1)))]  # English
[0, 1, 2, 3]
>>> [int(i) for i in np.argsort(-fuse_pool(dense, bm25, keyword_weight(0.9)))]  # German
[1, 0, 3, 2]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.schema import Passage

# BM25's weight in z units at full match strength; dense always counts fully, so a
# semantically right passage can still beat a keyword-stuffed one. Chosen by
# cross-validation on XQuAD (folds chose 0.6-1.0; within 0.3 points of each other).
KEYWORD_WEIGHT = 0.8

# Two passages are near-duplicates when this share of the shorter one's word shingles
# (or character offsets, for chunks of the same article) is shared with the other.
DUPLICATE_OVERLAP = 0.6
_SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_weight(match_strength: float, max_weight: float = KEYWORD_WEIGHT) -> float:
    """BM25's weight (in z units, next to dense's 1) for a query with this match strength.

    >>> keyword_weight(1.0), keyword_weight(0.0)
    (0.8, 0.0)
    """
    return max_weight * min(max(match_strength, 0.0), 1.0)


def standardise(scores: np.ndarray) -> np.ndarray:
    """Scores as z-scores within their pool: mean 0, standard deviation 1 (0 when flat).

    >>> standardise(np.array([3.0, 1.0, 2.0])).round(3).tolist()
    [1.225, -1.225, 0.0]
    >>> standardise(np.array([5.0, 5.0])).tolist()
    [0.0, 0.0]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    std = float(scores.std())
    if std <= 1e-12:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / std


def fuse_pool(
    dense: Sequence[float] | np.ndarray,
    bm25: Sequence[float] | np.ndarray,
    weight: float,
    signals: Sequence[str] = ("dense", "bm25"),
) -> np.ndarray:
    """Fused scores of one query's candidate pool: z(dense) + weight * z(bm25).

    With one signal the score is that signal's own: the cosine, or BM25 / best BM25.
    """
    dense = np.asarray(dense, dtype=np.float64)
    bm25 = np.asarray(bm25, dtype=np.float64)
    if "bm25" not in signals:
        return dense
    if "dense" not in signals:
        top = float(bm25.max()) if bm25.size else 0.0
        return bm25 / top if top > 0 else np.zeros_like(bm25)
    return standardise(dense) + weight * standardise(bm25)


def shingles(text: str, n: int = _SHINGLE) -> frozenset[tuple[str, ...]]:
    """Word n-grams of the lower-cased text (the whole text if it is shorter).

    >>> sorted(shingles("a b c d", n=3))
    [('a', 'b', 'c'), ('b', 'c', 'd')]
    """
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _overlap(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def is_near_duplicate(a: Passage, b: Passage, a_sh=None, b_sh=None) -> bool:
    """Same article with largely overlapping offsets, or largely the same words."""
    if a.article_id == b.article_id:
        shared = min(a.end, b.end) - max(a.start, b.start)
        shorter = min(a.end - a.start, b.end - b.start)
        if shorter > 0 and shared / shorter >= DUPLICATE_OVERLAP:
            return True
    a_sh = a_sh if a_sh is not None else shingles(a.text)
    b_sh = b_sh if b_sh is not None else shingles(b.text)
    return _overlap(a_sh, b_sh) >= DUPLICATE_OVERLAP


def collapse_duplicates(ranked: Sequence[Passage], k: int) -> list[Passage]:
    """The first k passages of a ranked list, skipping near-duplicates of better ones.

    Each dropped duplicate is counted on the kept passage as `scores["duplicates"]`, so
    callers can tell that the same text appeared more than once.
    """
    kept: list[Passage] = []
    kept_sh: list[frozenset] = []
    for p in ranked:
        p_sh = shingles(p.text)
        dup_of = next(
            (i for i, q in enumerate(kept) if is_near_duplicate(q, p, kept_sh[i], p_sh)), None
        )
        if dup_of is not None:
            held = kept[dup_of].scores
            held["duplicates"] = held.get("duplicates", 0.0) + 1.0
            continue
        if len(kept) < k:
            kept.append(p)
            kept_sh.append(p_sh)
        else:
            break
    return kept
