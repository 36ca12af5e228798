"""Retrieval evaluation on XQuAD: German paragraphs as the corpus, English and German
questions, optional 10kGNAD news articles as distractors.

Each XQuAD paragraph becomes one Article (`xquad:<article>-<paragraph>`); a question's hit
is any passage of its gold paragraph, counted on the deduplicated ranked list. The eval
index is built once in a cache folder and reused while a fingerprint of its inputs
(data files, chunking settings, embedding model, builder) is unchanged, because
embedding ~6,000 chunks takes a quarter of an hour on a small CPU.

Shortcuts: the index is written here rather than through `python -m ingest` (the
articles come from JSON, not corpus files), but the same way: the chunker is passed in
(the CLI hands over ingest's `chunk_spans`; `pack_sentences` here is the fallback with
the same rules) and each chunk is embedded with its article title, as ingest does.
"""

from __future__ import annotations

import csv
import hashlib
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
_FINGERPRINT_FILE = "eval-fingerprint.json"


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
    files: list[Path] = field(default_factory=list)  # inputs, for the cache fingerprint


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
    return EvalData(articles=articles, questions=questions, files=list(paths.values()))


def load_distractors(path: Path, reader: Callable[[Path], list[Article]] | None = None):
    """10kGNAD `label;text` CSV (quote char ') as Articles; dates from dates.csv beside it."""
    from rag.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"Distractor file not found: {path}. Pass the 10kGNAD test.csv.")
    if reader is not None:
        return reader(path)
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
                    title=row[0],
                    date=dates.get(row_no),
                    source=DISTRACTOR_SOURCE,
                )
            )
    return articles


def _read_dates(path: Path) -> dict[int, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(r["row"]): r["date"] for r in csv.DictReader(fh) if r.get("date")}


# --- the eval index ----------------------------------------------------------------


def eval_fingerprint(settings: Settings, files: Iterable[Path], builder: str) -> str:
    """Hash of everything the eval index depends on."""
    h = hashlib.sha256()
    for f in sorted(str(Path(p).resolve()) for p in files):
        st = Path(f).stat()
        h.update(f"{f}:{st.st_size}:{int(st.st_mtime)}\n".encode())
    h.update(
        f"{settings.embedding_model}|{settings.passage_prefix}|{settings.chunk_size}|"
        f"{settings.chunk_overlap}|{builder}".encode()
    )
    return h.hexdigest()[:16]


def open_eval_index(
    settings: Settings,
    articles: Sequence[Article],
    fingerprint: str,
    embedder,
    chunker: Callable[[str, int, int], list[tuple[int, int]]] | None = None,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
):
    """The cached eval index for these articles, (re)built when the fingerprint differs."""
    from rag.store import Index

    marker = Path(settings.index_dir) / _FINGERPRINT_FILE
    index = Index(settings)
    if (
        marker.is_file()
        and json.loads(marker.read_text()).get("fingerprint") == fingerprint
        and index.articles.count() == len(articles)
    ):
        progress(f"reusing eval index in {settings.index_dir} ({index.chunks.count()} chunks)")
        return index
    progress(f"building eval index in {settings.index_dir} for {len(articles)} articles …")
    marker.unlink(missing_ok=True)
    index.drop()
    index = Index(settings)
    started = time.monotonic()
    build_index(index, embedder, articles, chunker or pack_sentences, progress)
    progress(f"eval index built in {time.monotonic() - started:.0f} s")
    marker.write_text(json.dumps({"fingerprint": fingerprint}))
    return Index(settings)


def build_index(index, embedder, articles, chunker, progress, batch_chunks: int = 256) -> None:
    """Chunk, embed (title + chunk, as ingest does) and write articles, in batches."""
    from rag.embeddings import passage_for_embedding

    settings = index.settings
    index.mark_model(embedder.model_id, embedder.dimension)
    pending: list[tuple[Article, list[tuple[int, int]]]] = []
    done_articles = done_chunks = 0

    def flush() -> None:
        nonlocal done_chunks
        texts = [
            passage_for_embedding(a.title, a.text[s:e]) for a, spans in pending for s, e in spans
        ]
        vectors = embedder.encode_passages(texts)
        row = 0
        for article, spans in pending:
            content_hash = hashlib.sha256(article.text.encode()).hexdigest()
            index.write_article(article, content_hash, spans, vectors[row : row + len(spans)])
            row += len(spans)
        done_chunks += row
        pending.clear()
        progress(f"  {done_articles}/{len(articles)} articles, {done_chunks} chunks")

    for article in articles:
        spans = chunker(article.text, settings.chunk_size, settings.chunk_overlap)
        if spans:
            pending.append((article, spans))
        done_articles += 1
        if sum(len(sp) for _a, sp in pending) >= batch_chunks:
            flush()
    if pending:
        flush()
    index.mark_refreshed()


def pack_sentences(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Chunk spans of whole sentences up to `size` chars, repeating up to `overlap` chars.

    >>> pack_sentences("Eins. Zwei. Drei.", size=12, overlap=5)
    [(0, 11), (6, 17)]
    """
    from rag.text import sentence_spans

    sents = []
    for s, e in sentence_spans(text) or [(0, len(text))]:
        while e - s > size:  # an overlong sentence is cut at whitespace
            cut = text.rfind(" ", s + 1, s + size)
            cut = cut if cut > s else s + size
            sents.append((s, cut))
            s = cut + 1 if text[cut : cut + 1] == " " else cut
        if e > s:
            sents.append((s, e))
    chunks, i = [], 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= size:
            j += 1
        chunks.append((sents[i][0], sents[j][1]))
        if j + 1 >= len(sents):
            break
        k = j  # start the next chunk with the whole sentences that fit in `overlap`
        while k > i and sents[j][1] - sents[k][0] <= overlap:
            k -= 1
        i = max(k + 1, i + 1)
    return chunks


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
