"""Citation markers in an answer: parse, clean, and check each cited claim against its source.

Markers: `[n]`, `[1, 3]`, `[1;3]`, `[1][2]`, `[1-3]` (ranges expanded). Numbers outside 1..n
are removed from the text and reported. Surviving groups are rewritten in one canonical
form, `[1, 3]`, so the UI can link them.

Only model-written text is parsed for markers. Brackets that are a source's own text
(an article's "Fußnote [12]" quoted by the model) are hidden first by `protect_quoted`: a
bracket group counts as quoted when it stands in a source together with the words right
before or right after it in the answer. Extractive answers are never parsed at all.

Support of a claim (one answer sentence) by a source = the best match between the claim
and the source's sentences, combining
- embedding cosine (max over the passage's sentences; works across languages only as far
  as the embedding model does), and
- lexical overlap of "anchors": numbers and capitalised names, which survive translation
  (Peskow, NATO, 26, 2025) and which a paraphrasing model must keep.
`support = cosine + ANCHOR_WEIGHT * anchor_overlap`; below SUPPORT_THRESHOLD the citation
is flagged (supported=False), not dropped. With the default model, multilingual-e5-small,
the cosine alone decides (ANCHOR_WEIGHT 0); the anchors were needed by English-only models.

Calibration: see the comment at SUPPORT_THRESHOLD; the experiment is re-run (smaller) by
tests/test_citations.py::test_support_score_separates_parallel_xquad_pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.lang import CAPITALISED_NON_NAMES
from rag.text import sentence_spans

# Calibration with multilingual-e5-small (the default) on XQuAD (bench/thresholds.py support):
# 188 English sentences from 96 paragraphs (two per article), each scored against its own
# German paragraph (correct) and against another paragraph of the same article
# (mismatched, hard: same names and topic). e5's cosine alone separates them almost
# perfectly (correct: median 0.908, 10th percentile 0.875; mismatched: median 0.797, 90th
# percentile 0.833; AUC 0.997), and the anchors, which carried MiniLM, only add noise now:
# one article's paragraphs share their names and numbers (AUC 0.989 at anchor weight 0.05,
# 0.868 at MiniLM's 0.5; at any weight, every threshold keeps fewer correct citations or
# flags fewer mismatched ones than the cosine alone). At 0.85, 98 % of correct citations
# pass and 96 % of mismatched ones are flagged (0.86: 95 % / 98 %); like before, the
# threshold leans towards fewer false alarms. With all-MiniLM-L6-v2 the same measurement
# gave ANCHOR_WEIGHT 0.5 and SUPPORT_THRESHOLD 0.60 (correct median 0.82, mismatched 0.33,
# AUC 0.88); with that model, these numbers flag most cross-lingual citations.
ANCHOR_WEIGHT = 0.0
SUPPORT_THRESHOLD = 0.85

_GROUP = re.compile(r"\[\s*(\d+(?:\s*(?:,|;|-|–|—)\s*\d+)*)\s*\]")
_MAX_RANGE = 50  # `[1-100000]` must not expand into a huge list
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d[^\]]*\])+\s*")
_ONLY_MARKERS = re.compile(r"^(?:\s*\[[^\]]*\]\s*)+[.!?]?$")


@dataclass
class Claim:
    """One sentence of an answer and the source numbers it cites."""

    text: str  # without citation markers
    numbers: list[int]


@dataclass
class Support:
    """How well one source supports the claims that cite it."""

    score: float  # weakest claim's score (every claim must be supported)
    sentences: list[str] = field(default_factory=list)  # the citing claims
    highlight: list[tuple[int, int]] = field(default_factory=list)  # best source sentences


def _parts(body: str) -> list[tuple[int, int]]:
    """(low, high) of each number or range in the inside of one bracket group, in order."""
    out = []
    for part in re.split(r"\s*[,;]\s*", body.strip()):
        bounds = [int(x) for x in re.split(r"\s*[-–—]\s*", part) if x]
        if bounds:
            out.append((min(bounds), max(bounds)))
    return out


def parse_group(body: str) -> list[int]:
    """Numbers in the inside of one bracket group, ranges expanded, order kept, no repeats.

    >>> parse_group("1, 3-5"), parse_group("4-2"), parse_group("2;2")
    ([1, 3, 4, 5], [2, 3, 4], [2])
    """
    out: list[int] = []
    for lo, hi in _parts(body):
        for n in range(lo, min(hi, lo + _MAX_RANGE) + 1):
            if n not in out:
                out.append(n)
    return out


# Private-use stand-ins for the brackets of quoted source text while markers are parsed.
_HIDDEN = str.maketrans("[]", "\ue000\ue001")
_SHOWN = str.maketrans("\ue000\ue001", "[]")
_MIN_CONTEXT = 12  # non-space characters of answer text beside a group that must match


def protect_quoted(text: str, sources: Sequence[str]) -> str:
    """Hide the brackets of groups that repeat source text, so they are not read as markers.

    A group is source text when it stands in a source (whitespace aside) together with the
    _MIN_CONTEXT non-space characters right before it, or right after it, in the answer.

    >>> protect_quoted("Er sagte „siehe Fußnote [12]“ [1].", ["… siehe Fußnote [12] und"])
    'Er sagte „siehe Fußnote \ue00012\ue001“ [1].'
    """
    hay = [" ".join(s.split()) for s in sources]

    def in_source(snippet: str) -> bool:
        norm = " ".join(snippet.split())
        return any(norm in h for h in hay)

    out = text
    for m in _GROUP.finditer(text):
        before, after = _context(text[: m.start()][::-1])[::-1], _context(text[m.end() :])
        if (before and in_source(before + m.group(0))) or (after and in_source(m.group(0) + after)):
            out = out[: m.start()] + m.group(0).translate(_HIDDEN) + out[m.end() :]
    return out


def _context(text: str) -> str:
    """The shortest start of `text` with _MIN_CONTEXT non-space characters ("" if none)."""
    seen = 0
    for i, ch in enumerate(text):
        seen += not ch.isspace()
        if seen == _MIN_CONTEXT:
            return text[: i + 1]
    return ""


def unprotect(text: str) -> str:
    """Undo `protect_quoted`."""
    return text.translate(_SHOWN)


def clean_markers(text: str, n_sources: int) -> tuple[str, list[str]]:
    """Rewrite markers canonically; drop numbers outside 1..n_sources. Returns (text, removed).

    `removed` holds the dropped part of each marker, once per distinct part: `[1-100000]`
    with 6 sources keeps [1, …, 6] and reports `[7-100000]` (ranges are never expanded
    beyond the sources).

    >>> clean_markers("A [1][2]. B [2-3, 9]. C [9]. D [2-100000].", 3)
    ('A [1][2]. B [2, 3]. C. D [2, 3].', ['[9]', '[4-100000]'])
    """
    removed: list[str] = []

    def fix(m: re.Match) -> str:
        keep: list[int] = []
        dropped: list[tuple[int, int]] = []
        for lo, hi in _parts(m.group(1)):
            keep += [n for n in range(max(lo, 1), min(hi, n_sources) + 1) if n not in keep]
            if lo < 1:
                dropped.append((lo, min(hi, 0)))
            if hi > n_sources:
                dropped.append((max(lo, n_sources + 1), hi))
        if dropped:
            label = "[" + ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in dropped) + "]"
            if label not in removed:
                removed.append(label)
        return f"[{', '.join(map(str, keep))}]" if keep else "\x00"

    out = _GROUP.sub(fix, text)
    out = re.sub(r"[ \t]*\x00", "", out)  # a removed marker takes its leading space with it
    return out, removed


def numbers_in(text: str) -> list[int]:
    """Every cited number in order of first appearance."""
    seen: list[int] = []
    for m in _GROUP.finditer(text):
        for n in parse_group(m.group(1)):
            if n not in seen:
                seen.append(n)
    return seen


def renumber(text: str) -> tuple[str, dict[int, int]]:
    """Number the cited sources 1, 2, … in order of first citation. Returns (text, old->new).

    >>> renumber("Erst [3], dann [1, 3] und [5].")
    ('Erst [1], dann [2, 1] und [3].', {3: 1, 1: 2, 5: 3})
    """
    mapping = {old: new for new, old in enumerate(numbers_in(text), 1)}

    def fix(m: re.Match) -> str:
        return "[" + ", ".join(str(mapping[n]) for n in parse_group(m.group(1))) + "]"

    return _GROUP.sub(fix, text), mapping


def strip_markers(text: str) -> str:
    """The text without citation markers.

    >>> strip_markers("Er sagte nein [1, 2].")
    'Er sagte nein.'
    """
    return re.sub(r"\s+([.,;:!?])", r"\1", _GROUP.sub("", text)).strip()


_TRAILING_MARKERS = re.compile(r"(?:\s*\[[^\]]*\])+\s*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'“”«»‚‘’)*_]*$")


def ends_sentence(text: str) -> bool:
    """Does the text end at the end of a sentence (citation markers after it aside)?

    >>> ends_sentence("Nein [1]."), ends_sentence("Nein. [1]"), ends_sentence("Er sagte, dass")
    (True, True, False)
    """
    return bool(_SENTENCE_END.search(_TRAILING_MARKERS.sub("", text.rstrip())))


def claims(text: str, language: str = "en") -> list[Claim]:
    """Sentences of an answer with their citations; a marker-only sentence joins the previous."""
    out: list[Claim] = []
    for start, end in sentence_spans(text, language=language):
        sentence = text[start:end]
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:  # "… troops. [2] Trump …": the marker closes the previous sentence
            out[-1].numbers.extend(n for n in numbers_in(lead.group(0)) if n not in out[-1].numbers)
            sentence = sentence[lead.end() :]
        numbers = numbers_in(sentence)
        if _ONLY_MARKERS.match(sentence) and out:
            out[-1].numbers.extend(n for n in numbers if n not in out[-1].numbers)
            continue
        plain = strip_markers(sentence).lstrip("-*> ").strip()
        if plain:
            out.append(Claim(plain, numbers))
    return out


# --- support ---------------------------------------------------------------------------
_ANCHOR = re.compile(r"\d+(?:[.,]\d+)*|\b[^\W\d_][\w'’-]*", re.UNICODE)


def anchors(text: str) -> set[str]:
    """Numbers and capitalised words (names, acronyms), lower-cased, not sentence-initial.

    >>> sorted(anchors("On Friday Peskow said 26 NATO states agreed."))
    ['26', 'friday', 'nato', 'peskow']
    """
    found: set[str] = set()
    for m in _ANCHOR.finditer(text):
        token = m.group(0)
        if token[0].isdigit():
            found.add(token.replace(",", ".").rstrip("."))
        elif token[0].isupper() and len(token) > 1 and token.lower() not in CAPITALISED_NON_NAMES:
            found.add(token.lower())
    return found


def _stem_hit(anchor: str, haystack: str) -> bool:
    """Anchor present in text, allowing inflection (Peskows, Kremls) and short forms."""
    if anchor[0].isdigit():
        return re.search(rf"(?<![\d.]){re.escape(anchor)}(?![\d])", haystack) is not None
    stem = anchor[: max(4, len(anchor) - 2)] if len(anchor) > 5 else anchor
    return stem in haystack


def anchor_overlap(claim: str, source: str) -> float:
    """Share of the claim's anchors found in the source (1.0 when the claim has none)."""
    wanted = anchors(claim)
    if not wanted:
        return 1.0
    hay = source.lower()
    return sum(_stem_hit(a, hay) for a in wanted) / len(wanted)


