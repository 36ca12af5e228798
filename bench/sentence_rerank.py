"""How much the best-sentence step adds to retrieval: the product's ranking of the top K
passages re-ordered by `z(fused) + λ · z(best sentence cosine)` for a grid of λ, on the
XQuAD eval index (English and German questions, 10kGNAD distractors).

    .venv/bin/python bench/sentence_rerank.py --index-dir .eval-index/<name>

A question often matches one sentence of an 800-character chunk while the chunk's own
vector averages all of them, so the ingest stores a vector per sentence with each chunk
(`rag.sentences`) and search re-ranks its best passages with the model's
`sentence_weight`. This searches every question with the product's `Retriever`, its own
sentence step switched off, and re-ranks the top K with the product's step
(`Retriever._by_sentence`) at each λ; λ = 0 is retrieval without the step.

λ is chosen by 2-fold cross-validation by Wikipedia article (even / odd XQuAD article
numbers; objective: mean recall@5 over both languages) as well as reported per value, so
the held-out numbers show whether a gain survives on questions the choice never saw.
Ranks are the product's (article level, near-duplicates collapsed), as in `rag eval`.
The eval index must hold sentence vectors (any index `python -m rag eval` builds now).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
LAMBDAS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


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
    retriever.calibration = dataclasses.replace(retriever.calibration, sentence_weight=0.0)
    questions = load_xquad(args.xquad).questions
    out: dict[str, list[tuple[int, list[int | None]]]] = {}
    for lang in ("en", "de"):
        qvecs = embedder.encode_queries([q.text[lang] for q in questions])
        out[lang] = []
        for q, qv in zip(questions, qvecs, strict=True):
            top = retriever.search(q.text[lang], k=args.k, query_vector=qv)
            if top and not any("sentence" in p.scores for p in top):
                sys.exit(
                    f"{args.index_dir} holds no sentence vectors: run `python -m rag eval` "
                    "again to re-embed its chunks."
                )
            ranks = []
            for lam in LAMBDAS:
                order = Retriever._by_sentence(list(top), lam)
                ranks.append(rank_of_gold(order, q.article_id))
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
    parser.add_argument("--k", type=int, default=30, help="passages re-ranked per question")
    args = parser.parse_args()
    for path, what in ((args.index_dir, "eval index"), (args.xquad, "XQuAD folder")):
        if not path.exists():
            sys.exit(f"{what} {path} not found (build one with `python -m rag eval …`).")
    report(gold_ranks(args))


if __name__ == "__main__":
    main()
