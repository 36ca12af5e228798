"""`python -m rag eval-quotes DIR --predictions OUT [--json] [--fold I --folds N]`:
measure the statement extractor on speaker-attribution documents in the SpkAtt-2023
JSON format (GermEval 2023, task 2).

Each document's text is rebuilt from its tokens (spaces between tokens except before
closing and after opening punctuation, one space between sentences), keeping every
token's character span. `rag.quotes.extract.extract` runs on that text; each statement
becomes an annotation whose Message, Source and Cue are the tokens its spans overlap
(the statement's parts, its speaker mention, its cue words). One prediction file per
input file, same name, same format, goes to OUT.

Scores follow the task's "simplified" setting (top-level annotations only, Message and
Source roles), as its official scorer computes them: per document, predicted and gold
annotations are paired by the best total message overlap (Hungarian assignment, form
as tie-breaker); each pair, and each unpaired annotation, gives a token precision and a
token recall per role; the reported numbers are the means of those values (macro over
pairs), for messages, sources and both together (joint). Per form (direct / indirect /
reported; gold FreeIndirect and IndirectFreeIndirect count as indirect) precision is
averaged over the predicted statements of that form and recall over the gold ones.

A statement that continues the one before it (no cue of its own) has no mention of its
own; its Source is the mention of the statement it continues, as the gold annotations
mark it.

`--fold I --folds N` keeps only the documents whose name hashes to fold I of N: a fixed
split by document for developing on some folds and checking on the others.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

FORMS = ("direct", "indirect", "reported")
_GOLD_FORMS = {
    "Direct": "direct",
    "Indirect": "indirect",
    "FreeIndirect": "indirect",
    "IndirectFreeIndirect": "indirect",
    "Reported": "reported",
}
_NO_SPACE_BEFORE = frozenset(",.:;!?)]}“”«%…")
_NO_SPACE_AFTER = frozenset("([{„»\n")


def configure(sub) -> None:
    p = sub.add_parser(
        "eval-quotes",
        help="measure the statement extractor on SpkAtt-2023 speaker-attribution documents",
        description="Run the statement extractor on each SpkAtt-2023 JSON document in DIR, "
        "write one prediction file per document to OUT (same name, same format) and report "
        "precision/recall/F1 for messages, sources and joint, as in the task's simplified "
        "setting, overall and per form.",
    )
    p.add_argument(
        "data_dir", type=Path, metavar="DIR", help="folder of SpkAtt-2023 .json documents"
    )
    p.add_argument(
        "--predictions",
        type=Path,
        required=True,
        metavar="OUT",
        help="folder for the prediction files (created if missing)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--folds", type=int, default=1, help="split the documents into N folds")
    p.add_argument("--fold", type=int, help="evaluate only fold I (0-based) of --folds N")
    p.set_defaults(run=run)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- documents -------------------------------------------------------------------------


class DataError(Exception):
    """A problem with the input documents; the message says which file and what."""


@dataclass
class Document:
    """One SpkAtt document with its rebuilt text and token -> character spans."""

    path: Path
    raw: dict
    text: str
    spans: list[tuple[int, int]]  # character span of each token, in document order
    addresses: list[str]  # "sentence:token" of each token, same order
    sentence_offsets: list[int]  # index of each sentence's first token
    _starts: list[int] = field(default_factory=list)

    def tokens_in(self, start: int, end: int) -> list[int]:
        """Indices of the tokens overlapping the character span [start, end)."""
        if not self._starts:
            self._starts = [s for s, _ in self.spans]
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        out = []
        while i < len(self.spans) and self.spans[i][0] < end:
            if self.spans[i][1] > start:
                out.append(i)
            i += 1
        return out

    def absolute(self, address: str) -> int:
        """'3:5' -> the token's index in the document."""
        sentence, token = address.split(":")
        return self.sentence_offsets[int(sentence)] + int(token)


def load_documents(folder: Path, fold: int | None = None, folds: int = 1) -> list[Document]:
    """The .json documents of `folder` (of one fold), sorted by name."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; give the folder of SpkAtt-2023 .json documents")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise DataError(f"{folder} holds no .json documents")
    if fold is not None:
        paths = [p for p in paths if fold_of(p.name, folds) == fold]
    return [read_document(p) for p in paths]


def fold_of(name: str, folds: int) -> int:
    """The fold of a document, by a stable hash of its file name."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % folds


