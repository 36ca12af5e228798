"""The eval index: a cached Chroma index holding exactly the eval articles.

It is filled by ingest's own core (`ingest.pipeline.sync_articles`), incrementally, so a
second run over the same articles embeds nothing (embedding ~5,000 chunks takes a quarter
of an hour on a small CPU). An index built with another embedding model is rebuilt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence

from ingest.pipeline import sync_articles
from rag.schema import Article
from rag.settings import Settings
from rag.store import Index, ModelMismatch


def open_eval_index(
    settings: Settings,
    articles: Sequence[Article],
    embedder,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> Index:
    """The index in `settings.index_dir` brought up to date with exactly `articles`."""
    index = Index(settings)

    def feed(_summary) -> Iterable[Article]:
        for n, article in enumerate(articles, 1):
            if n % 250 == 0:
                progress(f"  read {n}/{len(articles)} articles")
            yield article

    progress(f"syncing the eval index in {settings.index_dir} ({len(articles)} articles) …")
    try:
        summary = sync_articles(feed, settings, index=index, embedder=embedder)
    except ModelMismatch:
        progress("  the eval index was built with another embedding model: rebuilding")
        summary = sync_articles(feed, settings, index=index, embedder=embedder, rebuild=True)
    progress(
        f"  {len(summary.added)} added, {len(summary.updated)} updated, "
        f"{summary.unchanged} unchanged, {len(summary.removed)} removed, "
        f"{summary.chunks_written} chunks embedded in {summary.seconds:.0f} s"
    )
    return index
