"""Article text -> chunk spans: whole sentences packed up to a target size, with overlap.

A chunk never ends inside a sentence, so quotes and German abbreviations stay intact
(segmentation is rag.text's job). The overlap repeats whole sentences from the end of
the previous chunk, up to `overlap` characters. A single sentence longer than the
target becomes its own chunk, cut at whitespace only when it exceeds twice the target
(tables and lists without punctuation), so no chunk grows without bound.
Spans are (start, end) offsets into the article text; chunk text is text[start:end].
"""

from __future__ import annotations

from rag.text import sentence_spans


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Chunk spans for `text`.

    >>> t = "Eins ist hier. Zwei ist da. Drei ist dort."
    >>> [t[s:e] for s, e in chunk_spans(t, size=30, overlap=14)]
    ['Eins ist hier. Zwei ist da.', 'Zwei ist da. Drei ist dort.']
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
    pieces = []
    while end - start > size:
        cut = text.rfind(" ", start + 1, start + size)
        if cut <= start:
            cut = start + size
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces
