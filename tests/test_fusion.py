"""Fusion of the dense and BM25 signals (rag.fusion): z-scores within the pool, BM25
weighted by the query's match strength."""

from __future__ import annotations

import numpy as np
import pytest

from rag.fusion import KEYWORD_WEIGHT, fuse_pool, keyword_weight, standardise

# One pool: cosines as multilingual-e5-small gives them (packed into 0.75-0.90) and BM25
# scores; passage 1 holds the question's rare name, passage 0 is the embedding's favourite.
DENSE = np.array([0.86, 0.85, 0.80, 0.79, 0.77])
BM25 = np.array([2.0, 14.0, 0.0, 3.0, 0.0])


def order(scores: np.ndarray) -> list[int]:
    return [int(i) for i in np.argsort(-scores, kind="stable")]


@pytest.mark.parametrize("match_strength", [0.0, 0.2, 0.5, 1.0])
def test_ranking_is_the_same_whatever_the_models_cosine_scale(match_strength):
    # all-MiniLM-L6-v2 spreads cosines widely, e5 packs them: an affine change of the
    # cosine must not change the fused order (the raw-cosine rule failed exactly there)
    minilm_like = (DENSE - 0.75) * 5
    w = keyword_weight(match_strength)
    assert order(fuse_pool(DENSE, BM25, w)) == order(fuse_pool(minilm_like, BM25, w))


def test_ranking_is_the_same_whatever_the_bm25_scale():
    w = keyword_weight(0.7)
    assert order(fuse_pool(DENSE, BM25, w)) == order(fuse_pool(DENSE, BM25 * 37.0, w))


def test_without_keyword_weight_the_embedding_decides():
    assert order(fuse_pool(DENSE, BM25, keyword_weight(0.0))) == order(DENSE)


def test_a_weak_keyword_match_only_breaks_near_ties():
    # English question over German text: a name or two match (low match strength)
    assert order(fuse_pool(DENSE, BM25, keyword_weight(0.1)))[0] == 0


def test_a_strong_keyword_match_lifts_the_passage_with_the_rare_name():
    # German question whose terms the passage uses
    assert order(fuse_pool(DENSE, BM25, keyword_weight(0.9)))[0] == 1


def test_a_passage_without_the_query_terms_cannot_win_on_keywords():
    dense = np.array([0.80, 0.90, 0.70])
    bm25 = np.array([10.0, 0.0, 9.0])
    fused = fuse_pool(dense, bm25, keyword_weight(1.0))
    assert order(fused)[0] == 0
    assert fused[2] < fused[1] or dense[2] < dense[1]


def test_one_signal_gives_that_signals_own_score():
    assert fuse_pool(DENSE, BM25, 0.0, signals=("dense",)).tolist() == DENSE.tolist()
    assert fuse_pool(DENSE, BM25, 1.0, signals=("bm25",)).tolist() == (BM25 / 14.0).tolist()
    assert fuse_pool(DENSE, np.zeros(5), 1.0, signals=("bm25",)).tolist() == [0.0] * 5


@pytest.mark.parametrize("scores", [[], [0.5], [0.3, 0.3, 0.3]])
def test_a_flat_or_empty_pool_standardises_to_zeros(scores):
    assert standardise(np.array(scores)).tolist() == [0.0] * len(scores)


def test_standardised_scores_have_mean_zero_and_unit_spread():
    z = standardise(BM25)
    assert abs(z.mean()) < 1e-9 and abs(z.std() - 1.0) < 1e-9


def test_keyword_weight_grows_with_match_strength_and_is_bounded():
    weights = [keyword_weight(m) for m in (-0.5, 0.0, 0.3, 0.6, 1.0, 1.7)]
    assert weights == sorted(weights)
    assert weights[0] == 0.0 and weights[-1] == KEYWORD_WEIGHT == keyword_weight(1.0)
