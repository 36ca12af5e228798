"""How much a sentence-level signal would add to retrieval: the product's ranking of the
top K passages re-ordered by `z(fused) + λ · z(best sentence cosine)`, on the XQuAD eval
index (English and German questions, 10kGNAD distractors).

    .venv/bin/python bench/sentence_rerank.py --index-dir .eval-index/<name>

A question often matches one sentence of an 800-character chunk while the chunk's own
vector averages all of them. This measures, before anything is built, what storing a
vector per sentence beside each chunk would buy: every sentence of every chunk in the
index is embedded once (cached in --cache; about two minutes for the 4,841 chunks of the
eval index on 2 cores), each question is searched with the product's `Retriever`, and
its top K passages are re-ranked by how well their best sentence matches the question.

λ is chosen by 2-fold cross-validation by Wikipedia article (even / odd XQuAD article
numbers; objective: mean recall@5 over both languages) as well as reported per value, so
the held-out numbers show whether a gain survives on questions the choice never saw.
Ranks are the product's (article level, near-duplicates collapsed), as in `rag eval`;
λ = 0 is the product's retrieval without its own best-sentence step, which this script
measured before it was built and checks now (its λ = 1.0 row is the product's ranking).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
DEFAULT_CACHE = ROOT / "bench" / "results" / "sentence-vectors.pkl"
LAMBDAS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def sentence_vectors(index, embedder, cache: Path) -> tuple[dict[str, tuple[int, int]], np.ndarray]:
    """Per chunk id the (start, end) rows of its sentences in one matrix; cached."""
    from rag.sentences import sentence_texts

    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    rows, texts = {}, []
    for cid, text, _meta in index.iter_chunks():
        sents = sentence_texts(text)  # the ingest's own rule
        rows[cid] = (len(texts), len(texts) + len(sents))
        texts.extend(sents)
    started = time.perf_counter()
    vectors = embedder.encode_passages(texts)
    print(
        f"{len(rows)} chunks, {len(texts)} sentences ({len(texts) / len(rows):.1f} per chunk), "
        f"embedded in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as f:
        pickle.dump((rows, vectors), f)
    return rows, vectors


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def gold_ranks(args) -> dict[str, list[tuple[int, list[int | None]]]]:
    """Per language, per question: (Wikipedia article number, gold rank for each λ)."""
    from evaluation.data import load_xquad
    from evaluation.metrics import rank_of_gold
    from rag.embeddings import Embedder
    from rag.retrieve import Retriever
    from rag.settings import Settings
    from rag.store import Index

    settings = Settings(index_dir=args.index_dir, collection="xquad-eval", chroma_host=None)
    index = Index(settings)
    embedder = Embedder.from_settings(settings)
    retriever = Retriever(settings, index, embedder)
    # λ = 0 is the product without its own sentence step (rag.sentences), which this measures
    retriever.calibration = dataclasses.replace(retriever.calibration, sentence_weight=0.0)
    rows, svec = sentence_vectors(index, embedder, args.cache)
    questions = load_xquad(args.xquad).questions
    out: dict[str, list[tuple[int, list[int | None]]]] = {}
    for lang in ("en", "de"):
        qvecs = embedder.encode_queries([q.text[lang] for q in questions])
        out[lang] = []
        for q, qv in zip(questions, qvecs, strict=True):
            top = retriever.search(q.text[lang], k=args.k, query_vector=qv)
            fused = np.array([p.score for p in top])
            best = np.array(
                [
                    float((svec[slice(*rows[p.chunk_id])] @ qv).max())
                    if p.chunk_id in rows
                    else p.scores["dense"]
                    for p in top
                ]
            )
            ranks = []
            for lam in LAMBDAS:
                order = np.argsort(-(_z(fused) + lam * _z(best)), kind="stable")
                ranks.append(rank_of_gold([top[i] for i in order], q.article_id))
            wiki = int(q.article_id.split(":", 1)[1].split("-", 1)[0])
            out[lang].append((wiki, ranks))
    return out


def recall(ranks: list[int | None], n: int) -> float:
    return float(np.mean([r is not None and r <= n for r in ranks])) if ranks else 0.0


def report(runs: dict[str, list[tuple[int, list[int | None]]]]) -> None:
    print(f"{'λ':>5} " + " ".join(f"{lang} R@1 {lang} R@5 {lang} R@10" for lang in runs))
    for j, lam in enumerate(LAMBDAS):
        cells = []
        for items in runs.values():
            ranks = [r[j] for _w, r in items]
            cells += [f"{recall(ranks, n):8.3f}" for n in (1, 5, 10)]
        print(f"{lam:5.2f} " + " ".join(cells))
    # 2-fold by Wikipedia article: choose λ on one half, score the other
    held: dict[str, list[int | None]] = {lang: [] for lang in runs}
    for fold in (0, 1):

        def objective(j: int, fold: int = fold) -> float:
            return float(
                np.mean(
                    [
                        recall([r[j] for w, r in items if w % 2 != fold], 5)
                        for items in runs.values()
                    ]
                )
            )

        chosen = max(range(len(LAMBDAS)), key=objective)
        print(f"fold {fold}: λ = {LAMBDAS[chosen]} chosen on the other half")
        for lang, items in runs.items():
            held[lang] += [r[chosen] for w, r in items if w % 2 == fold]
    for lang, ranks in held.items():
        base = [r[0] for _w, r in runs[lang]]
        print(
            f"held out, {lang}: R@1 {recall(ranks, 1):.3f} R@5 {recall(ranks, 5):.3f} "
            f"R@10 {recall(ranks, 10):.3f} (product today: R@1 {recall(base, 1):.3f} "
            f"R@5 {recall(base, 5):.3f} R@10 {recall(base, 10):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True, help="an eval index of rag eval")
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--k", type=int, default=30, help="passages re-ranked per question")
    args = parser.parse_args()
    for path, what in ((args.index_dir, "eval index"), (args.xquad, "XQuAD folder")):
        if not path.exists():
            sys.exit(f"{what} {path} not found (build one with `python -m rag eval …`).")
    report(gold_ranks(args))


if __name__ == "__main__":
    main()