def read_document(path: Path) -> Document:
    """Parse one SpkAtt document and rebuild its text from the tokens."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    try:
        sentences = [[str(t) for t in s["Tokens"]] for s in raw["Sentences"]]
        annotations = raw.get("Annotations", [])
        if not isinstance(annotations, list):
            raise TypeError("Annotations is not a list")
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"{path}: not a SpkAtt-2023 document (needs Sentences with Tokens; {exc})"
        ) from exc
    text, spans, addresses, offsets = rebuild_text(sentences)
    return Document(path, raw, text, spans, addresses, offsets)


def rebuild_text(sentences: list[list[str]]):
    """(text, token spans, token addresses, sentence offsets) from tokenised sentences.

    >>> rebuild_text([["Er", "sagte", ":", "„", "Ja", "“", "."]])[0]
    'Er sagte: „Ja“.'
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    addresses: list[str] = []
    offsets: list[int] = []
    pos = 0
    previous = ""
    ascii_open = False
    for s_i, tokens in enumerate(sentences):
        offsets.append(len(spans))
        if parts and previous[-1:].isalnum():
            # a sentence without final punctuation is a line of its own (a heading)
            parts.append("\n")
            pos += 1
            previous = "\n"
        for t_i, token in enumerate(tokens):
            if token == '"':  # ASCII quotes alternate: opening, closing
                glue = not parts or ascii_open
                ascii_open = not ascii_open
            else:
                glue = (
                    not parts
                    or previous in _NO_SPACE_AFTER
                    or token in _NO_SPACE_BEFORE
                    or (previous == '"' and ascii_open)
                )
            if not glue:
                parts.append(" ")
                pos += 1
            parts.append(token)
            spans.append((pos, pos + len(token)))
            addresses.append(f"{s_i}:{t_i}")
            pos += len(token)
            previous = token
    return "".join(parts), spans, addresses, offsets


# --- predictions -----------------------------------------------------------------------


def predict(doc: Document) -> list[dict]:
    """The extractor's statements for one document as SpkAtt annotations."""
    from rag.quotes.extract import extract

    annotations = []
    last_mention: dict[tuple, tuple[int, int]] = {}
    for st in extract(doc.text):
        message = sorted({i for s, e in st.parts for i in doc.tokens_in(s, e)})
        cue = sorted({i for s, e in st.cue_spans for i in doc.tokens_in(s, e)})
        mention_span = st.mention_span
        key = (st.speaker, st.mention)
        if mention_span is None:
            mention_span = last_mention.get(key)
        else:
            last_mention[key] = mention_span
        source = sorted(doc.tokens_in(*mention_span)) if mention_span else []
        annotations.append(
            {
                "Addr": [],
                "Cue": [doc.addresses[i] for i in cue],
                "Form": st.form.capitalize(),
                "Frame": [],
                "HasNested": False,
                "IsNested": False,
                "Message": [doc.addresses[i] for i in message],
                "Source": [doc.addresses[i] for i in source],
            }
        )
    return annotations


def write_predictions(doc: Document, annotations: list[dict], out_dir: Path) -> Path:
    """Write the prediction file for `doc` (same name, same format) into `out_dir`."""
    record = {
        "Annotations": annotations,
        "DocumentName": doc.raw.get("DocumentName", doc.path.stem),
        "Sentences": doc.raw["Sentences"],
    }
    path = out_dir / doc.path.name
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return path


# --- scoring ---------------------------------------------------------------------------


@dataclass
class Group:
    """One annotation as absolute token indices: message, source, form."""

    message: list[int]
    source: list[int]
    form: str | None


@dataclass
class Scores:
    """Per-pair precision and recall values, per role, with the forms of each side."""

    # (role, value, predicted form, gold form) for precision and recall values
    precision: list[tuple[str, float, str | None, str | None]] = field(default_factory=list)
    recall: list[tuple[str, float, str | None, str | None]] = field(default_factory=list)
    gold: int = 0
    predicted: int = 0

    def add_pair(self, sys: Group | None, gold: Group | None) -> None:
        sys_form = sys.form if sys else None
        gold_form = gold.form if gold else None
        for role in ("message", "source"):
            s = set(getattr(sys, role)) if sys else set()
            g = set(getattr(gold, role)) if gold else set()
            tp = len(s & g)
            if s:
                self.precision.append((role, tp / len(s), sys_form, gold_form))
            if g:
                self.recall.append((role, tp / len(g), sys_form, gold_form))

    def summary(self, form: str | None = None) -> dict:
        """{'messages': {precision, recall, f1}, 'sources': …, 'joint': …}."""
        p_values = [v for v in self.precision if form is None or v[2] == form]
        r_values = [v for v in self.recall if form is None or v[3] == form]
        out = {}
        for name, roles in (
            ("messages", ("message",)),
            ("sources", ("source",)),
            ("joint", ("message", "source")),
        ):
            p = _mean([v for role, v, _, _ in p_values if role in roles])
            r = _mean([v for role, v, _, _ in r_values if role in roles])
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            out[name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}
        return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def groups_of(annotations: list[dict], doc: Document, gold: bool) -> list[Group]:
    """Top-level annotations (IsNested false) as `Group`s of absolute token indices."""
    out = []
    for a in annotations:
        if a.get("IsNested", False):
            continue
        form = a.get("Form")
        form = _GOLD_FORMS.get(form, form.lower() if isinstance(form, str) else None)
        out.append(
            Group(
                sorted({doc.absolute(x) for x in a.get("Message", [])}),
                sorted({doc.absolute(x) for x in a.get("Source", [])}),
                form,
            )
        )
    return out


