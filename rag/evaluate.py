"""Retrieval evaluation on XQuAD: German paragraphs as the corpus, English and German
questions, optional 10kGNAD news articles as distractors.

Each XQuAD paragraph becomes one Article (`xquad:<article>-<paragraph>`); a question's hit
is any passage of its gold paragraph, counted on the deduplicated ranked list. The eval
index lives in a cache folder and is refreshed incrementally, because embedding ~5,000
chunks takes a quarter of an hour on a small CPU.

The articles come from the data sets' JSON/CSV rather than corpus files, but they are
indexed by the product's own ingest core, handed in by the command (rag does not import
ingest), so the numbers describe the product's chunking and embedding.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.schema import Article, Passage
from rag.settings import Settings

XQUAD_FILES = {"de": "xquad.de.json", "en": "xquad.en.json"}
DISTRACTOR_SOURCE = "10kGNAD"
XQUAD_SOURCE = "XQuAD"
KS = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    """One XQuAD question in both languages, with its gold paragraph and answers."""

    qid: str
    article_id: str
    text: dict[str, str]  # language -> question
    answers: dict[str, tuple[str, ...]]  # language -> gold answer texts


@dataclass
class Metrics:
    """Ranking quality and latency of one system for one question language."""

    recall: dict[int, float]
    mrr10: float
    p95_ms: float  # embedding the question + retrieval
    answer_hit: float | None = None
    n: int = 0
    p95_retrieval_ms: float | None = None  # retrieval given the question's vector

    def as_dict(self, with_answer: bool) -> dict:
        out = {f"recall@{k}": round(v, 4) for k, v in sorted(self.recall.items())}
        out["mrr@10"] = round(self.mrr10, 4)
        out["p95_ms"] = round(self.p95_ms, 1)
        if self.p95_retrieval_ms is not None:
            out["p95_retrieval_ms"] = round(self.p95_retrieval_ms, 1)
        if with_answer:
            out["answer_hit"] = None if self.answer_hit is None else round(self.answer_hit, 4)
        out["n"] = self.n
        return out


@dataclass
class EvalData:
    articles: list[Article]
    questions: list[Question] = field(default_factory=list)


def xquad_article_id(article_idx: int, para_idx: int) -> str:
    """'xquad:3-2' for paragraph 2 of Wikipedia article 3."""
    return f"xquad:{article_idx}-{para_idx}"


def load_xquad(xquad_dir: Path, limit: int | None = None) -> EvalData:
    """German paragraphs as Articles and the parallel en/de questions (first `limit`)."""
    from rag.errors import UserError

    paths = {lang: Path(xquad_dir) / name for lang, name in XQUAD_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise UserError(
            f"XQuAD files not found: {', '.join(missing)}. Pass the folder that holds "
            "xquad.de.json and xquad.en.json (from the XQuAD repository)."
        )
    docs = {}
    for lang, path in paths.items():
        try:
            docs[lang] = json.loads(path.read_text(encoding="utf-8"))["data"]
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"{path} is not a SQuAD-format JSON file: {exc}") from None
    articles, questions = [], []
    for a_idx, (de_art, en_art) in enumerate(zip(docs["de"], docs["en"], strict=True)):
        title = str(de_art.get("title", "")).replace("_", " ")
        for p_idx, (de_p, en_p) in enumerate(
            zip(de_art["paragraphs"], en_art["paragraphs"], strict=True)
        ):
            aid = xquad_article_id(a_idx, p_idx)
            articles.append(Article(id=aid, text=de_p["context"], title=title, source=XQUAD_SOURCE))
            en_qas = {q["id"]: q for q in en_p["qas"]}
            for q in de_p["qas"]:
                en_q = en_qas.get(q["id"])
                if en_q is None:
                    continue
                questions.append(
                    Question(
                        qid=q["id"],
                        article_id=aid,
                        text={"de": q["question"], "en": en_q["question"]},
                        answers={
                            "de": tuple(a["text"] for a in q["answers"]),
                            "en": tuple(a["text"] for a in en_q["answers"]),
                        },
                    )
                )
    if limit is not None:
        questions = questions[:limit]
    return EvalData(articles=articles, questions=questions)


def load_distractors(path: Path) -> list[Article]:
    """10kGNAD `label;text` CSV (quote char ') as Articles; dates from dates.csv beside it."""
    from rag.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"Distractor file not found: {path}. Pass the 10kGNAD test.csv.")
    dates = _read_dates(path.parent / "dates.csv")
    articles = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.reader(fh, delimiter=";", quotechar="'")):
            if len(row) < 2 or not row[1].strip():
                continue
            articles.append(
                Article(
                    id=f"10kgnad:{row_no}",
                    text=row[1].strip(),
                    title=_first_sentence(row[1].strip()),
                    date=dates.get(row_no),
                    source=DISTRACTOR_SOURCE,
                )
            )
    return articles


def _first_sentence(text: str, limit: int = 120) -> str:
    """A title like the one ingest derives for articles that have none."""
    from rag.text import sentences

    first = next(iter(sentences(text[:2000])), text[:limit])
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + " …"


def _read_dates(path: Path) -> dict[int, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(r["row"]): r["date"] for r in csv.DictReader(fh) if r.get("date")}


# --- the eval index ----------------------------------------------------------------


def open_eval_index(
    settings: Settings,
    articles: Sequence[Article],
    embedder,
    sync: Callable,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
):
    """The eval index holding exactly `articles`, brought up to date by `sync`.

    `sync` is the product's ingest core (`ingest.pipeline.sync_articles`), so chunking,
    embedding and writing are the product's; it is incremental, so a second run over the
    same articles embeds nothing. An index built with another model is rebuilt.
    """
    from rag.store import Index, ModelMismatch

    index = Index(settings)

    def feed(_summary) -> Iterable[Article]:
        for n, article in enumerate(articles, 1):
            if n % 250 == 0:
                progress(f"  read {n}/{len(articles)} articles")
            yield article

    progress(f"syncing the eval index in {settings.index_dir} ({len(articles)} articles) …")
    try:
        summary = sync(feed, settings, index=index, embedder=embedder)
    except ModelMismatch:
        progress("  the eval index was built with another embedding model: rebuilding")
        summary = sync(feed, settings, index=index, embedder=embedder, rebuild=True)
    progress(
        f"  {len(summary.added)} added, {len(summary.updated)} updated, "
        f"{summary.unchanged} unchanged, {len(summary.removed)} removed, "
        f"{summary.chunks_written} chunks embedded in {summary.seconds:.0f} s"
    )
    return index


# --- scoring ----------------------------------------------------------------------


def rank_of_gold(passages: Sequence[Passage], gold_article: str) -> int | None:
    """1-based rank of the first passage from the gold article, or None."""
    for rank, p in enumerate(passages, 1):
        if p.article_id == gold_article:
            return rank
    return None


def score_run(ranks: Sequence[int | None], latencies_ms: Sequence[float]) -> Metrics:
    """Recall@k and MRR@10 from gold ranks, p95 from per-query latencies."""
    n = len(ranks)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0 for k in KS}
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n if n else 0.0
    return Metrics(recall=recall, mrr10=mrr, p95_ms=percentile(latencies_ms, 95), n=n)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values.

    >>> percentile([5, 1, 3, 2, 4], 95)
    5
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def answer_contains(answer_text: str, gold: Iterable[str]) -> bool:
    """True when any gold answer occurs in the answer, ignoring case and spacing."""
    norm = " ".join(answer_text.lower().split())
    return any(" ".join(g.lower().split()) in norm for g in gold if g.strip())


# --- running ----------------------------------------------------------------------

Search = Callable[..., Sequence[Passage]]  # (question, query_vector=…) -> ranked passages
Encode = Callable[[str], object]
Answer = Callable[[str, Sequence[Passage]], str]


def run_questions(
    encode: Encode,
    search: Search,
    questions: Sequence[Question],
    lang: str,
    answer: Answer | None = None,
    progress: Callable[[str], None] | None = None,
) -> Metrics:
    """Ask every question in `lang`; rank of the gold paragraph, latency, answer hits.

    Latency is measured twice: whole (embedding the question + retrieval) and retrieval
    alone (given the question's vector).
    """
    ranks, latencies, retrieval, hits = [], [], [], []
    for i, q in enumerate(questions, 1):
        started = time.perf_counter()
        vector = encode(q.text[lang])
        encoded = time.perf_counter()
        passages = search(q.text[lang], query_vector=vector)
        done = time.perf_counter()
        latencies.append((done - started) * 1000)
        retrieval.append((done - encoded) * 1000)
        ranks.append(rank_of_gold(passages, q.article_id))
        if answer is not None:
            # the corpus is German, so the answer quotes German text
            hits.append(answer_contains(answer(q.text[lang], passages), q.answers["de"]))
        if progress and (i % 100 == 0 or i == len(questions)):
            progress(f"  {lang}: {i}/{len(questions)} questions")
    metrics = score_run(ranks, latencies)
    metrics.p95_retrieval_ms = percentile(retrieval, 95)
    if answer is not None and hits:
        metrics.answer_hit = sum(hits) / len(hits)
    return metrics


class CachedEncoder:
    """Wraps an encode function with a text -> vector cache (sentences repeat across runs)."""

    def __init__(self, encode: Callable[[Sequence[str]], object]) -> None:
        self._encode = encode
        self._cache: dict[str, object] = {}

    def __call__(self, texts: Sequence[str]):
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self._cache.update(zip(missing, self._encode(missing), strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else self._encode([])
