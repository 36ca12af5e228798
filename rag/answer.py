"""The answer record and how it is assembled: citations checked, sources fitted to a budget.

- `Citation`: one cited passage (quote, offsets, support check). `Source`: one cited
  article under one number, with the passages cited from it; an answer's `sources` are
  its citations grouped by number, so "N sources" counts articles.
- `Answer`: what the CLI and UI show; `Answer.to_json()` is the `ask --json` contract
  (every key of the first release kept: `citations` still lists passages, now with the
  number of their article), `to_markdown()` the export and `to_text()` plain text with
  numbered citations (outlet, date, title, URL) for pasting into a story draft. It also
  records the filters the search ran with and, as `filter_notes`, the matching articles
  those filters left out (rag.assistant finds them).
- `fit_sources()`: keeps the prompt inside the model's context: sources are kept best
  first while they fit `source_token_budget` (and the context window minus the answer
  and the rest of the prompt); the first that does not fit is cut at a sentence boundary,
  the rest are dropped. Token counts are the approximate `prompts.approx_tokens`.
- `compose()`: cleans the citation markers of an LLM answer, maps each number to its
  source (one article, one or more passages), scores support of every cited sentence
  against the source's passages (rag.citations) and returns the Answer.
- `compose_extract()`: the same Answer for an extractive result, whose citations come
  from its quotes (it knows which passage each came from); its text is never parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from rag import citations, prompts
from rag.calibration import DEFAULT as DEFAULT_CALIBRATION
from rag.calibration import Calibration
from rag.extractive import Extract
from rag.schema import Passage
from rag.text import sentence_spans

if TYPE_CHECKING:
    from rag.retrieve import Filters

Mode = Literal["extractive", "llm"]
FilterCause = Literal["date_range", "undated", "sources"]


@dataclass
class Citation:
    """One cited passage, numbered by its article, with its support check."""

    n: int  # the number of the source (article) it belongs to
    article_id: str
    title: str
    date: str | None
    source: str
    quote: str  # == Article.text[start:end] in the cleaned article
    start: int
    end: int
    supported: bool
    support: float
    cited_sentences: list[str] = field(default_factory=list)
    highlight: list[tuple[int, int]] = field(default_factory=list)  # spans within `quote`
    version: str = ""  # the article version the quote and offsets were checked against
    url: str = ""


@dataclass
class Source:
    """One cited article under one number, with the passages cited from it (text order)."""

    n: int
    article_id: str
    title: str
    date: str | None
    source: str  # the outlet
    url: str
    version: str
    passages: list[Citation]

    @property
    def supported(self) -> bool:
        """Every cited passage of the article backs what cites it."""
        return all(p.supported for p in self.passages)

    @property
    def label(self) -> str:
        """'Title' or the article id when the article has no title."""
        return self.title or self.article_id

    def reference(self) -> str:
        """'Outlet, 2025-09-05: Title. https://…' (the parts that are known).

        >>> c = Citation(1, "a", "T", "2025-09-05", "DER STANDARD", "q", 0, 1, True, 1.0)
        >>> Source(1, "a", "T", "2025-09-05", "DER STANDARD", "https://x.at/1", "", [c]).reference()
        'DER STANDARD, 2025-09-05: T. https://x.at/1'
        """
        where = ", ".join(x for x in (self.source, self.date) if x)
        text = f"{where}: {self.label}" if where else self.label
        if not text.endswith((".", "?", "!", "…")):
            text += "."
        return f"{text} {self.url}" if self.url else text

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "version": self.version,
            "supported": self.supported,
            "passages": [
                {
                    "quote": p.quote,
                    "start": p.start,
                    "end": p.end,
                    "highlight": [list(span) for span in p.highlight],
                    "supported": p.supported,
                    "support": p.support,
                    "cited_sentences": list(p.cited_sentences),
                }
                for p in self.passages
            ],
        }


@dataclass(frozen=True)
class FilterNote:
    """Matching articles a filter left out: why (`cause`), how many, and the sentence shown."""

    cause: FilterCause
    articles: int
    text: str

    def to_dict(self) -> dict:
        return {"cause": self.cause, "articles": self.articles, "text": self.text}


def group_sources(cites: Sequence[Citation]) -> list[Source]:
    """Citations grouped by their number, in number order; passages in text order."""
    by_n: dict[int, list[Citation]] = {}
    for c in cites:
        by_n.setdefault(c.n, []).append(c)
    out = []
    for n in sorted(by_n):
        passages = sorted(by_n[n], key=lambda c: c.start)
        first = passages[0]
        out.append(
            Source(
                n=n,
                article_id=first.article_id,
                title=first.title,
                date=first.date,
                source=first.source,
                url=first.url,
                version=first.version,
                passages=passages,
            )
        )
    return out


def filters_dict(filters: Filters | None) -> dict:
    """The filters a search ran with, as data: {date_from, date_to, sources}."""
    return {
        "date_from": getattr(filters, "date_from", None),
        "date_to": getattr(filters, "date_to", None),
        "sources": list(getattr(filters, "sources", ()) or ()),
    }


def describe_filters(filters: Filters | None) -> list[str]:
    """The active filters in words, one per line ([] when none is on).

    >>> from types import SimpleNamespace as F
    >>> describe_filters(F(date_from="2024-06-01", date_to=None, sources=("ORF", "DER STANDARD")))
    ['date: from 2024-06-01', 'sources: ORF, DER STANDARD']
    """
    d = filters_dict(filters)
    out = []
    if d["date_from"] and d["date_to"]:
        out.append(f"date: {d['date_from']} – {d['date_to']}")
    elif d["date_from"]:
        out.append(f"date: from {d['date_from']}")
    elif d["date_to"]:
        out.append(f"date: up to {d['date_to']}")
    if d["sources"]:
        out.append("sources: " + ", ".join(d["sources"]))
    return out


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    mode: Mode
    citations: list[Citation]  # one per cited passage; `n` is its article's number
    passages: list[Passage]  # what the answer step was given
    notices: list[str] = field(default_factory=list)
    filters: Filters | None = None  # the filters the search ran with
    filter_notes: list[FilterNote] = field(default_factory=list)  # texts also in `notices`

    @property
    def sources(self) -> list[Source]:
        """The cited articles, one number each, with their cited passages."""
        return group_sources(self.citations)

    def to_dict(self) -> dict:
        """The `ask --json` shape."""
        return {
            "answer": self.text,
            "mode": self.mode,
            "citations": [
                {
                    "n": c.n,
                    "article_id": c.article_id,
                    "title": c.title,
                    "date": c.date,
                    "source": c.source,
                    "quote": c.quote,
                    "start": c.start,
                    "end": c.end,
                    "supported": c.supported,
                    "support": c.support,
                    "version": c.version,
                    "url": c.url,
                }
                for c in self.citations
            ],
            "sources": [s.to_dict() for s in self.sources],
            "notices": list(self.notices),
            "standalone_question": self.standalone_question,
            "filters": filters_dict(self.filters),
            "filter_notes": [note.to_dict() for note in self.filter_notes],
        }

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def to_markdown(self) -> str:
        """Question, filters, answer and numbered sources (outlet, date, link, quotes)."""
        lines = [f"## {self.question}", ""]
        active = describe_filters(self.filters)
        if active:
            lines += ["*Filters: " + "; ".join(_md_escape(a) for a in active) + "*", ""]
        lines += [self.text, ""]
        if self.citations:
            lines += ["### Sources", ""]
            for src in self.sources:
                meta = ", ".join(_md_escape(x) for x in (src.source, src.date) if x)
                flag = "" if src.supported else " — ⚠ claim not clearly supported by this source"
                lines.append(
                    f"[{src.n}] **{_md_escape(src.label)}**"
                    + (f" ({meta})" if meta else "")
                    + (f" — <{src.url}>" if src.url else "")
                    + flag
                )
                for i, p in enumerate(src.passages):
                    if i:
                        lines.append(">\n> …\n>")
                    lines += [f"> {line}" if line else ">" for line in p.quote.splitlines()]
                lines.append("")
        if self.notices:
            lines += ["### Notes", ""] + [f"- {n}" for n in self.notices] + [""]
        return "\n".join(lines).rstrip() + "\n"

    def to_text(self) -> str:
        """Plain text for a story draft: the answer, then the numbered sources.

        No Markdown: quote marks and emphasis of the answer are removed; each source is
        one line, `[n] Outlet, date: Title. URL`.
        """
        lines = [plain_text(self.text)]
        sources = self.sources
        if sources:
            heading = "Quellen:" if prompts.detect_language(self.question) == "de" else "Sources:"
            lines += ["", heading]
            lines += [f"[{s.n}] {s.reference()}" for s in sources]
        return "\n".join(lines).strip() + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _md_escape(text: str) -> str:
    """Metadata as literal Markdown text (titles may hold `*`, `_` or brackets)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def plain_text(markdown: str) -> str:
    """The answer's Markdown as plain text: no quote marks, bold or heading signs.

    >>> plain_text("Intro:\\n**Titel** (ORF)\\n> „Zitat“ [1]").splitlines()
    ['Intro:', 'Titel (ORF)', '„Zitat“ [1]']
    """
    out = []
    for line in markdown.splitlines():
        line = re.sub(r"^\s{0,3}(?:>\s?)+", "", line)
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        out.append(_EMPHASIS.sub(r"\2", line))
    return "\n".join(out)


