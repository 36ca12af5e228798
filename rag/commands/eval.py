"""`python -m rag eval XQUAD_DIR [--distractors CSV] [--json] [--limit N] [--index-dir DIR]`:
measure retrieval (and the extractive answer) on XQuAD, against a dense-only baseline.

The eval index lives in its own cache folder (default: `.eval-index/` next to the
product index), never in the product index, and is refreshed incrementally. It is filled
by ingest's own core (`ingest.pipeline.sync_articles`): this command is an edge of the
program like app.py, the one place in rag that uses ingest, so the numbers describe the
product's chunking and embedding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def configure(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="measure retrieval quality on XQuAD (optionally with 10kGNAD distractors)",
        description="Index the 240 German XQuAD paragraphs (plus distractors), ask the 1,190 "
        "questions in English and German, and report recall@1/5/10, MRR@10, p95 latency and "
        "the extractive answer's hit rate, next to a dense-only baseline.",
    )
    p.add_argument("xquad_dir", type=Path, help="folder with xquad.de.json and xquad.en.json")
    p.add_argument("--distractors", type=Path, help="10kGNAD test.csv to add as distractors")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, help="ask only the first N questions")
    p.add_argument("--index-dir", type=Path, help="cache folder for the eval index")
    p.add_argument("--no-answers", action="store_true", help="skip the extractive answer (faster)")
    p.add_argument(
        "--baseline",
        choices=("dense", "bm25"),
        default="dense",
        help="the single signal to compare against (default: dense)",
    )
    p.set_defaults(run=run)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args, settings) -> int:
    from rag import evaluate as ev

    if not (args.xquad_dir / ev.XQUAD_FILES["de"]).is_file():
        _say(
            f"error: {args.xquad_dir} does not hold {ev.XQUAD_FILES['de']} and "
            f"{ev.XQUAD_FILES['en']}. Pass the XQuAD folder (github.com/google-deepmind/xquad)."
        )
        return 2
    if args.distractors is not None and not args.distractors.is_file():
        _say(f"error: distractor file {args.distractors} not found; pass the 10kGNAD test.csv.")
        return 2
    if args.limit is not None and args.limit < 1:
        _say("error: --limit must be at least 1.")
        return 2

    data = ev.load_xquad(args.xquad_dir, limit=args.limit)
    articles = list(data.articles)
    if args.distractors is not None:
        articles += ev.load_distractors(args.distractors)
    name = "xquad-10kgnad" if args.distractors is not None else "xquad"
    cache = args.index_dir or Path(settings.index_dir).parent / ".eval-index" / name
    eval_settings = settings.model_copy(
        update={"index_dir": cache, "collection": "xquad-eval", "chroma_host": None}
    )

    from rag.embeddings import Embedder
    from rag.retrieve import Retriever

    embedder = Embedder.from_settings(eval_settings)
    from ingest.pipeline import sync_articles

    index = ev.open_eval_index(eval_settings, articles, embedder, sync_articles, _say)
    system = Retriever(eval_settings, index, embedder)
    baseline = Retriever(eval_settings, index, embedder, signals=(args.baseline,))
    answer = None if args.no_answers else _extractive_answer(embedder, settings.top_k)
    for retriever in (system, baseline):  # keyword index and model warm-up, untimed
        retriever.search("warm-up")

    results: dict[str, dict] = {"system": {}, "baseline": {}}
    for lang in ("en", "de"):
        _say(f"system, {lang} questions …")
        results["system"][lang] = ev.run_questions(
            system.encode_query, _top10(system), data.questions, lang, answer, _say
        )
        _say(f"baseline ({args.baseline} only), {lang} questions …")
        results["baseline"][lang] = ev.run_questions(
            baseline.encode_query, _top10(baseline), data.questions, lang, None, _say
        )
    if args.json:
        out = {
            who: {lang: m.as_dict(with_answer=who == "system") for lang, m in by_lang.items()}
            for who, by_lang in results.items()
        }
        print(json.dumps(out))
        return 0
    _print_table(results, len(data.questions), len(articles), index.chunks.count())
    return 0


def _top10(retriever):
    return lambda question, query_vector: retriever.search(
        question, k=10, query_vector=query_vector
    )


def _print_table(results, n_questions: int, n_articles: int, n_chunks: int) -> None:
    print(f"{n_questions} questions, {n_articles} articles, {n_chunks} chunks")
    print(
        f"{'system':<10}{'lang':<6}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR@10':>8}"
        f"{'p95 ms':>8}{'retr ms':>9}{'answer':>8}"
    )
    for who, by_lang in results.items():
        for lang, m in by_lang.items():
            hit = "-" if m.answer_hit is None else f"{m.answer_hit:.3f}"
            print(
                f"{who:<10}{lang:<6}{m.recall[1]:>7.3f}{m.recall[5]:>7.3f}{m.recall[10]:>7.3f}"
                f"{m.mrr10:>8.3f}{m.p95_ms:>8.1f}{m.p95_retrieval_ms or 0:>9.1f}{hit:>8}"
            )


def _extractive_answer(embedder, top_k: int):
    """The extractive answer's quoted text for a question and its passages, or None."""
    try:
        from rag.extractive import extract
    except ImportError:
        return None
    from rag.evaluate import CachedEncoder

    sentences = CachedEncoder(embedder.encode_passages)
    question = CachedEncoder(embedder.encode_queries)

    def answer(q: str, passages) -> str:
        got = extract(q, list(passages)[:top_k], sentences, question)
        return " ".join(quote.text for quote in got.quotes)

    return answer
