"""Records shared by ingest, retrieval, answering and the UI, and the one place
where chunk ids and stored metadata field names are defined."""

from __future__ import annotations

from dataclasses import dataclass, field

# Metadata keys stored with every chunk in Chroma (and with every article record).
ARTICLE_ID = "article_id"
TITLE = "title"
DATE = "date"  # ISO YYYY-MM-DD, "" when unknown
DATE_INT = "date_int"  # YYYYMMDD as int for range filters, 0 when unknown
SOURCE = "source"
URL = "url"
PATH = "path"
# The article version (text, metadata, chunk recipe), under the key the first release
# stored it as, so indexes built then keep working.
VERSION = "content_hash"
TEXT_HASH = "text_hash"  # the cleaned text alone, for duplicate detection (article records)
CHUNK_INDEX = "chunk"
N_CHUNKS = "n_chunks"
START = "start"  # character offsets of the chunk in the cleaned article text
END = "end"
TOKENS = "tokens"  # tokens the embedding model was given for the chunk (before its window)
TRUNCATED = "truncated"  # True when that exceeded the model's window (the end was cut off)
SENTENCE_VECTORS = "sentence_vectors"  # the chunk's sentences' vectors (rag.sentences.pack)


def chunk_id(article_id: str, version: str, index: int) -> str:
    """Stable id of one chunk: article id, content version, chunk number.

    >>> chunk_id("000_5949ef0a0ed3a1cb.txt", "3f9a0c1d2e4b5a6c7d8e", 2)
    '000_5949ef0a0ed3a1cb.txt#3f9a0c1d2e4b-0002'
    """
    return f"{article_id}#{version[:12]}-{index:04d}"


def date_to_int(iso_date: str | None) -> int:
    """'2025-09-05' -> 20250905; missing -> 0.

    >>> date_to_int("2025-09-05"), date_to_int(None)
    (20250905, 0)
    """
    return int(iso_date.replace("-", "")) if iso_date else 0


@dataclass(frozen=True)
class Article:
    """One cleaned article as the index knows it."""

    id: str
    text: str
    title: str = ""
    date: str | None = None  # ISO
    source: str = ""
    url: str = ""
    path: str = ""
    version: str = ""  # the committed version this text belongs to ("" when not read back)

    def metadata(self, version: str) -> dict[str, str | int]:
        """Chroma metadata for this article (no None values: Chroma rejects them)."""
        return {
            ARTICLE_ID: self.id,
            TITLE: self.title,
            DATE: self.date or "",
            DATE_INT: date_to_int(self.date),
            SOURCE: self.source,
            URL: self.url,
            PATH: self.path,
            VERSION: version,
        }

    @classmethod
    def from_metadata(cls, text: str, meta: dict) -> Article:
        return cls(
            id=str(meta[ARTICLE_ID]),
            text=text,
            title=str(meta.get(TITLE, "")),
            date=str(meta.get(DATE) or "") or None,
            source=str(meta.get(SOURCE, "")),
            url=str(meta.get(URL, "")),
            path=str(meta.get(PATH, "")),
            version=str(meta.get(VERSION, "")),
        )


@dataclass
class Passage:
    """One retrieved chunk: its text, where it sits in its article, and how it scored."""

    chunk_id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str = ""
    date: str | None = None
    source: str = ""
    url: str = ""
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # per signal: dense, bm25, fused, …
    version: str = ""  # the article version the chunk belongs to (its record's, when served)

    @classmethod
    def from_chroma(cls, chunk_id_: str, text: str, meta: dict, score: float = 0.0) -> Passage:
        return cls(
            chunk_id=chunk_id_,
            article_id=str(meta[ARTICLE_ID]),
            text=text,
            start=int(meta[START]),
            end=int(meta[END]),
            title=str(meta.get(TITLE, "")),
            date=str(meta.get(DATE) or "") or None,
            source=str(meta.get(SOURCE, "")),
            url=str(meta.get(URL, "")),
            score=score,
            version=str(meta.get(VERSION, "")),
        )