# --- budget ------------------------------------------------------------------------------
def source_budget(settings, fixed_prompt: str) -> int:
    """Tokens left for sources: the smaller of the budget and what the context window allows."""
    window = (
        settings.llm_context_tokens - settings.llm_max_tokens - prompts.approx_tokens(fixed_prompt)
    )
    # fences and attributes around each source cost a few tokens; keep 5 % headroom
    return max(0, min(settings.source_token_budget, int(window * 0.95)))


def fit_sources(passages: Sequence[Passage], budget: int) -> list[Passage]:
    """Best-first passages within `budget` tokens; the last one cut at a sentence end."""
    out: list[Passage] = []
    left = budget
    for passage in passages:
        cost = prompts.approx_tokens(prompts.format_source(len(out) + 1, passage))
        if cost <= left:
            out.append(passage)
            left -= cost
            continue
        cut = _trim(passage, left)
        if cut is not None:
            out.append(cut)
        break
    return out


def _trim(passage: Passage, budget: int) -> Passage | None:
    """The longest sentence-aligned prefix of the passage that fits, or None."""
    overhead = prompts.approx_tokens(prompts.format_source(99, replace(passage, text="")))
    end = None
    for _s, e in sentence_spans(passage.text):
        if prompts.approx_tokens(passage.text[:e]) + overhead > budget:
            break
        end = e
    if end is None:
        return None
    return replace(passage, text=passage.text[:end], end=passage.start + end)


# --- composing ---------------------------------------------------------------------------
SourceGroup = Sequence[Passage]  # the passages of one article, shown under one number


def by_article(passages: Sequence[Passage]) -> list[list[Passage]]:
    """Passages grouped by article: articles in order of their first (best) passage,
    passages in text order within an article."""
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        groups.setdefault(p.article_id, []).append(p)
    return [sorted(g, key=lambda p: p.start) for g in groups.values()]


def _as_groups(sources: Sequence[Passage | SourceGroup]) -> list[list[Passage]]:
    return [[s] if isinstance(s, Passage) else list(s) for s in sources]


def compose(
    *,
    question: str,
    standalone: str,
    text: str,
    mode: Mode,
    passages: Sequence[Passage | SourceGroup],
    encode: citations.Encode,
    notices: Sequence[str] = (),
    finished: bool = True,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> Answer:
    """Clean the citation markers in a model's `text`, check them against its sources.

    `passages` are the numbered sources the model saw: a Passage, or the passages of one
    article (a source of several passages, `by_article`). Each citing sentence is checked
    against every passage of its source and attached to the one that supports it best.
    Brackets that repeat a source's own text ("Fußnote [12]" quoted from an article) are
    left alone: they are data, not markers (citations.protect_quoted). With
    `finished=False` (the reply was cut off) a last sentence that breaks off mid-way
    supports nothing: the sources it cites are marked unsupported.
    """
    groups = _as_groups(passages)
    flat = [p for g in groups for p in g]
    notes = list(notices)
    protected = citations.protect_quoted(text, [p.text for p in flat])
    clean, removed = citations.clean_markers(protected, len(groups))
    for marker in removed:  # one notice per marker, however many numbers it names
        plural = "s" if len(groups) != 1 else ""
        notes.append(f"removed citation {marker}: only {len(groups)} source{plural}")
    found = citations.claims(clean, prompts.detect_language(question))
    unfinished = set()
    if not finished and found and not citations.ends_sentence(clean):
        unfinished = set(found[-1].numbers)
    by_source: dict[int, list[str]] = {}  # source number -> cited sentences
    for claim in found:
        for n in claim.numbers:
            if 1 <= n <= len(groups):
                by_source.setdefault(n, []).append(citations.unprotect(claim.text))
    # Sources are numbered in the answer's own order, so the first citation is [1] and
    # the list under the answer has no gaps; `mapping` takes source numbers to shown ones.
    clean, mapping = citations.renumber(clean)
    for n in mapping:  # a marker whose sentence was empty; cite the source anyway
        by_source.setdefault(n, [])
    cited = []
    for n in mapping:
        cited += _assign(mapping[n], groups[n - 1], by_source[n], encode, calibration)
    cites, support_notes = check_citations(
        cited,
        encode,
        unfinished={mapping[n] for n in unfinished if n in mapping},
        calibration=calibration,
    )
    answer_text = citations.unprotect(clean)
    return Answer(question, standalone, answer_text, mode, cites, flat, notes + support_notes)


def _assign(
    shown: int,
    group: Sequence[Passage],
    sentences: Sequence[str],
    encode: citations.Encode,
    calibration: Calibration,
) -> list[tuple[int, Passage, list[str]]]:
    """(shown number, passage, its citing sentences) for the passages of one source that
    support a citing sentence best; the first passage when nothing cites it by a sentence."""
    if len(group) == 1 or not sentences:
        return [(shown, group[0], list(sentences))]
    best: dict[int, list[str]] = {}
    scores = [
        [s for s, _ in citations.support_scores(sentences, p.text, encode, anchor_weight=w)]
        for p, w in ((p, calibration.anchor_weight) for p in group)
    ]
    for i, sentence in enumerate(sentences):
        j = max(range(len(group)), key=lambda k: scores[k][i])
        best.setdefault(j, []).append(sentence)
    return [(shown, group[j], best[j]) for j in sorted(best)]


def compose_extract(
    *,
    question: str,
    standalone: str,
    extract: Extract,
    passages: Sequence[Passage],
    encode: citations.Encode,
    notices: Sequence[str] = (),
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> Answer:
    """The Answer for an extractive result: citations come from its quotes, not its text.

    The text quotes articles verbatim, brackets and all; it is never parsed for markers.
    """
    cites, support_notes = check_citations(extract.sources(), encode, calibration=calibration)
    notes = list(notices) + support_notes + list(extract.notices)
    return Answer(question, standalone, extract.text, "extractive", cites, list(passages), notes)


def check_citations(
    cited: Sequence[tuple[int, Passage, Sequence[str]]],
    encode: citations.Encode,
    unfinished: Container[int] = (),
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> tuple[list[Citation], list[str]]:
    """Citations for (shown number, passage, citing sentences), in number and text order,
    with the support check of each; and a notice for every weakly supported source.

    Several passages may share a number (passages of one article). Numbers in
    `unfinished` are cited by a sentence that breaks off: never supported.
    """
    cites: list[Citation] = []
    weak: list[int] = []
    for shown, passage, sentences in sorted(cited, key=lambda c: (c[0], c[1].start)):
        if sentences:
            scored = citations.support_scores(
                list(sentences), passage.text, encode, anchor_weight=calibration.anchor_weight
            )
            support = min(s for s, _ in scored)
            highlight = sorted({span for _, span in scored})
        else:
            support, highlight = 0.0, []
        supported = support >= calibration.support_threshold and shown not in unfinished
        if not supported and shown not in weak:
            weak.append(shown)
        cites.append(
            Citation(
                n=shown,
                article_id=passage.article_id,
                title=passage.title,
                date=passage.date,
                source=passage.source,
                quote=passage.text,
                start=passage.start,
                end=passage.end,
                supported=supported,
                support=round(support, 3),
                cited_sentences=list(sentences),
                highlight=highlight,
                version=passage.version,
                url=passage.url,
            )
        )
    notes = [
        f"citation [{n}] belongs to the unfinished last sentence — check it"
        if n in unfinished
        else f"citation [{n}] is not clearly supported by its source — check it"
        for n in weak
    ]
    return cites, notes