def score_document(scores: Scores, sys_groups: list[Group], gold_groups: list[Group]) -> None:
    """Pair predicted and gold annotations of one document and add their values."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    scores.gold += len(gold_groups)
    scores.predicted += len(sys_groups)
    matrix = np.zeros((len(gold_groups), len(sys_groups)))
    for i, g in enumerate(gold_groups):
        for j, s in enumerate(sys_groups):
            overlap = _overlap_f1(g.message, s.message)
            matrix[i, j] = overlap + (0.01 if overlap > 0 and g.form == s.form else 0.0)
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    for i, j in zip(rows, cols, strict=True):
        scores.add_pair(sys_groups[j], gold_groups[i])
    for j in set(range(len(sys_groups))) - set(cols.tolist()):
        scores.add_pair(sys_groups[j], None)
    for i in set(range(len(gold_groups))) - set(rows.tolist()):
        scores.add_pair(None, gold_groups[i])


def _overlap_f1(gold: list[int], sys: list[int]) -> float:
    both = len(set(gold) & set(sys))
    if not both:
        return 0.0
    p, r = both / len(sys), both / len(gold)
    return 2 * p * r / (p + r)


# --- the command -----------------------------------------------------------------------


def evaluate(docs: list[Document], out_dir: Path) -> tuple[Scores, float]:
    """Predict, write and score every document; (scores, seconds spent extracting)."""
    scores = Scores()
    seconds = 0.0
    for doc in docs:
        started = time.perf_counter()
        annotations = predict(doc)
        seconds += time.perf_counter() - started
        write_predictions(doc, annotations, out_dir)
        try:
            gold = groups_of(doc.raw.get("Annotations", []), doc, gold=True)
        except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:
            raise DataError(f"{doc.path}: an annotation has a bad token address ({exc})") from exc
        score_document(scores, groups_of(annotations, doc, gold=False), gold)
    return scores, seconds


def run(args, settings) -> int:
    del settings  # the extractor needs no index, model or settings
    if args.folds < 1 or (args.fold is not None and not 0 <= args.fold < args.folds):
        _say("error: --fold must be between 0 and --folds − 1 (e.g. --fold 0 --folds 5).")
        return 2
    try:
        docs = load_documents(args.data_dir, args.fold, args.folds)
        if not docs:
            raise DataError(f"fold {args.fold} of {args.folds} holds no documents; use fewer folds")
        if args.predictions.exists() and not args.predictions.is_dir():
            raise DataError(f"--predictions {args.predictions} is a file; give a folder")
        args.predictions.mkdir(parents=True, exist_ok=True)
        scores, seconds = evaluate(docs, args.predictions)
    except DataError as exc:
        _say(f"error: {exc}")
        return 2
    except OSError as exc:
        _say(f"error: cannot write the predictions to {args.predictions}: {exc.strerror or exc}")
        return 2
    result = {
        "documents": len(docs),
        "gold_statements": scores.gold,
        "predicted_statements": scores.predicted,
        **scores.summary(),
        "forms": {form: scores.summary(form) for form in FORMS},
        "extraction_seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result, args)
    return 0


def _print_table(result: dict, args) -> None:
    where = f"fold {args.fold} of {args.folds}, " if args.fold is not None else ""
    print(
        f"SpkAtt simplified setting: {where}{result['documents']} documents, "
        f"{result['gold_statements']} gold and {result['predicted_statements']} predicted "
        f"statements; predictions in {args.predictions}"
    )
    print(f"{'':22}{'precision':>10}{'recall':>9}{'F1':>7}")
    rows = [(name, result[name]) for name in ("messages", "sources", "joint")]
    for form in FORMS:
        rows += [(f"{form} {name}", result["forms"][form][name]) for name in ("messages", "joint")]
    for name, v in rows:
        print(f"{name:22}{v['precision']:>10.3f}{v['recall']:>9.3f}{v['f1']:>7.3f}")
    ms = 1000 * result["extraction_seconds"] / max(result["documents"], 1)
    print(f"extraction: {result['extraction_seconds']:.2f} s ({ms:.1f} ms per document)")
