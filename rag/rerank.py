"""Optional cross-encoder reranking of the best fused candidates.

Off unless `RAG_RERANKER_MODEL` names a sentence-transformers CrossEncoder (a hub id or
a local folder), e.g. a multilingual MS MARCO model for German news. A reranker that
cannot be loaded (offline, wrong path) must not take search down: it is reported once as
a warning and search continues with the fused order.

Shortcut: only the first `TOP_N` candidates are scored (a cross-encoder pass costs a
transformer forward per pair); the rest keep their fused order behind them.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence

from rag.schema import Passage

TOP_N = 20
log = logging.getLogger(__name__)


class RerankerUnavailable(UserWarning):
    """The configured reranker could not be loaded; search runs without it."""


class Reranker:
    """Lazily loaded CrossEncoder; disables itself (with one warning) if loading fails."""

    def __init__(self, model_name: str, device: str = "cpu", top_n: int = TOP_N) -> None:
        self.model_name = model_name
        self.device = device
        self.top_n = top_n
        self._model = None
        self._failed = False
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """True once the model loaded (or before the first try)."""
        return not self._failed

    def _load(self):
        with self._lock:
            if self._model is None and not self._failed:
                try:
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(self.model_name, device=self.device)
                except Exception as exc:  # noqa: BLE001 - any load failure means "run without"
                    self._failed = True
                    message = (
                        f"Reranker {self.model_name!r} could not be loaded "
                        f"({exc.__class__.__name__}); searching without reranking. Set "
                        "RAG_RERANKER_MODEL to a local cross-encoder folder, or leave it "
                        "empty to switch reranking off."
                    )
                    log.warning(message)
                    warnings.warn(message, RerankerUnavailable, stacklevel=3)
        return self._model

    def rerank(self, query: str, ranked: Sequence[Passage]) -> list[Passage]:
        """The candidates with the first top_n reordered by cross-encoder score."""
        model = self._load()
        if model is None or not ranked:
            return list(ranked)
        head, tail = list(ranked[: self.top_n]), list(ranked[self.top_n :])
        scores = model.predict([(query, p.text) for p in head], show_progress_bar=False)
        for p, s in zip(head, scores, strict=True):
            p.scores["rerank"] = float(s)
            p.score = float(s)
        head.sort(key=lambda p: -p.scores["rerank"])
        return head + tail
