"""`python -m rag eval XQUAD_DIR [--distractors PATH]... [--json] [--limit N] …`:
measure retrieval (and the extractive answer) on XQuAD, against a single-signal baseline.

rag's command line hands the `eval` subcommand to this module (`configure` adds the
parser, `run` does the work); heavy imports stay inside `run`. The eval index lives in
its own cache folder (default: `.eval-index/<name>` next to the product index), never in
the product index.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def configure(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="measure retrieval quality on XQuAD (optionally with distractor articles)",
        description="Index the 240 German XQuAD paragraphs (plus distractors), ask the 1,190 "
        "questions in English and German, and report recall@1/5/10, MRR@10, p95 latency and "
        "the extractive answer's hit rate and citation precision, next to a single-signal "
        "baseline.",
    )
    p.add_argument("xquad_dir", type=Path, help="folder with xquad.de.json and xquad.en.json")
    p.add_argument(
        "--distractors",
        type=Path,
        action="append",
        metavar="PATH",
        help="file or folder of articles to add as distractors, read as `python -m ingest` "
        "reads it (e.g. the 10kGNAD test.csv); repeat for more",
    )
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
    from evaluation.data import load_distractors, load_xquad
    from ingest.readers import ReadOptions
    from rag.errors import UserError

    if args.limit is not None and args.limit < 1:
        _say("error: --limit must be at least 1.")
        return 2
    try:
        data = load_xquad(args.xquad_dir, limit=args.limit)
        articles = list(data.articles)
        if args.distractors:
            options = ReadOptions(max_article_chars=settings.max_article_chars)
            articles += load_distractors(args.distractors, options, _say)
    except UserError as exc:
        _say(f"error: {exc}")
        return 2
    cache = args.index_dir or Path(settings.index_dir).parent / ".eval-index" / _cache_name(args)
    # Its own embedded index, with its writer lock beside it (never the product's lock).
    eval_settings = settings.model_copy(
        update={
            "index_dir": cache,
            "collection": "xquad-eval",
            "chroma_host": None,
            "lock_dir": None,
        }
    )

    from evaluation.index import open_eval_index
    from evaluation.metrics import run_questions
    from rag.embeddings import Embedder
    from rag.retrieve import Retriever

    embedder = Embedder.from_settings(eval_settings)
    index = open_eval_index(eval_settings, articles, embedder, _say)
    system = Retriever(eval_settings, index, embedder)
    baseline = Retriever(eval_settings, index, embedder, signals=(args.baseline,))
    answer = None if args.no_answers else _extractive_answer(embedder, settings.top_k)
    for retriever in (system, baseline):  # keyword index and model warm-up, untimed
        retriever.search("warm-up")

    results: dict[str, dict] = {"system": {}, "baseline": {}}
    for lang in ("en", "de"):
        _say(f"system, {lang} questions …")
        results["system"][lang] = run_questions(
            system.encode_query, _top10(system), data.questions, lang, answer, _say
        )
        _say(f"baseline ({args.baseline} only), {lang} questions …")
        results["baseline"][lang] = run_questions(
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


def _cache_name(args) -> str:
    """'xquad', or 'xquad-<hash of the distractor paths>': one cached index per corpus."""
    if not args.distractors:
        return "xquad"
    paths = sorted(str(Path(p).resolve()) for p in args.distractors)
    return "xquad-" + hashlib.sha256("\n".join(paths).encode()).hexdigest()[:10]


def _top10(retriever):
    return lambda question, query_vector: retriever.search(
        question, k=10, query_vector=query_vector
    )


def _print_table(results, n_questions: int, n_articles: int, n_chunks: int) -> None:
    print(f"{n_questions} questions, {n_articles} articles, {n_chunks} chunks")
    print(
        f"{'system':<10}{'lang':<6}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR@10':>8}"
        f"{'p95 ms':>8}{'retr ms':>9}{'answer':>8}{'cit.prec':>9}"
    )
    for who, by_lang in results.items():
        for lang, m in by_lang.items():
            hit = "-" if m.answer_hit is None else f"{m.answer_hit:.3f}"
            cp = "-" if m.citation_precision is None else f"{m.citation_precision:.3f}"
            print(
                f"{who:<10}{lang:<6}{m.recall[1]:>7.3f}{m.recall[5]:>7.3f}{m.recall[10]:>7.3f}"
                f"{m.mrr10:>8.3f}{m.p95_ms:>8.1f}{m.p95_retrieval_ms or 0:>9.1f}{hit:>8}{cp:>9}"
            )


def _extractive_answer(embedder, top_k: int):
    """The extractive answer for a question and its passages: its quoted text and, per
    cited article, the text of the passages shown under it."""
    from evaluation.metrics import Answered
    from rag.calibration import for_model
    from rag.citations import CachedEncoder
    from rag.extractive import extract

    numbers = for_model(embedder.model_id)
    # Sentences repeat across the two languages' runs: keep them all.
    sentences = CachedEncoder(embedder.encode_passages, size=50_000)
    question = CachedEncoder(embedder.encode_queries, size=10_000)

    def answer(q: str, passages) -> Answered:
        got = extract(q, list(passages)[:top_k], sentences, question, calibration=numbers)
        shown: dict[str, dict[str, str]] = {}  # article -> passage id -> text, cited order
        for quote in got.quotes:
            shown.setdefault(quote.passage.article_id, {})[quote.passage.chunk_id] = (
                quote.passage.text
            )
        return Answered(
            " ".join(quote.text for quote in got.quotes),
            tuple(" ".join(texts.values()) for texts in shown.values()),
        )

    return answer