Encode = Callable[[Sequence[str]], np.ndarray]


def support_scores(
    claim_texts: Sequence[str],
    source_text: str,
    encode: Encode,
    source_spans: Sequence[tuple[int, int]] | None = None,
    anchor_weight: float = ANCHOR_WEIGHT,
) -> list[tuple[float, tuple[int, int]]]:
    """(support, best source sentence span) for each claim against one source text."""
    spans = list(source_spans) if source_spans is not None else sentence_spans(source_text)
    if not spans:
        spans = [(0, len(source_text))]
    sentences = [source_text[s:e] for s, e in spans]
    vectors = encode(list(claim_texts) + sentences)
    claim_vecs, sent_vecs = vectors[: len(claim_texts)], vectors[len(claim_texts) :]
    sims = claim_vecs @ sent_vecs.T  # normalised vectors: dot = cosine
    out = []
    for i, claim in enumerate(claim_texts):
        j = int(np.argmax(sims[i]))
        # anchors are checked against the whole source: a name may sit in the sentence
        # before the quote it introduces
        score = float(sims[i, j]) + anchor_weight * anchor_overlap(claim, source_text)
        if _verbatim(claim, source_text):
            score = max(score, 1.0 + anchor_weight)
        out.append((round(score, 4), spans[j]))
    return out


def _verbatim(claim: str, source: str) -> bool:
    norm = " ".join(claim.split())
    return len(norm) > 20 and norm in " ".join(source.split())


class CachedEncoder:
    """Wrap an encode function with a bounded text → vector cache (one batch for misses).

    Extractive answers embed every passage sentence; the support check then finds them here.
    """

    def __init__(self, encode: Encode, size: int = 4096) -> None:
        self._encode = encode
        self._size = size
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self._size:
                self._cache.clear()
            self._cache.update(zip(missing, self._encode(missing), strict=True))
        if not texts:
            return self._encode([])
        return np.stack([self._cache[t] for t in texts])
