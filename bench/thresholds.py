"""Calibration of the answer step's model-dependent numbers on XQuAD.

Embedding models differ in their cosine scale (all-MiniLM-L6-v2 spreads unrelated and
related texts over 0-0.9, multilingual-e5-small packs them into about 0.7-0.95), so every
threshold on a cosine has to be measured again for a new default model.

    # citation support: English claims against German paragraphs (rag.citations)
    .venv/bin/python bench/thresholds.py support
    # extractive answer: no-answer threshold and sentence choice (rag.extractive)
    .venv/bin/python bench/thresholds.py extractive --index-dir .eval-index/<name> \
        --out bench/results/sentences.json --every 5
    .venv/bin/python bench/thresholds.py report bench/results/sentences.json

`support` repeats the calibration behind `SUPPORT_THRESHOLD`: for two random paragraphs of
every XQuAD article, up to two English sentences (a claim as an answer in English would
make it) are scored against their own German paragraph (correct citation) and against
another paragraph of the same article (mismatched: same names and topic, the hard case).
Prints both distributions, the AUC and, per threshold, the share of correct citations
kept and of mismatched ones flagged.

`extractive` retrieves the top `RAG_TOP_K` passages for every question twice: from the
whole eval index (answerable) and from the index without the question's Wikipedia
article (unanswerable: the best passages left are other articles' paragraphs and news),
scores every sentence like `rag.extractive.extract`
does and sweeps the keyword weight, the relative cutoff, the cosine-alone evidence gate
and the no-answer threshold. Parameters that choose sentences are picked by 2-fold
cross-validation by XQuAD article (as in bench/fusion.py); the no-answer threshold is
read off the two best-score distributions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
RESULTS = ROOT / "bench" / "results"


def _embedder():
    from rag.embeddings import Embedder
    from rag.settings import Settings

    return Embedder.from_settings(Settings())


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


# --- citation support ------------------------------------------------------------------


def support(xquad_dir: Path, seed: int = 0) -> dict:
    from rag import citations
    from rag.text import sentence_spans

    de = json.loads((xquad_dir / "xquad.de.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((xquad_dir / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    embedder = _embedder()
    encode = citations.CachedEncoder(embedder.encode_passages, size=100_000)
    rng = random.Random(seed)
    correct, mismatched, cos_c, cos_m, anc_c, anc_m = [], [], [], [], [], []
    n_par = 0
    for art_de, art_en in zip(de, en, strict=True):
        paras_de = [p["context"] for p in art_de["paragraphs"]]
        paras_en = [p["context"] for p in art_en["paragraphs"]]
        for j in rng.sample(range(len(paras_de)), 2):
            n_par += 1
            text = paras_en[j]
            sents = [text[s:e] for s, e in sentence_spans(text, "en") if e - s > 30]
            other = paras_de[(j + 1) % len(paras_de)]
            for claim in rng.sample(sents, min(2, len(sents))):
                correct.append(citations.support_scores([claim], paras_de[j], encode)[0][0])
                mismatched.append(citations.support_scores([claim], other, encode)[0][0])
                cos_c.append(_best_cosine(claim, paras_de[j], encode))
                cos_m.append(_best_cosine(claim, other, encode))
                anc_c.append(citations.anchor_overlap(claim, paras_de[j]))
                anc_m.append(citations.anchor_overlap(claim, other))
    out = {
        "model": getattr(embedder, "model_id", "?"),
        "paragraphs": n_par,
        "claims": len(correct),
        "anchor_weight": citations.ANCHOR_WEIGHT,
        "correct": _summary(correct),
        "mismatched": _summary(mismatched),
        "auc": auc(correct, mismatched),
        "auc_cosine_alone": auc(cos_c, cos_m),
        "cosine_correct": _summary(cos_c),
        "cosine_mismatched": _summary(cos_m),
        "thresholds": {},
        "raw": {"cos_c": cos_c, "cos_m": cos_m, "anchor_c": anc_c, "anchor_m": anc_m},
        "by_anchor_weight": {},
    }
    for w in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        c = np.asarray(cos_c) + w * np.asarray(anc_c)
        m = np.asarray(cos_m) + w * np.asarray(anc_m)
        ts = np.unique(np.concatenate([c, m]))
        bal = [((c >= t).mean() + (m < t).mean()) / 2 for t in ts]
        best = int(np.argmax(bal))
        out["by_anchor_weight"][str(w)] = {
            "auc": round(auc(c.tolist(), m.tolist()), 4),
            "best_balanced": round(float(bal[best]), 3),
            "at": round(float(ts[best]), 3),
        }
    lo = min(correct + mismatched)
    hi = max(correct + mismatched)
    for t in np.round(np.arange(np.floor(lo * 20) / 20, hi + 0.05, 0.025), 3):
        kept = float(np.mean(np.asarray(correct) >= t))
        flagged = float(np.mean(np.asarray(mismatched) < t))
        out["thresholds"][f"{t:.3f}"] = {
            "kept": round(kept, 3),
            "flagged": round(flagged, 3),
            "balanced": round((kept + flagged) / 2, 3),
        }
    return out


def _best_cosine(claim: str, source: str, encode) -> float:
    from rag.text import sentence_spans

    spans = sentence_spans(source) or [(0, len(source))]
    v = encode([claim] + [source[s:e] for s, e in spans])
    return float((v[1:] @ v[0]).max())


def _summary(xs: list[float]) -> dict:
    a = np.asarray(xs)
    return {
        "mean": round(float(a.mean()), 3),
        "median": round(float(np.median(a)), 3),
        "p10": round(float(np.percentile(a, 10)), 3),
        "p90": round(float(np.percentile(a, 90)), 3),
    }


# --- extractive answer -------------------------------------------------------------------


def collect_extractive(index_dir: Path, xquad_dir: Path, out: Path, every: int = 1) -> None:
    """Every sentence of every question's top passages, with the features extract() uses."""
    from evaluation.data import load_xquad
    from evaluation.metrics import answer_contains
    from rag import extractive as ex
    from rag.citations import CachedEncoder
    from rag.lang import detect_language
    from rag.retrieve import Retriever
    from rag.settings import Settings
    from rag.store import Index
    from rag.text import sentence_spans

    settings = Settings(index_dir=index_dir, collection="xquad-eval", chroma_host=None)
    index = Index(settings)
    embedder = _embedder()
    retriever = Retriever(settings, index, embedder)
    encode = CachedEncoder(embedder.encode_passages, size=1_000_000)
    data = load_xquad(xquad_dir)
    data.questions = data.questions[::every]
    rows = []
    for lang in ("en", "de"):
        for i, q in enumerate(data.questions):
            text = q.text[lang]
            qvec = retriever.encode_query(text)
            ranked = retriever.search(text, k=5 * settings.top_k, query_vector=qvec)
            # unanswerable: the same question over the corpus without its Wikipedia article
            wiki_prefix = q.article_id.split("-")[0] + "-"
            elsewhere = [p for p in ranked if not p.article_id.startswith(wiki_prefix)]
            for kind, passages in (
                ("answerable", ranked[: settings.top_k]),
                ("unanswerable", elsewhere[: settings.top_k]),
            ):
                sents = []
                for n, p in enumerate(passages, 1):
                    spans = sentence_spans(p.text) or [(0, len(p.text))]
                    for k, (s, e) in enumerate(spans):
                        before = p.text[slice(*spans[k - 1])] if k > 0 else ""
                        after = p.text[slice(*spans[k + 1])] if k + 1 < len(spans) else ""
                        sents.append((n, p, s, e, f"{before} {after}"))
                if not sents:
                    continue
                vecs = encode([p.text[s:e] for _, p, s, e, _ in sents])
                cos = vecs @ qvec
                terms = ex.content_terms(text)
                speaker = ex.speaker_of(text)
                if speaker:
                    terms = [t for t in terms if t != speaker.lower()] or terms
                rows.append(
                    {
                        "lang": lang,
                        "wiki": int(q.article_id.split(":")[1].split("-")[0]),
                        "kind": kind,
                        "gold_in_top": any(p.article_id == q.article_id for p in passages),
                        "detected": detect_language(text),
                        "sentences": [
                            {
                                "key": f"{p.article_id}@{p.start + s}",
                                "cos": round(float(c), 5),
                                "overlap": ex.keyword_overlap(terms, p.text[s:e]),
                                "bonus": ex._speaker_bonus(speaker, p.text[s:e], nb)
                                if speaker
                                else 0.0,
                                "hit": answer_contains(p.text[s:e], q.answers["de"]),
                            }
                            for (n, p, s, e, nb), c in zip(sents, cos, strict=True)
                        ],
                    }
                )
            if (i + 1) % 200 == 0:
                print(f"  {lang}: {i + 1}/{len(data.questions)}", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": embedder.model_id, "rows": rows}))
    print(f"saved {out}: {len(rows)} question/pool pairs", file=sys.stderr)


def simulate(row: dict, kw: float, cos_alone: float, threshold: float, cutoff: float, maxq=4):
    """(answered, hit, quotes) of extract() on one question's sentences with these numbers."""
    scored, seen = [], set()
    for s in row["sentences"]:
        score = s["cos"] + kw * s["overlap"] + s["bonus"]
        if s["overlap"] > 0 or s["bonus"] > 0 or s["cos"] >= cos_alone:
            scored.append((score, s))
    scored.sort(key=lambda x: -x[0])
    ranked = []
    for score, s in scored:
        if s["key"] not in seen:
            seen.add(s["key"])
            ranked.append((score, s))
    if not ranked or ranked[0][0] < threshold:
        return False, False, 0
    best = ranked[0][0]
    chosen = [s for score, s in ranked if score >= best - cutoff][:maxq]
    return True, any(s["hit"] for s in chosen), len(chosen)


def load_rows(path: Path) -> tuple[str, list[dict]]:
    data = json.loads(path.read_text())
    return data["model"], data["rows"]


def choice_table(rows: list[dict], kws, cuts, cos_alone: float = -1.0) -> dict:
    """answer hit and mean quotes per (keyword weight, cutoff, language), answerable pools."""
    out = {}
    for kw in kws:
        for cut in cuts:
            for lang in ("en", "de"):
                res = [
                    simulate(r, kw, cos_alone, -9.0, cut)
                    for r in rows
                    if r["kind"] == "answerable" and r["lang"] == lang
                ]
                out[(kw, cut, lang)] = (
                    float(np.mean([h for _, h, _ in res])),
                    float(np.mean([q for a, _, q in res if a] or [0])),
                )
    return out


def cv_keyword_weight(rows: list[dict], kws, cut: float, splits: int = 5) -> dict:
    """Keyword weight chosen on half of the articles, hit rate on the other half."""
    ans = [r for r in rows if r["kind"] == "answerable"]
    wikis = sorted({r["wiki"] for r in ans})
    rng = np.random.default_rng(0)
    held = {lang: [] for lang in ("en", "de")}
    chosen = []
    for _ in range(splits):
        half = set(rng.permutation(wikis)[: len(wikis) // 2].tolist())
        for train_in in (True, False):
            train = [r for r in ans if (r["wiki"] in half) == train_in]
            test = [r for r in ans if (r["wiki"] in half) != train_in]
            best = max(
                kws, key=lambda kw: np.mean([simulate(r, kw, -1, -9, cut)[1] for r in train])
            )
            chosen.append(best)
            for lang in ("en", "de"):
                held[lang] += [simulate(r, best, -1, -9, cut)[1] for r in test if r["lang"] == lang]
    return {"chosen": chosen, **{lang: float(np.mean(v)) for lang, v in held.items()}}


def best_scores(rows: list[dict], kw: float, cos_alone: float) -> list[float]:
    """Each pool's best sentence score among the sentences that count as evidence."""
    out = []
    for r in rows:
        vals = [
            s["cos"] + kw * s["overlap"] + s["bonus"]
            for s in r["sentences"]
            if s["overlap"] > 0 or s["bonus"] > 0 or s["cos"] >= cos_alone
        ]
        out.append(max(vals) if vals else -1.0)
    return out


def no_answer_table(rows: list[dict], kw: float, cos_alone: float, thresholds) -> dict:
    """Per threshold: share of answerable questions answered (gold passage retrieved and
    the gold answer in its sentences) and share of unanswerable ones refused, per language."""
    out = {}
    for lang in ("en", "de"):
        pos = [
            r
            for r in rows
            if r["kind"] == "answerable"
            and r["lang"] == lang
            and any(s["hit"] for s in r["sentences"])
        ]
        neg = [r for r in rows if r["kind"] == "unanswerable" and r["lang"] == lang]
        if not pos or not neg:
            continue
        bp, bn = (
            np.asarray(best_scores(pos, kw, cos_alone)),
            np.asarray(best_scores(neg, kw, cos_alone)),
        )
        out[lang] = {
            "auc": auc(bp.tolist(), bn.tolist()),
            "answerable": _summary(bp.tolist()),
            "unanswerable": _summary(bn.tolist()),
            "rows": {t: (float((bp >= t).mean()), float((bn < t).mean())) for t in thresholds},
        }
    return out


def report(path: Path, kw: float, cut: float, cos_alone: float) -> None:
    """Print the sentence-choice grid, the cross-validated keyword weight and the
    no-answer trade-off for one file of collected sentences."""
    model, rows = load_rows(path)
    kws, cuts = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5], [0.03, 0.05, 0.075, 0.1, 0.15, 0.3]
    print(f"{model}: {len(rows)} question/pool pairs\n")
    print("| keyword weight / cutoff | en hit | en quotes | de hit | de quotes |")
    print("|---|---:|---:|---:|---:|")
    for (k, c, lang), (h, q) in sorted(choice_table(rows, kws, cuts).items()):
        if lang == "en":
            h2, q2 = choice_table(rows, [k], [c])[(k, c, "de")]
            print(f"| {k} / {c} | {h:.3f} | {q:.2f} | {h2:.3f} | {q2:.2f} |")
    print("\nkeyword weight by 2-fold CV at cutoff", cut, cv_keyword_weight(rows, kws, cut))
    thresholds = [0.76, 0.78, 0.8, 0.82, 0.84, 0.86]
    table = no_answer_table(rows, kw, cos_alone, thresholds)
    for lang, t in table.items():
        print(f"\n{lang}: AUC {t['auc']:.3f}; best score, answerable {t['answerable']}")
        print(f"   unanswerable {t['unanswerable']}")
        for thr, (kept, refused) in t["rows"].items():
            print(f"   threshold {thr}: answered {kept:.3f}, refused {refused:.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("support", help="calibrate the citation support threshold")
    s.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    s.add_argument("--out", type=Path, default=None)
    e = sub.add_parser("extractive", help="collect sentences for the extractive answer")
    e.add_argument("--index-dir", type=Path, required=True)
    e.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--every", type=int, default=1, help="every n-th question only")
    r = sub.add_parser("report", help="sweep the extractive numbers on collected sentences")
    r.add_argument("sentences", type=Path, help="the file `extractive` wrote")
    r.add_argument("--keyword-weight", type=float, default=0.1)
    r.add_argument("--cutoff", type=float, default=0.075)
    r.add_argument("--cosine-alone", type=float, default=0.80)
    args = ap.parse_args()
    if args.cmd == "report":
        report(args.sentences, args.keyword_weight, args.cutoff, args.cosine_alone)
        return 0
    if args.cmd == "support":
        text = json.dumps(support(args.xquad), indent=1)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
        print(text)
    else:
        collect_extractive(args.index_dir, args.xquad, args.out, args.every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
