"""Which sources an extractive answer cites: citation precision and answer hits on XQuAD,
for the product's `rag.extractive.extract` and any earlier version of it, on one cached
retrieval.

    # retrieve once (the eval index `python -m rag eval … --distractors …` built) and
    # embed every sentence of the retrieved passages; cached in --cache
    .venv/bin/python bench/answer_sources.py collect --index-dir .eval-index/<name> --every 4
    # score the working tree's extract, and the one of a git revision, on that cache
    .venv/bin/python bench/answer_sources.py score --rev HEAD~3

`collect` runs the product's retrieval (top RAG_TOP_K passages, as `rag eval` gives the
answer step) for every XQuAD question in English and German and stores the passages and
the vectors of all their sentences and of the questions, so `score` costs no embedding.
`score` prints, per language, answer_hit and citation_precision as `rag eval` computes
them (evaluation.metrics), the sources per answer, and the same on the even and the odd
XQuAD articles separately (numbers chosen on one half should hold on the other).
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
DEFAULT_CACHE = ROOT / "bench" / "results" / "answer-sources.pkl"


class VectorTable:
    """An encode function over stored vectors (text -> vector), for cached scoring."""

    def __init__(self, vectors: dict[str, np.ndarray], fallback=None) -> None:
        self.vectors = vectors
        self.fallback = fallback

    def __call__(self, texts):
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            if self.fallback is None:
                raise KeyError(f"{len(missing)} texts were not collected, e.g. {missing[0]!r}")
            self.vectors.update(zip(missing, self.fallback(missing), strict=True))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def collect(args) -> None:
    from evaluation.data import load_xquad
    from rag.embeddings import Embedder
    from rag.retrieve import Retriever
    from rag.settings import Settings
    from rag.store import Index
    from rag.text import sentence_spans

    settings = Settings(index_dir=args.index_dir, collection="xquad-eval")
    data = load_xquad(args.xquad)
    data.questions = data.questions[:: args.every]
    embedder = Embedder.from_settings(settings)
    index = Index(settings)
    retriever = Retriever(settings, index, embedder)
    runs = {}
    for lang in ("en", "de"):
        runs[lang] = []
        for i, q in enumerate(data.questions, 1):
            runs[lang].append(retriever.search(q.text[lang], k=settings.top_k))
            if i % 200 == 0:
                print(f"{lang}: retrieved {i}/{len(data.questions)}", file=sys.stderr)
    sentences = sorted(
        {
            p.text[s:e]
            for passages in (*runs["en"], *runs["de"])
            for p in passages
            for s, e in (sentence_spans(p.text) or [(0, len(p.text))])
        }
    )
    print(f"embedding {len(sentences)} sentences …", file=sys.stderr)
    vectors = {}
    for start in range(0, len(sentences), 256):
        batch = sentences[start : start + 256]
        vectors.update(zip(batch, embedder.encode_passages(batch), strict=True))
        print(f"  {start + len(batch)}/{len(sentences)}", file=sys.stderr)
    questions = sorted({q.text[lang] for q in data.questions for lang in ("en", "de")})
    qvectors = dict(zip(questions, embedder.encode_queries(questions), strict=True))
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    with args.cache.open("wb") as f:
        pickle.dump(
            {
                "model_id": embedder.model_id,
                "every": args.every,
                "runs": runs,
                "sentences": {k: v.astype(np.float16) for k, v in vectors.items()},
                "questions": {k: v.astype(np.float16) for k, v in qvectors.items()},
            },
            f,
        )
    print(f"wrote {args.cache}", file=sys.stderr)


def _module_at(rev: str):
    """rag.extractive as it was at git revision `rev`, imported from a temporary copy."""
    source = subprocess.run(
        ["git", "show", f"{rev}:rag/extractive.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = ROOT / "bench" / "results" / f"_extractive_{rev.replace('~', '_').replace('/', '_')}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"extractive_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    path.unlink()
    return module


def score_with(module, cache: dict, data, label: str) -> dict:
    from evaluation.metrics import (
        Answered,
        answer_contains,
        citation_precision,
        sources_per_answer,
    )
    from rag.calibration import for_model

    numbers = for_model(cache["model_id"])
    sentences = VectorTable(cache["sentences"])
    questions = VectorTable(cache["questions"])
    article_of = {}
    for q in data.questions:
        article_of[q.qid] = int(q.article_id.split(":")[1].split("-")[0])
    out = {}
    for lang in ("en", "de"):
        rows = []
        for q, passages in zip(data.questions, cache["runs"][lang], strict=True):
            got = module.extract(q.text[lang], passages, sentences, questions, calibration=numbers)
            shown: dict[str, dict[str, str]] = {}
            for quote in got.quotes:
                shown.setdefault(quote.passage.article_id, {})[quote.passage.chunk_id] = (
                    quote.passage.text
                )
            answered = Answered(
                " ".join(quote.text for quote in got.quotes),
                tuple(" ".join(t.values()) for t in shown.values()),
            )
            rows.append((article_of[q.qid], answered, q.answers["de"]))
        result = {}
        for part, keep in (("all", None), ("even", 0), ("odd", 1)):
            chosen = [(a, g) for art, a, g in rows if keep is None or art % 2 == keep]
            result[part] = {
                "answer_hit": round(
                    sum(answer_contains(a.text, g) for a, g in chosen) / len(chosen), 4
                ),
                "citation_precision": round(citation_precision(chosen) or 0.0, 4),
                "sources_per_answer": round(sources_per_answer(a for a, _ in chosen) or 0.0, 3),
                "no_answer": round(sum(not a.sources for a, _ in chosen) / len(chosen), 4),
            }
        out[lang] = result
        print(
            f"{label:<12}{lang}  "
            + "  ".join(
                f"{part}: hit {r['answer_hit']:.3f} prec {r['citation_precision']:.3f} "
                f"src {r['sources_per_answer']:.2f} none {r['no_answer']:.3f}"
                for part, r in result.items()
            )
        )
    return out


def score(args) -> None:
    from evaluation.data import load_xquad

    with args.cache.open("rb") as f:
        cache = pickle.load(f)
    data = load_xquad(args.xquad)
    data.questions = data.questions[:: cache.get("every", 1)]
    if args.rev:
        score_with(_module_at(args.rev), cache, data, args.rev)
    import rag.extractive

    score_with(rag.extractive, cache, data, "working tree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--index-dir", type=Path, required=True)
    c.add_argument("--every", type=int, default=1, help="every Nth question only")
    s = sub.add_parser("score")
    s.add_argument("--rev", help="also score rag/extractive.py at this git revision")
    for p in (c, s):
        p.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
        p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    {"collect": collect, "score": score}[args.command](args)


if __name__ == "__main__":
    main()
