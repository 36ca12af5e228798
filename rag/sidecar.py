"""Side indexes kept in step with the chunks of each article version.

The keyword index and the statement index are derived from an article version like its
chunks are, and follow the same crash-safe rules (rag/store.py):

- writing: every side index is written *before* the article record (the commit point);
- deleting: every side index is deleted *before* the record;
- reading: only entries whose (article id, version) is the committed record's count;
- repair: `Index.reconcile()` asks each side index which versions it holds, deletes those
  no record names, and re-writes committed versions it lacks (also how a side index added
  to an existing index is back-filled);
- generations: a side index belongs to one chunk collection (`Index.current`); a rebuild
  aside builds new ones and `Index.switch_to()` drops the replaced ones.

A side index is made by a factory `make(index) -> Sidecar`, named in `FACTORIES` as
"module:callable" and imported lazily (so rag.store does not import the side indexes).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag import schema

if TYPE_CHECKING:
    from rag.store import Index

# Encodes passages with the index's embedding model (None when no model is loaded).
Embed = Callable[[list[str]], np.ndarray]

FACTORIES: list[str] = [
    "rag.keyword:make",  # the BM25 keyword index (Tantivy, article table in SQLite)
    "rag.quotes.store:make",  # the statement index (who said what)
]


@dataclass(frozen=True)
class ArticleVersion:
    """One article version as written to the index: its chunks' ids, spans and metadata."""

    article: schema.Article
    version: str
    chunk_ids: Sequence[str]
    spans: Sequence[tuple[int, int]]  # (start, end) of each chunk in article.text
    chunk_meta: Sequence[dict] = field(default_factory=list)  # as stored in Chroma


class Sidecar(Protocol):
    name: str

    def write(self, items: Sequence[ArticleVersion], embed: Embed | None) -> None:
        """Add these versions (replacing whatever the side index held for them)."""

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove the entries of these (article id, version) pairs."""

    def versions(self) -> set[tuple[str, str]]:
        """Every (article id, version) whose entries are completely written."""

    def drop(self) -> None:
        """Remove the whole side index (its generation was replaced)."""


def make_all(index: Index) -> list[Sidecar]:
    """One instance of every registered side index for `index`'s current generation."""
    out = []
    for spec in FACTORIES:
        module, _, attr = spec.partition(":")
        out.append(getattr(importlib.import_module(module), attr)(index))
    return out
