"""Offline tuning of the dense + BM25 fusion rule on the XQuAD eval index.

Two steps:

    # once per embedding model: every question's candidate pool with both signals' scores
    .venv/bin/python bench/fusion.py collect --index-dir .eval-index/xquad-10kgnad \
        --out bench/results/pool-e5.npz
    # seconds: every rule, cross-validated by XQuAD article, on one or more pools
    .venv/bin/python bench/fusion.py tune bench/results/pool-e5.npz bench/results/pool-minilm.npz

`collect` opens an eval index built by `python -m rag eval` (same model settings as that
run: RAG_EMBEDDING_MODEL etc.), asks all XQuAD questions in English and German and stores,
per question, the pool the retriever sees: the dense top `CANDIDATES` (exact cosine over
all chunk vectors) and the BM25 top `CANDIDATES` (the product's persistent keyword index),
each candidate with its cosine, its BM25 score and whether it belongs to the gold paragraph,
plus the query's match strength.

`tune` scores fusion rules from those arrays with numpy. Each rule has a small parameter
grid; parameters are chosen on the questions of half of the 48 Wikipedia articles and
reported on the other half, then the halves swap (2-fold cross-validation by article,
repeated over several random splits); the reported numbers are always held-out ones.
The objective is the mean MRR@10 over English and German questions.

Shortcuts: ranks are chunk-level (a chunk ranked above the gold paragraph's best chunk
counts as one place), without the retriever's near-duplicate collapsing, so recall here
can differ from `rag eval` by a few tenths of a point.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
LANGS = ("en", "de")


# --- collect -------------------------------------------------------------------------


def _questions(xquad_dir: Path, limit: int | None = None):
    """(wikipedia article index, gold article id, {lang: question}) for every question."""
    from evaluation.data import load_xquad

    data = load_xquad(xquad_dir, limit=limit)
    for q in data.questions:
        wiki = int(q.article_id.split(":", 1)[1].split("-", 1)[0])
        yield wiki, q.article_id, q.text


def collect(
    index_dir: Path, xquad_dir: Path, out: Path, candidates: int, limit: int | None = None
) -> None:
    """Every question's candidate pool with both signals' scores, saved as npz."""
    from rag.embeddings import Embedder
    from rag.keyword import tokenize
    from rag.schema import ARTICLE_ID
    from rag.settings import Settings
    from rag.store import Index

    settings = Settings(index_dir=index_dir, collection="xquad-eval", chroma_host=None)
    index = Index(settings)
    embedder = Embedder.from_settings(settings)
    kw = index.side("keyword")
    ids, vectors, article = [], [], []
    for cid, vec, meta in index._scan(index.chunks, ["embeddings", "metadatas"]):
        ids.append(cid)
        vectors.append(vec)
        article.append(str(meta[ARTICLE_ID]))
    vectors = np.asarray(vectors, dtype=np.float32)
    article = np.asarray(article, dtype=object)
    row = {cid: i for i, cid in enumerate(ids)}
    print(
        f"{len(ids)} chunks; model {getattr(embedder, 'model_id', settings.embedding_model)}",
        file=sys.stderr,
    )

    qs = list(_questions(xquad_dir, limit))
    cols: dict[str, list] = {k: [] for k in ("dense", "bm25", "gold", "row")}
    meta: dict[str, list] = {k: [] for k in ("lang", "wiki", "ms", "n_terms")}
    started = time.perf_counter()
    for lang in LANGS:
        texts = [q[2][lang] for q in qs]
        qvecs = embedder.encode_queries(texts)
        for (wiki, gold_id, _), text, qvec in zip(qs, texts, qvecs, strict=True):
            cos = vectors @ qvec
            terms = tokenize(text)
            # The keyword index's own top hits, then BM25 scores for the dense top ones.
            hits = kw.search(terms, candidates)
            top_d = np.argpartition(-cos, candidates - 1)[:candidates]
            top_b = np.asarray([row[h.chunk_id] for h in hits if h.chunk_id in row], dtype=int)
            pool = np.union1d(top_d, top_b)
            bm_of = {h.chunk_id: h.score for h in hits}
            bm_of.update(kw.scores(terms, [ids[i] for i in top_d]))
            cols["dense"].append(cos[pool])
            cols["bm25"].append(np.asarray([bm_of.get(ids[i], 0.0) for i in pool]))
            cols["gold"].append(article[pool] == gold_id)
            cols["row"].append(pool)
            meta["lang"].append(lang)
            meta["wiki"].append(wiki)
            meta["ms"].append(kw.match_strength(terms, hits[0] if hits else None))
            meta["n_terms"].append(len(set(terms)))
        print(f"  {lang}: {len(texts)} questions", file=sys.stderr)
    sizes = [len(c) for c in cols["dense"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        dense=np.concatenate(cols["dense"]).astype(np.float32),
        bm25=np.concatenate(cols["bm25"]).astype(np.float32),
        gold=np.concatenate(cols["gold"]).astype(bool),
        row=np.concatenate(cols["row"]).astype(np.int32),
        size=np.asarray(sizes, dtype=np.int32),
        lang=np.asarray(meta["lang"]),
        wiki=np.asarray(meta["wiki"], dtype=np.int32),
        ms=np.asarray(meta["ms"], dtype=np.float32),
        n_terms=np.asarray(meta["n_terms"], dtype=np.int32),
        model=np.asarray(str(getattr(embedder, "model_id", settings.embedding_model))),
    )
    print(
        f"saved {out}: {len(sizes)} queries, pools of {min(sizes)}-{max(sizes)} candidates, "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


# --- pools as padded arrays ------------------------------------------------------------


@dataclass
class Pools:
    """Per-query candidate pools padded to one width: (queries, candidates) arrays."""

    dense: np.ndarray  # cosine
    bm25: np.ndarray  # BM25 score (0 = no query term)
    gold: np.ndarray  # candidate is a chunk of the gold paragraph
    valid: np.ndarray  # not padding
    lang: np.ndarray
    wiki: np.ndarray
    ms: np.ndarray  # match strength
    model: str

    @classmethod
    def load(cls, path: Path) -> Pools:
        z = np.load(path, allow_pickle=False)
        sizes = z["size"]
        width = int(sizes.max())
        n = len(sizes)
        out = {k: np.zeros((n, width), dtype=z[k].dtype) for k in ("dense", "bm25", "gold")}
        valid = np.zeros((n, width), dtype=bool)
        start = 0
        for i, s in enumerate(sizes):
            for k in out:
                out[k][i, :s] = z[k][start : start + s]
            valid[i, :s] = True
            start += s
        return cls(
            dense=out["dense"],
            bm25=out["bm25"],
            gold=out["gold"],
            valid=valid,
            lang=z["lang"],
            wiki=z["wiki"],
            ms=z["ms"],
            model=str(z["model"]),
        )

    def subset(self, keep: np.ndarray) -> Pools:
        return Pools(
            self.dense[keep],
            self.bm25[keep],
            self.gold[keep],
            self.valid[keep],
            self.lang[keep],
            self.wiki[keep],
            self.ms[keep],
            self.model,
        )


def gold_ranks(scores: np.ndarray, p: Pools) -> np.ndarray:
    """1-based rank of the best gold chunk per query (a large number when not in the pool)."""
    s = np.where(p.valid, scores, -np.inf)
    best_gold = np.where(p.gold & p.valid, s, -np.inf).max(axis=1)
    above = ((s > best_gold[:, None]) & p.valid).sum(axis=1)
    return np.where(np.isfinite(best_gold), above + 1, 10**6)


def metrics(ranks: np.ndarray) -> dict[str, float]:
    return {
        "R@1": float((ranks <= 1).mean()),
        "R@5": float((ranks <= 5).mean()),
        "R@10": float((ranks <= 10).mean()),
        "MRR": float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean()),
    }


# --- features ------------------------------------------------------------------------


def _pool_stats(x: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = valid.sum(axis=1, keepdims=True)
    mean = np.where(valid, x, 0).sum(axis=1, keepdims=True) / n
    var = np.where(valid, (x - mean) ** 2, 0).sum(axis=1, keepdims=True) / n
    return mean, np.sqrt(var) + 1e-9


def zscore(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each query's scores standardised over its pool (mean 0, standard deviation 1)."""
    mean, std = _pool_stats(x, valid)
    return (x - mean) / std


def ranks_of(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1-based rank of each candidate by x within its pool (padding last)."""
    s = np.where(valid, x, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(1, s.shape[1] + 1)[None, :], axis=1)
    return r


def overlap_at(p: Pools, k: int) -> np.ndarray:
    """Share of dense's top k that is also in BM25's top k (0..1), per query."""
    rd, rb = ranks_of(p.dense, p.valid), ranks_of(np.where(p.bm25 > 0, p.bm25, -1), p.valid)
    both = (rd <= k) & (rb <= k) & (p.bm25 > 0) & p.valid
    return both.sum(axis=1) / k


def bm25_peak(p: Pools, k: int = 10) -> np.ndarray:
    """1 - (k-th best BM25 / best BM25): how far BM25's best stands out (0..1)."""
    s = np.sort(np.where(p.valid, p.bm25, 0), axis=1)[:, ::-1]
    top = s[:, 0]
    return np.where(top > 0, 1 - s[:, k - 1] / np.maximum(top, 1e-9), 0.0)


def dense_rank_of_bm25_top(p: Pools) -> np.ndarray:
    """Dense rank of BM25's best candidate (1 = the signals agree on the top)."""
    rd = ranks_of(p.dense, p.valid)
    top_b = np.argmax(np.where(p.valid, p.bm25, -1), axis=1)
    return np.take_along_axis(rd, top_b[:, None], axis=1)[:, 0]


# --- rules -----------------------------------------------------------------------------

Rule = Callable[[Pools, dict], np.ndarray]


def _bm25_max_norm(p: Pools) -> np.ndarray:
    top = np.where(p.valid, p.bm25, 0).max(axis=1, keepdims=True)
    return np.where(top > 0, p.bm25 / np.maximum(top, 1e-9), 0.0)


def rule_linear(p: Pools, a: dict) -> np.ndarray:
    """(1 - w) * cosine + w * bm25 / max_bm25, w = weight * match_strength (or fixed)."""
    w = a["w"] * (p.ms if a.get("by_ms") else 1.0)
    w = np.asarray(w, dtype=np.float32).reshape(-1, 1) * np.ones((len(p.ms), 1))
    return (1 - w) * p.dense + w * _bm25_max_norm(p)


def rule_z(p: Pools, a: dict) -> np.ndarray:
    """z(cosine) + w * z(bm25) within the pool; w fixed, or scaled by a per-query feature."""
    w = a["w"] * _gate(p, a)
    return zscore(p.dense, p.valid) + w[:, None] * zscore(p.bm25, p.valid)


def rule_rrf(p: Pools, a: dict) -> np.ndarray:
    """1/(k + dense rank) + w/(k + BM25 rank); no BM25 rank for a candidate without terms."""
    rd = ranks_of(p.dense, p.valid)
    rb = ranks_of(np.where(p.bm25 > 0, p.bm25, -1), p.valid)
    w = a["w"] * _gate(p, a)
    kb = np.where(p.bm25 > 0, 1.0 / (a["k"] + rb), 0.0)
    return 1.0 / (a["k"] + rd) + w[:, None] * kb


def _gate(p: Pools, a: dict) -> np.ndarray:
    gate = a.get("gate", "fixed")
    if gate == "fixed":
        return np.ones(len(p.ms))
    if gate == "ms":
        return p.ms.astype(float)
    if gate.startswith("overlap"):
        return overlap_at(p, int(gate[len("overlap") :]))
    if gate == "ms*overlap10":
        return p.ms * overlap_at(p, 10)
    if gate == "agree_top":  # BM25's best is within dense's top 10
        return (dense_rank_of_bm25_top(p) <= 10).astype(float)
    if gate == "peak":
        return bm25_peak(p)
    if gate == "ms*peak":
        return p.ms * bm25_peak(p)
    if gate == "ms*standout":  # BM25's best z over dense's best z: which signal is surer
        zd, zb = zscore(p.dense, p.valid), zscore(p.bm25, p.valid)
        dtop = np.where(p.valid, zd, -np.inf).max(axis=1)
        btop = np.where(p.valid, zb, -np.inf).max(axis=1)
        return p.ms * btop / np.maximum(dtop, 1e-3)
    raise ValueError(gate)


def grid(**axes) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, v, strict=True)) for v in itertools.product(*axes.values())]


W_LINEAR = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
W_Z = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0]
RULES: dict[str, tuple[Rule, list[dict]]] = {
    "dense only": (rule_linear, [{"w": 0.0}]),
    "BM25 only": (rule_linear, [{"w": 1.0}]),
    "linear, w = 0.8 x match strength (MiniLM rule)": (rule_linear, [{"w": 0.8, "by_ms": True}]),
    "linear, w fixed": (rule_linear, grid(w=W_LINEAR)),
    "linear, w = a x match strength": (rule_linear, grid(w=W_LINEAR, by_ms=[True])),
    "RRF, fixed weights": (rule_rrf, grid(k=[5, 10, 20, 60], w=[0.25, 0.5, 0.75, 1.0, 1.5])),
    "RRF, w = a x match strength": (
        rule_rrf,
        grid(k=[5, 10, 20, 60], w=[0.5, 1.0, 1.5, 2.0], gate=["ms"]),
    ),
    "z-score, w fixed": (rule_z, grid(w=W_Z)),
    "z-score, w = a x match strength": (rule_z, grid(w=W_Z, gate=["ms"])),
    "z-score, w = a x top-10 overlap": (rule_z, grid(w=W_Z, gate=["overlap10"])),
    "z-score, w = a x top-5 overlap": (rule_z, grid(w=W_Z, gate=["overlap5"])),
    "z-score, w = a x match strength x top-10 overlap": (
        rule_z,
        grid(w=W_Z, gate=["ms*overlap10"]),
    ),
    "z-score, w = a if BM25's best is in dense's top 10": (rule_z, grid(w=W_Z, gate=["agree_top"])),
    "z-score, w = a x BM25 peak": (rule_z, grid(w=W_Z, gate=["peak"])),
    "z-score, w = a x match strength x BM25 peak": (rule_z, grid(w=W_Z, gate=["ms*peak"])),
    "z-score, w = a x match strength x (BM25's best z / dense's best z)": (
        rule_z,
        grid(w=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0], gate=["ms*standout"]),
    ),
}


# --- cross-validation ---------------------------------------------------------------


def objective(p: Pools, scores: np.ndarray) -> float:
    """Mean MRR@10 over the languages present."""
    r = gold_ranks(scores, p)
    return float(np.mean([metrics(r[p.lang == lang])["MRR"] for lang in LANGS]))


def cross_validate(p: Pools, rule: Rule, params: list[dict], splits: int = 5, seed: int = 0):
    """Held-out ranks per split (2-fold by Wikipedia article) and the parameters chosen."""
    articles = np.unique(p.wiki)
    all_scores = [rule(p, a) for a in params]
    rng = np.random.default_rng(seed)
    held_out, chosen = [], []
    for _ in range(splits):
        half = rng.permutation(articles)[: len(articles) // 2]
        fold = np.isin(p.wiki, half)
        ranks = np.zeros(len(p.ms), dtype=np.int64)
        for train in (fold, ~fold):
            tp = p.subset(train)
            best = max(range(len(params)), key=lambda i: objective(tp, all_scores[i][train]))
            chosen.append(params[best])
            test = ~train
            ranks[test] = gold_ranks(all_scores[best][test], p.subset(test))
        held_out.append(ranks)
    full = max(range(len(params)), key=lambda i: objective(p, all_scores[i]))
    return held_out, chosen, params[full]


def tune(paths: list[Path], splits: int, out: Path | None) -> None:
    report = {}
    for path in paths:
        p = Pools.load(path)
        print(f"\n## {path.name}: {p.model}, {len(p.ms)} queries\n")
        print(
            "| rule | params (all data) | en R@1 | en R@5 | en R@10 | en MRR "
            "| de R@1 | de R@5 | de R@10 | de MRR |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        report[path.name] = {}
        for name, (rule, params) in RULES.items():
            held_out, chosen, full = cross_validate(p, rule, params, splits)
            row = {}
            for lang in LANGS:
                m = [metrics(r[p.lang == lang]) for r in held_out]
                row[lang] = {k: float(np.mean([x[k] for x in m])) for k in m[0]}
            report[path.name][name] = {"cv": row, "params": full, "fold_params": chosen}
            cells = [f"{row[lang][k]:.3f}" for lang in LANGS for k in ("R@1", "R@5", "R@10", "MRR")]
            shown = ", ".join(f"{k}={v}" for k, v in full.items() if k != "by_ms")
            print(f"| {name} | {shown} | " + " | ".join(cells) + " |")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="save every question's candidate pool")
    c.add_argument("--index-dir", type=Path, required=True, help="eval index folder")
    c.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD folder")
    c.add_argument("--out", type=Path, required=True, help="npz file to write")
    c.add_argument("--candidates", type=int, default=None, help="per signal (retriever's)")
    c.add_argument("--limit", type=int, default=None, help="only the first N questions")
    t = sub.add_parser("tune", help="cross-validate the fusion rules on saved pools")
    t.add_argument("pools", type=Path, nargs="+")
    t.add_argument("--splits", type=int, default=5, help="random 2-fold splits by article")
    t.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.cmd == "collect":
        from rag.retrieve import CANDIDATES

        collect(args.index_dir, args.xquad, args.out, args.candidates or CANDIDATES, args.limit)
    else:
        tune(args.pools, args.splits, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
