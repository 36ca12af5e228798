"""Scoring retrieval: the rank of the gold paragraph, recall@k, MRR@10, latency, answers.

A question's hit is any passage of its gold paragraph, counted on the ranked list as the
retriever returns it (near-duplicates already collapsed).

Answers are scored twice:
- `answer_hit`: the answer's text (the quoted sentences) contains a gold answer;
- `citation_precision`: of all sources the answers cite (one source = one article, with
  the passages shown under it), the share whose shown text contains a gold answer. It is
  pooled over all questions (cited sources that hold the answer / cited sources), so an
  answer citing four sources weighs four times as much as one citing one; answers that
  cite nothing add nothing (an empty answer is caught by `answer_hit` instead).
  `sources_per_answer` is the mean number of sources per answer that cites any.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from evaluation.data import Question
from rag.schema import Passage

KS = (1, 5, 10)

Search = Callable[..., Sequence[Passage]]  # (question, query_vector=…) -> ranked passages
Encode = Callable[[str], object]


@dataclass(frozen=True)
class Answered:
    """What an answer showed: its text, and the shown text of each cited source."""

    text: str
    sources: tuple[str, ...] = ()  # per cited article: its passages' text, joined


Answer = Callable[[str, Sequence[Passage]], Answered]


@dataclass
class Metrics:
    """Ranking quality and latency of one system for one question language."""

    recall: dict[int, float]
    mrr10: float
    p95_ms: float  # embedding the question + retrieval
    answer_hit: float | None = None
    n: int = 0
    p95_retrieval_ms: float | None = None  # retrieval given the question's vector
    citation_precision: float | None = None
    sources_per_answer: float | None = None

    def as_dict(self, with_answer: bool) -> dict:
        out = {f"recall@{k}": round(v, 4) for k, v in sorted(self.recall.items())}
        out["mrr@10"] = round(self.mrr10, 4)
        out["p95_ms"] = round(self.p95_ms, 1)
        if self.p95_retrieval_ms is not None:
            out["p95_retrieval_ms"] = round(self.p95_retrieval_ms, 1)
        if with_answer:
            out["answer_hit"] = _rounded(self.answer_hit)
            out["citation_precision"] = _rounded(self.citation_precision)
            out["sources_per_answer"] = _rounded(self.sources_per_answer)
        out["n"] = self.n
        return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


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


def citation_precision(answers: Iterable[tuple[Answered, Iterable[str]]]) -> float | None:
    """Cited sources holding a gold answer / cited sources, over (answer, gold) pairs.

    None when no answer cites anything.

    >>> a = Answered("…", ("Er gewann mit 308 Punkten.", "Ein Virus breitet sich aus."))
    >>> b = Answered("…", ("Die Broncos gewannen mit 308 Punkten.",))
    >>> citation_precision([(a, ["308"]), (b, ["308"]), (Answered("keine"), ["308"])])
    0.6666666666666666
    """
    cited = correct = 0
    for answered, gold in answers:
        gold = list(gold)
        cited += len(answered.sources)
        correct += sum(answer_contains(text, gold) for text in answered.sources)
    return correct / cited if cited else None


def sources_per_answer(answers: Iterable[Answered]) -> float | None:
    """Mean number of cited sources over the answers that cite any; None when none do."""
    counts = [len(a.sources) for a in answers if a.sources]
    return sum(counts) / len(counts) if counts else None


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
    ranks, latencies, retrieval, answered = [], [], [], []
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
            answered.append((answer(q.text[lang], passages), q.answers["de"]))
        if progress and (i % 100 == 0 or i == len(questions)):
            progress(f"  {lang}: {i}/{len(questions)} questions")
    metrics = score_run(ranks, latencies)
    metrics.p95_retrieval_ms = percentile(retrieval, 95)
    if answer is not None and answered:
        hits = [answer_contains(a.text, gold) for a, gold in answered]
        metrics.answer_hit = sum(hits) / len(hits)
        metrics.citation_precision = citation_precision(answered)
        metrics.sources_per_answer = sources_per_answer(a for a, _ in answered)
    return metrics
