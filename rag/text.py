"""Sentence segmentation with character offsets, for German and English news text.

pysbd's rule set knows German abbreviations ("z. B.", "Dr.", "u. a."), ordinal dates
("am 5. September") and quotes („…“), which generic splitters cut. pysbd is slow on
very long inputs, so text is segmented paragraph by paragraph (blank-line separated).
Offsets are recovered by searching each sentence in the text rather than trusting
pysbd's own spans, which drift when a sentence repeats.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PARAGRAPH = re.compile(r"\n\s*\n")
_MAX_PIECE = 20_000  # characters handed to pysbd at once (it is superlinear in length)


@lru_cache(maxsize=4)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank paragraph.

    >>> paragraph_spans("Eins.\\n\\nZwei.")
    [(0, 5), (7, 12)]
    """
    spans, pos = [], 0
    for m in _PARAGRAPH.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def sentence_spans(text: str, language: str = "de") -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, whitespace excluded, in order.

    >>> t = "Das ist z. B. ein Test. Dr. Müller kam am 5. September."
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Das ist z. B. ein Test.', 'Dr. Müller kam am 5. September.']
    """
    spans: list[tuple[int, int]] = []
    for p_start, p_end in paragraph_spans(text):
        for piece_start, piece_end in _pieces(text, p_start, p_end):
            spans.extend(_segment(text, piece_start, piece_end, language))
    return spans


def sentences(text: str, language: str = "de") -> list[str]:
    """The sentences of `text` as strings."""
    return [text[s:e] for s, e in sentence_spans(text, language)]


def _segment(text: str, start: int, end: int, language: str) -> list[tuple[int, int]]:
    piece = text[start:end]
    out, pos = [], 0
    for sent in _segmenter(language).segment(piece):
        core = sent.strip()
        if not core:
            continue
        found = piece.find(core, pos)
        if found < 0:  # pysbd altered the text; fall back to the rest of the piece
            out.append(_strip(text, start + pos, end))
            return out
        out.append((start + found, start + found + len(core)))
        pos = found + len(core)
    return out


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut an overlong paragraph at whitespace after a full stop, so pysbd stays fast."""
    pieces = []
    while end - start > _MAX_PIECE:
        cut = text.rfind(". ", start, start + _MAX_PIECE)
        cut = cut + 1 if cut > start else start + _MAX_PIECE
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return [_strip(text, s, e) for s, e in pieces if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
