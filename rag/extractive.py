"""The no-LLM answer: the most relevant sentences of the retrieved passages, quoted verbatim.

Every sentence of every passage is scored against the question:
`cosine(question, sentence)` (all sentences embedded in one batch) `+ KEYWORD_WEIGHT ×` the
share of the question's content words found in the sentence (prefix match, so "Peskows"
matches "Peskow"). For "what did X say" / "was sagte X" questions, sentences that quote
(„…“ "…" «…») and name X in themselves or their neighbour get a bonus, and the neighbour
that introduces a quote ("Das machte Peskow deutlich:") is quoted along with it.
The best sentences are grouped by article, each with its source number, under a one-line
header in the question's language. Sources are numbered here, in the order the answer
cites them, and each quote knows its passage: citations are attached from that structure,
never parsed back out of the text, so brackets inside a quoted sentence ("Fußnote [12]")
stay the article's own text. When even the best sentence scores below
NO_ANSWER_THRESHOLD, the answer says plainly that the sources do not contain it.

Shortcuts: speaker detection is a handful of English/German question patterns; names
match fuzzily (Peskov ≈ Peskow) but not across scripts or very different spellings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag import calibration as calibration_
from rag import prompts
from rag.calibration import Calibration
from rag.lang import NON_CONTENT, WORD, detect_language
from rag.schema import Passage
from rag.text import sentence_spans

# The numbers below are on multilingual-e5-small's cosine scale (the default model), which
# packs a question's similarities to retrieved sentences into about 0.72-0.85 (MiniLM
# spread them over 0.1-0.7), and were measured with bench/thresholds.py on XQuAD (every
# 5th question, English and German, top 6 passages of the product's retrieval, 10kGNAD
# news as distractors). Sentence choice: with MiniLM's 0.5 / 0.3 the keyword share
# outweighed e5's cosine differences and nearly every answer quoted four sentences
# (answer hit en 0.832 / de 0.903, 3.8 / 3.2 quotes); 0.1 / 0.075, MiniLM's numbers scaled
# to e5's narrower spread, quote fewer sentences and find more answers (en 0.845 / de
# 0.916, 3.4 / 2.5 quotes). MiniLM's values were 0.5 / 0.3 / 0.3 / 0.55.
KEYWORD_WEIGHT = 0.1  # these four: rag.calibration.E5; other models have their own
NAME_BONUS = 0.2  # names the asked-about speaker
QUOTE_BONUS = 0.35  # quotes and names the speaker (here or in a neighbour)
ATTRIBUTION_BONUS = 0.15  # "sagte Peskow", "Peskow said" in the sentence itself
# Cosine alone is not evidence: with e5 a question is 0.72-0.80 similar to most sentences
# of the passages retrieved for it (10th-90th percentile, English questions), so a
# sentence counts only when it shares a content word or the speaker's name with the
# question, or its cosine reaches COSINE_ALONE. At 0.80, 98.7 % of the English questions
# whose answer was retrieved still have a sentence that counts (0.82: 95 %); German
# questions share words with their answer and are not affected.
COSINE_ALONE = 0.80
# The best counting sentence must reach this score, else the answer says the sources do
# not contain it. Sentences that count by cosine already score >= 0.80; the threshold
# stops a sentence that shares one word with the question but is about something else
# (cosine below 0.75 + 0.1 x keyword share).
NO_ANSWER_THRESHOLD = 0.8
RELATIVE_CUTOFF = 0.075  # keep sentences within this distance of the best one
MAX_QUOTES = 4

_QUOTE_CHARS = '„“”"«»‚‘’'
_SPEAKER_PATTERNS = [
    re.compile(
        r"\b(?:what|how)\s+(?:did|does|do|has|have|had|was|is|were)\s+(?P<who>.+?)\s+"
        r"(?:say|said|says|tell|told|state|stated|claim|claimed|announce|announced|mean|"
        r"think|respond|responded|reply|replied|comment|commented|argue|argued|write|wrote|"
        r"warn|warned|add|added)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:was|wie)\s+(?:sagte|sagt|hat|meinte|meint|erklärte|erklärt|betonte|betont|"
        r"äußerte|äußert|sprach|schrieb|warnte|warnt|antwortete|sagten|haben)\s+(?P<who>.+?)"
        r"(?=\s+(?:gesagt|gemeint|erklärt|betont|geäußert|geschrieben|gewarnt|geantwortet|"
        r"zu|zur|zum|über|im|am|in|bei|nach|vor|denn|eigentlich|dazu|darüber)\b|[?.!]|$)",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?P<who>[A-ZÄÖÜ][\w-]+)'s\s+(?:statement|remarks|comments|words)\b"),
]
_ATTRIBUTION = re.compile(
    r"\b(?:sagte|sagt|betonte|betont|erklärte|erklärt|meinte|meint|äußerte|warnte|"
    r"erinnerte|kritisierte|bekräftigte|unterstrich|fügte|schrieb|machte|said|says|stated|"
    r"told|added|warned|stressed)\b",
    re.IGNORECASE,
)
Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass
class Quote:
    """One quoted sentence: its source number, passage and span inside the passage text.

    `n` is the number shown in the answer; 0 until the answer is laid out.
    """

    n: int
    passage: Passage
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def display(self) -> str:
        """The sentence on one line, as the answer shows it (line breaks become spaces)."""
        return " ".join(self.text.split())


@dataclass
class Extract:
    """An extractive answer: its text (also in streaming pieces) and the quotes it uses."""

    text: str
    quotes: list[Quote]
    found: bool
    pieces: list[str] = field(default_factory=list)

    def sources(self) -> list[tuple[int, Passage, list[str]]]:
        """(shown number, passage, its quoted sentences) in number order."""
        out: dict[int, tuple[int, Passage, list[str]]] = {}
        for q in sorted(self.quotes, key=lambda q: (q.n, q.passage.start + q.start)):
            out.setdefault(q.n, (q.n, q.passage, []))[2].append(q.display)
        return list(out.values())


def speaker_of(question: str) -> str | None:
    """The person a "what did X say" question asks about (last capitalised word), else None.

    >>> speaker_of("What did Kremlin spokesman Peskow say about NATO troops?")
    'Peskow'
    >>> speaker_of("Was hat Putin zur NATO gesagt?"), speaker_of("Where is Kyiv?")
    ('Putin', None)
    """
    for pattern in _SPEAKER_PATTERNS:
        m = pattern.search(question)
        if m:
            names = [w for w in WORD.findall(m.group("who")) if w[0].isupper()]
            names = [w for w in names if w.lower() not in NON_CONTENT]
            if names:
                return names[-1]
    return None


def name_in(name: str, text: str) -> bool:
    """Fuzzy name match against capitalised words (Peskov ≈ Peskow, Peskows ≈ Peskow).

    >>> name_in("Peskov", "betonte Peskow."), name_in("Putin", "Trump sprach.")
    (True, False)
    """
    target = name.lower()
    for word in WORD.findall(text):
        if not word[0].isupper():
            continue
        for part in word.split("-"):
            w = part.lower()
            if w.endswith("s") and len(w) > len(target):
                w = w[:-1]
            if w == target or (
                w[:1] == target[:1] and difflib.SequenceMatcher(None, w, target).ratio() >= 0.8
            ):
                return True
    return False


def content_terms(question: str) -> list[str]:
    """Question words that carry meaning (no stop words, no question words), lower-cased.

    >>> content_terms("What did Peskow say about the NATO troops?")
    ['peskow', 'nato', 'troops']
    """
    out = []
    for w in WORD.findall(question):
        lw = w.lower()
        if len(lw) >= 3 and lw not in NON_CONTENT and lw not in out:
            out.append(lw)
    return out


def _term_hit(term: str, text_lower: str) -> bool:
    stem = term[: max(4, len(term) - 2)] if len(term) > 5 else term
    return re.search(rf"\b{re.escape(stem)}", text_lower) is not None


def keyword_overlap(terms: Sequence[str], sentence: str) -> float:
    """Share of the terms present in the sentence (prefix match)."""
    if not terms:
        return 0.0
    low = sentence.lower()
    return sum(_term_hit(t, low) for t in terms) / len(terms)


def _has_quote(sentence: str) -> bool:
    return any(ch in sentence for ch in _QUOTE_CHARS)


def extract(
    question: str,
    passages: Sequence[Passage],
    encode_sentences: Encode,
    encode_question: Encode,
    *,
    language: str | None = None,
    max_quotes: int = MAX_QUOTES,
    calibration: Calibration = calibration_.DEFAULT,
) -> Extract:
    """Answer `question` by quoting the best sentences of `passages` (numbered from 1).

    `calibration`: the embedding model's numbers (rag.calibration), the default model's
    unless given.
    """
    lang = language or detect_language(question)
    if not passages:
        text = prompts.NO_SOURCES[lang]
        return Extract(text, [], False, [text])
    candidates: list[Quote] = []
    spans_by_passage: list[list[tuple[int, int]]] = []
    for passage in passages:
        spans = sentence_spans(passage.text) or [(0, len(passage.text))]
        spans_by_passage.append(spans)
        candidates.extend(Quote(0, passage, s, e, 0.0) for s, e in spans)
    vectors = encode_sentences([q.text for q in candidates])  # one batch for all sentences
    qvec = encode_question([question])[0]
    cosine = vectors @ qvec
    terms = content_terms(question)
    speaker = speaker_of(question)
    if speaker:  # the name is matched by the speaker rule; keep keywords for the topic
        terms = [t for t in terms if t != speaker.lower()] or terms
    neighbours = _neighbour_texts(candidates, spans_by_passage)
    evidence = []
    for i, cand in enumerate(candidates):
        overlap = keyword_overlap(terms, cand.text)
        bonus = _speaker_bonus(speaker, cand.text, neighbours[i]) if speaker else 0.0
        cand.score = round(
            float(cosine[i]) + calibration.sentence_keyword_weight * overlap + bonus, 4
        )
        if overlap > 0 or bonus > 0 or cosine[i] >= calibration.cosine_alone:
            evidence.append(cand)

    ranked = _dedupe(sorted(evidence, key=lambda q: -q.score))
    best = ranked[0].score if ranked else 0.0
    if best < calibration.no_answer:
        text = prompts.NO_ANSWER[lang]
        return Extract(text, [], False, [text])
    chosen = [q for q in ranked if q.score >= best - calibration.relative_cutoff][:max_quotes]
    if speaker:
        chosen = _with_introductions(chosen, candidates, speaker)
    header = (
        prompts.EXTRACTIVE_SPEAKER_HEADER[lang].format(speaker=speaker)
        if speaker and any(name_in(speaker, q.text) for q in chosen)
        else prompts.EXTRACTIVE_HEADER[lang]
    )
    pieces = [header + "\n"]
    numbers: dict[int, int] = {}  # id(passage) -> shown number, in order of first citation
    for group in _group_by_article(chosen):
        p = group[0].passage
        meta = ", ".join(x for x in (p.source, p.date) if x)
        lines = [f"\n**{p.title or p.article_id}**" + (f" ({meta})" if meta else "")]
        for q in group:
            q.n = numbers.setdefault(id(q.passage), len(numbers) + 1)
            lines.append(f"> {q.display} [{q.n}]")
        pieces.append("\n".join(lines) + "\n")
    return Extract("".join(pieces).rstrip("\n"), chosen, True, pieces)


def _neighbour_texts(
    candidates: list[Quote], spans_by_passage: list[list[tuple[int, int]]]
) -> list[str]:
    """Text of the sentences right before and after each candidate, in its passage."""
    out, i = [], 0
    for spans in spans_by_passage:
        texts = [candidates[i + k].text for k in range(len(spans))]
        for k in range(len(spans)):
            before = texts[k - 1] if k > 0 else ""
            after = texts[k + 1] if k + 1 < len(texts) else ""
            out.append(f"{before} {after}")
        i += len(spans)
    return out


def _speaker_bonus(speaker: str, sentence: str, neighbours: str) -> float:
    named_here = name_in(speaker, sentence)
    bonus = NAME_BONUS if named_here else 0.0
    if _has_quote(sentence) and (named_here or name_in(speaker, neighbours)):
        bonus += QUOTE_BONUS
    if named_here and _ATTRIBUTION.search(sentence):
        bonus += ATTRIBUTION_BONUS
    return bonus


def _dedupe(quotes: list[Quote]) -> list[Quote]:
    """Overlapping chunks repeat sentences; keep the first (best) copy of each."""
    seen, out = set(), []
    for q in quotes:
        key = (q.passage.article_id, q.passage.start + q.start)
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


def _with_introductions(chosen: list[Quote], candidates: list[Quote], speaker: str) -> list[Quote]:
    """Add the sentence that names the speaker right before a quote that does not name them."""
    out = list(chosen)
    have = {(q.passage.article_id, q.passage.start + q.start) for q in out}
    for q in chosen:
        if not _has_quote(q.text) or name_in(speaker, q.text):
            continue
        prev = [c for c in candidates if c.passage is q.passage and c.end <= q.start]
        if prev and name_in(speaker, prev[-1].text):
            key = (q.passage.article_id, q.passage.start + prev[-1].start)
            if key not in have:
                have.add(key)
                out.append(prev[-1])
    return out


def _group_by_article(quotes: list[Quote]) -> list[list[Quote]]:
    """Articles in order of their best quote; quotes in text order within an article."""
    groups: dict[str, list[Quote]] = {}
    for q in quotes:
        groups.setdefault(q.passage.article_id, []).append(q)
    return [sorted(g, key=lambda q: q.passage.start + q.start) for g in groups.values()]
