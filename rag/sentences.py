"""Sentence vectors stored with each chunk: search's second look at its best passages.

A question usually matches one sentence of an 800-character chunk, while the chunk's
vector averages all of them. So the ingest also embeds every sentence of every chunk
and stores the vectors with the chunk, and search re-ranks its best passages by how well
their best sentence matches the question (`rag.retrieve`). On XQuAD with 10kGNAD
distractors this lifts English recall@5 from 0.941 to 0.956 and German recall@1 from
0.933 to 0.944, both held out (`bench/sentence_rerank.py`, docs/benchmarks.md).

The vectors travel in the chunk's own metadata, int8 with one scale per sentence, as a
base64 string: written, replaced and deleted with the chunk in the same call, so they
are exactly as crash-safe as the chunk, and a search reads them with the candidates it
reads anyway. About 2.9 KB per 800-character chunk (5–6 sentences of 384 dimensions).
"""

from __future__ import annotations

import base64

import numpy as np

from rag.text import sentence_spans

MIN_CHARS = 15  # shorter pieces (datelines, "Foto: APA") are not sentences of their own
_SCALE = np.dtype("<f4")


def sentence_texts(text: str) -> list[str]:
    """The sentences of a chunk that get a vector of their own; the whole chunk when it
    has no sentence of MIN_CHARS.

    >>> sentence_texts("Wien. Der Kanzler sagte am Montag, er bleibe im Amt. Foto: APA")
    ['Der Kanzler sagte am Montag, er bleibe im Amt.']
    >>> sentence_texts("Kurz.")
    ['Kurz.']
    """
    found = [text[a:b] for a, b in sentence_spans(text) if b - a >= MIN_CHARS]
    return found or [text]


def pack(vectors: np.ndarray) -> str:
    """Unit vectors (rows) as one ASCII string: per row a float32 scale, then int8 values.

    >>> v = np.array([[0.6, -0.8, 0.0]], dtype=np.float32)
    >>> unpack(pack(v), 3).astype(float).round(2).tolist()
    [[0.6, -0.8, 0.0]]
    """
    rows = np.asarray(vectors, dtype=np.float32)
    scale = (np.abs(rows).max(axis=1, keepdims=True) / 127.0).astype(_SCALE)
    scale[scale == 0] = 1.0
    quantised = np.clip(np.rint(rows / scale), -127, 127).astype(np.int8)
    table = np.hstack([scale.view(np.uint8), quantised.view(np.uint8)])
    return base64.b64encode(table.tobytes()).decode("ascii")


def unpack(blob: str, dim: int) -> np.ndarray:
    """The rows `pack` stored, as float32; an empty array when the string does not hold
    rows of `dim` values (damaged, or written by a model of another size)."""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (ValueError, TypeError):
        return np.zeros((0, dim), dtype=np.float32)
    width = _SCALE.itemsize + dim
    if not raw or len(raw) % width:
        return np.zeros((0, dim), dtype=np.float32)
    table = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    scale = table[:, : _SCALE.itemsize].copy().view(_SCALE)
    values = table[:, _SCALE.itemsize :].copy().view(np.int8).astype(np.float32)
    return values * scale


def best_cosine(blob: object, query: np.ndarray) -> float | None:
    """The best sentence's cosine with the query vector; None without usable vectors."""
    if not isinstance(blob, str) or not blob:
        return None
    rows = unpack(blob, query.shape[0])
    if not len(rows):
        return None
    return float((rows @ query).max())
