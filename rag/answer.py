"""The answer record and how it is assembled: citations checked, sources fitted to a budget.

- `Citation`, `Answer`: what the CLI and UI show; `Answer.to_json()` is the `ask --json`
  contract, `Answer.to_markdown()` the export.
- `fit_sources()`: keeps the prompt inside the model's context: passages are kept best
  first while they fit `source_token_budget` (and the context window minus the answer
  and the rest of the prompt); the first that does not fit is cut at a sentence boundary,
  the rest are dropped. Token counts are the approximate `prompts.approx_tokens`.
- `compose()`: cleans the citation markers of an LLM answer, maps each number to its
  passage, scores support of every cited sentence (rag.citations) and returns the Answer.
- `compose_extract()`: the same Answer for an extractive result, whose citations come
  from its quotes (it knows which passage each came from); its text is never parsed.
"""

from __future__ import annotations

import json
from collections.abc import Container, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from rag import citations, prompts
from rag.calibration import DEFAULT as DEFAULT_CALIBRATION
from rag.calibration import Calibration
from rag.extractive import Extract
from rag.schema import Passage
from rag.text import sentence_spans

Mode = Literal["extractive", "llm"]


@dataclass
class Citation:
    """One numbered source as cited by the answer, with its support check."""

    n: int
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


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    mode: Mode
    citations: list[Citation]
    passages: list[Passage]
    notices: list[str] = field(default_factory=list)

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
                }
                for c in self.citations
            ],
            "notices": list(self.notices),
            "standalone_question": self.standalone_question,
        }

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def to_markdown(self) -> str:
        """Question, answer and numbered sources with quotes, for export."""
        lines = [f"## {self.question}", "", self.text, ""]
        if self.citations:
            lines += ["### Sources", ""]
            for c in self.citations:
                meta = ", ".join(x for x in (c.source, c.date) if x)
                flag = "" if c.supported else " — ⚠ claim not clearly supported by this passage"
                lines.append(
                    f"[{c.n}] **{c.title or c.article_id}**" + (f" ({meta})" if meta else "") + flag
                )
                lines += [f"> {line}" if line else ">" for line in c.quote.splitlines()]
                lines.append("")
        if self.notices:
            lines += ["### Notes", ""] + [f"- {n}" for n in self.notices] + [""]
        return "\n".join(lines).rstrip() + "\n"


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
def compose(
    *,
    question: str,
    standalone: str,
    text: str,
    mode: Mode,
    passages: Sequence[Passage],
    encode: citations.Encode,
    notices: Sequence[str] = (),
    finished: bool = True,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> Answer:
    """Clean the citation markers in a model's `text`, check them against `passages`.

    Brackets that repeat a source's own text ("Fußnote [12]" quoted from an article) are
    left alone: they are data, not markers (citations.protect_quoted). With
    `finished=False` (the reply was cut off) a last sentence that breaks off mid-way
    supports nothing: the sources it cites are marked unsupported.
    """
    notes = list(notices)
    protected = citations.protect_quoted(text, [p.text for p in passages])
    clean, removed = citations.clean_markers(protected, len(passages))
    for marker in removed:  # one notice per marker, however many numbers it names
        plural = "s" if len(passages) != 1 else ""
        notes.append(f"removed citation {marker}: only {len(passages)} source{plural}")
    found = citations.claims(clean, prompts.detect_language(question))
    unfinished = set()
    if not finished and found and not citations.ends_sentence(clean):
        unfinished = set(found[-1].numbers)
    by_source: dict[int, list[str]] = {}  # passage number -> cited sentences
    for claim in found:
        for n in claim.numbers:
            if 1 <= n <= len(passages):
                by_source.setdefault(n, []).append(citations.unprotect(claim.text))
    # Sources are numbered in the answer's own order, so the first citation is [1] and
    # the list under the answer has no gaps; `mapping` takes passage numbers to shown ones.
    clean, mapping = citations.renumber(clean)
    for n in mapping:  # a marker whose sentence was empty; cite the passage anyway
        by_source.setdefault(n, [])
    cited = [(mapping[n], passages[n - 1], by_source[n]) for n in mapping]
    cites, support_notes = check_citations(
        cited,
        encode,
        unfinished={mapping[n] for n in unfinished if n in mapping},
        calibration=calibration,
    )
    answer_text = citations.unprotect(clean)
    return Answer(
        question, standalone, answer_text, mode, cites, list(passages), notes + support_notes
    )


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
    return Answer(
        question,
        standalone,
        extract.text,
        "extractive",
        cites,
        list(passages),
        list(notices) + support_notes,
    )


def check_citations(
    cited: Sequence[tuple[int, Passage, Sequence[str]]],
    encode: citations.Encode,
    unfinished: Container[int] = (),
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> tuple[list[Citation], list[str]]:
    """Citations for (shown number, passage, citing sentences), in number order, with
    the support check of each; and a notice for every weakly supported one.

    Numbers in `unfinished` are cited by a sentence that breaks off: never supported.
    """
    cites, notes = [], []
    for shown, passage, sentences in sorted(cited, key=lambda c: c[0]):
        if sentences:
            scored = citations.support_scores(
                list(sentences), passage.text, encode, anchor_weight=calibration.anchor_weight
            )
            support = min(s for s, _ in scored)
            highlight = sorted({span for _, span in scored})
        else:
            support, highlight = 0.0, []
        supported = support >= calibration.support_threshold and shown not in unfinished
        if shown in unfinished:
            notes.append(f"citation [{shown}] belongs to the unfinished last sentence — check it")
        elif not supported:
            notes.append(f"citation [{shown}] is not clearly supported by its passage — check it")
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
            )
        )
    return cites, notes
