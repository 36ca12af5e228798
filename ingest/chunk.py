"""Article text -> chunk spans: whole sentences packed up to a target size, with overlap.

A chunk never ends inside a sentence, so quotes and German abbreviations stay intact
(segmentation is rag.text's job). The overlap repeats whole sentences from the end of
the previous chunk, up to `overlap` characters. A single sentence longer than the
target becomes its own chunk, cut at whitespace only when it exceeds twice the target
(tables and lists without punctuation), so no chunk grows without bound.
Spans are (start, end) offsets into the article text; chunk text is text[start:end].

The size is in characters, but the embedding model reads tokens and silently cuts off
what exceeds its window. `fits(start, end)` says whether a span fits, measured on what
is really embedded (title, prefix, text: see `token_fits`); a chunk that does not fit
takes fewer sentences, and a sentence that does not fit alone is cut at whitespace
(within a word only when one word alone is too long). Shortcut: `fits` is assumed to
be monotonic (a shorter span never needs more tokens), true for subword tokenizers.
"""

from __future__ import annotations

from collections.abc import Callable

from rag.text import sentence_spans

Fits = Callable[[int, int], bool]  # (start, end) -> whether text[start:end] fits the model


def token_fits(text: str, title: str, model) -> Fits:
    """`fits` for the chunks of one article: whether what `model.encode_passages` embeds
    for text[start:end] (title line, passage prefix and chunk) is within its window."""
    from rag.embeddings import passage_for_embedding

    return lambda start, end: model.fits(passage_for_embedding(title, text[start:end]))


def chunk_spans(
    text: str, size: int, overlap: int, fits: Fits | None = None
) -> list[tuple[int, int]]:
    """Chunk spans for `text`, each within `size` characters and, if given, `fits`.

    >>> t = "Eins ist hier. Zwei ist da. Drei ist dort."
    >>> [t[s:e] for s, e in chunk_spans(t, size=30, overlap=14)]
    ['Eins ist hier. Zwei ist da.', 'Zwei ist da. Drei ist dort.']
    >>> at_most_4_words = lambda s, e: len(t[s:e].split()) <= 4
    >>> [t[s:e] for s, e in chunk_spans(t, size=30, overlap=0, fits=at_most_4_words)]
    ['Eins ist hier.', 'Zwei ist da.', 'Drei ist dort.']
    """
    sentences = [piece for s, e in sentence_spans(text) for piece in _split_long(text, s, e, size)]
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        start = sentences[i][0]
        j = i
        # take sentences while the chunk stays within size (always at least one)
        while j + 1 < len(sentences) and sentences[j + 1][1] - start <= size:
            j += 1
        if fits is not None:
            while j > i and not fits(start, sentences[j][1]):
                j -= 1  # fewer sentences
            if j == i and not fits(*sentences[i]):
                pieces = _split_to_fit(text, *sentences[i], fits)
                if len(pieces) > 1:
                    sentences[i : i + 1] = pieces
                    continue  # pack again from the first piece
        chunks.append((start, sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        # next chunk starts with the trailing sentences of this one that fit in `overlap`
        k = j + 1
        while k - 1 > i and sentences[j][1] - sentences[k - 1][0] <= overlap:
            k -= 1
        i = k
    return chunks


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than 2*size at whitespace into pieces of at most `size`."""
    if end - start <= 2 * size:
        return [(start, end)]

    def next_cut(at: int) -> int | None:
        if end - at <= size:
            return None
        cut = text.rfind(" ", at + 1, at + size)
        return cut if cut > at else at + size

    return _pieces(text, start, end, next_cut)


def _split_to_fit(text: str, start: int, end: int, fits: Fits) -> list[tuple[int, int]]:
    """Cut one span into pieces that each fit: the longest fitting prefix ending at a word,
    else (one word too long) at a character; a span whose smallest piece cannot fit
    (the title alone fills the window) stays whole."""

    def next_cut(at: int) -> int | None:
        if fits(at, end):
            return None
        words = [k for k in range(at + 1, end) if text[k].isspace() and not text[k - 1].isspace()]
        cut = _longest_fitting(at, words, fits)
        if cut is None:  # a single word is too long: cut inside it
            cut = _longest_fitting(at, list(range(at + 1, end)), fits)
        return cut

    return _pieces(text, start, end, next_cut)


def _pieces(
    text: str, start: int, end: int, next_cut: Callable[[int], int | None]
) -> list[tuple[int, int]]:
    """Spans from `start` to `end`, cut where `next_cut(piece start)` says (None: the rest
    is one piece), whitespace between pieces left out."""
    pieces = []
    while start < end:
        cut = next_cut(start)
        if cut is None:
            break
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _longest_fitting(start: int, ends: list[int], fits: Fits) -> int | None:
    """The largest of the sorted `ends` with fits(start, end), by bisection; None if none."""
    lo, hi, best = 0, len(ends) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(start, ends[mid]):
            best, lo = ends[mid], mid + 1
        else:
            hi = mid - 1
    return best
