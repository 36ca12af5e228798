"""Combine the dense and keyword signals into one ranking, and collapse near-duplicates.

Fusion is a convex combination of the dense cosine similarity and the BM25 score
divided by the best BM25 score for the query: `fused = (1 - w) * dense + w * bm25/max`.
The keyword weight `w` is decided per query from how well its terms match the corpus
(`KeywordIndex.match_strength`: the IDF-weighted share of the query's terms found in its
best BM25 passage): a question whose terms a passage actually uses (e.g. a German
question over German news) leans on BM25, which is precise for names and rare words; a
question that matches only a name or two (e.g. an English question over German text)
leans on the dense embedding. No language detection is involved: an English question
made of names and terms the corpus contains gets a high weight, as it should.
(A vocabulary-only measure — share of query terms known anywhere in the corpus — was
tried first and is weaker: with ten thousand news chunks most English words occur
somewhere, so English questions looked like good keyword queries.)

Score-based rather than rank-based (RRF) fusion keeps the confidence of each signal: RRF
gives the 1st BM25 hit of a noise query the same credit as the 1st hit of a precise one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.schema import Passage

# At full match strength BM25 gets this share; dense always keeps the rest, so a
# semantically right passage can still beat a keyword-stuffed one.
# Chosen on XQuAD (en/de questions over German paragraphs, 10kGNAD news as distractors):
# 0.7-0.9 are within a point of each other; see docs/benchmarks.md.
MAX_KEYWORD_WEIGHT = 0.8

# Two passages are near-duplicates when this share of the shorter one's word shingles
# (or character offsets, for chunks of the same article) is shared with the other.
DUPLICATE_OVERLAP = 0.6
_SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_weight(match_strength: float) -> float:
    """Share of the fused score given to BM25 for a query with this match strength.

    >>> keyword_weight(1.0), keyword_weight(0.0)
    (0.8, 0.0)
    """
    return MAX_KEYWORD_WEIGHT * min(max(match_strength, 0.0), 1.0)


def fuse(dense: float, bm25: float, bm25_max: float, weight: float) -> float:
    """Fused score of one passage: dense cosine and max-normalised BM25, mixed by weight.

    >>> round(fuse(dense=0.5, bm25=10.0, bm25_max=20.0, weight=0.8), 3)
    0.5
    """
    keyword = bm25 / bm25_max if bm25_max > 0 else 0.0
    return (1.0 - weight) * dense + weight * keyword


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
