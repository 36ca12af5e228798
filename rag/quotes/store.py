"""The statement index: every statement of every indexed article version, in Chroma.

A side index (rag.sidecar) of the chunk collection: the collection
`<Index.current>-quotes` holds one row per statement (its text embedded with the index's
model, exactly as the chunks are, passage prefix included) and one marker row per
article version. `write()` runs the extractor (`rag.quotes.extract.extract`) on the
article text, writes the version's statements and then its marker; the marker is what
`versions()` reports, so a version counts as complete only when all its statements are
in, and an article with no statement at all is complete too. `delete()` removes the
marker first, then the statements, by id (the marker holds the number of statements;
only a version without a marker, left by a killed write, is looked for by a scan). The
store calls both before it writes or deletes the article record, and `reconcile()`
re-writes whatever a killed run left incomplete.

Readers keep a statement only when its article's record names the statement's version
(`committed`), like the chunk search does, and check that its text is still the
article's text at its offsets.

Each statement row's metadata holds the article's (title, date, source, url, version),
the statement's offsets, form, cue, mention and role, and the speaker three ways: as
written (`speaker`), as a name key (`speaker_key`, rag.quotes.names) and as the key of
the surname (`surname_key`, persons only), plus the keys of the speaker's other names in
the article (`alias_keys`, "|"-separated).

Markers record the recipe (`STORE_FORMAT` and the extractor's `VERSION`): a version
written by another recipe counts as missing, so the next ingest extracts it again.

Shortcuts: the suffix is short ("-quotes") so that a rebuild's generation name stays
within Chroma's 63 characters; markers carry a constant unit vector (Chroma wants one
per row) and are never part of a vector query.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag import schema
from rag.quotes import names
from rag.quotes.types import Statement
from rag.sidecar import ArticleVersion, Embed

log = logging.getLogger(__name__)

SUFFIX = "-quotes"

# Metadata keys of statement rows (the article's own keys come from rag.schema).
ROW = "row"  # "statement" or "marker"
SPEAKER = "speaker"
SPEAKER_KEY = "speaker_key"
SURNAME_KEY = "surname_key"
ALIAS_KEYS = "alias_keys"
MENTION = "mention"
ROLE = "role"
KIND = "kind"
FORM = "form"
CUE = "cue"
N_STATEMENTS = "n_statements"  # on markers
RECIPE = "recipe"  # on markers: how the statements were made (see `recipe()`)
# Bump when what is stored for a statement changes (keys, fields); the next ingest then
# re-extracts every article. The extractor's own VERSION counts too.
STORE_FORMAT = 2

STATEMENT, MARKER = "statement", "marker"
_PAGE = 2000
_WRITE_BATCH = 1000
_DETERMINERS = frozenset({"der", "die", "das", "den", "dem", "des", "the"})

Extractor = Callable[[str], list[Statement]]


def collection_name(current: str) -> str:
    """The statement collection of a chunk collection (generation)."""
    return f"{current}{SUFFIX}"


def statement_id(article_id: str, version: str, n: int) -> str:
    """'a.txt#3f9a0c1d2e4b-q0002': article, version, statement number."""
    return f"{article_id}#{version[:12]}-q{n:04d}"


def marker_id(article_id: str, version: str) -> str:
    return f"{article_id}#{version[:12]}-qdone"


def recipe() -> str:
    """'<STORE_FORMAT>/<extractor VERSION>': versions written another way are redone."""
    from rag.quotes import extract

    return f"{STORE_FORMAT}/{getattr(extract, 'VERSION', 0)}"


def speaker_keys(statement: Statement) -> tuple[str, str]:
    """(speaker_key, surname_key) of a statement's speaker; surname only for persons.

    Institutions and unresolved speakers are keyed by their name, else their mention,
    without a leading article ("die Polizei" -> "polisei"). A person left unresolved
    but mentioned by name ("Faymann") is keyed by that name.
    """
    if statement.kind == "person" and statement.speaker:
        return names.full_key(statement.speaker), names.surname_key(statement.speaker)
    if statement.kind == "person" and _is_name(statement.mention):
        return names.full_key(statement.mention), names.surname_key(statement.mention)
    label = statement.speaker or (statement.mention if statement.kind == "institution" else "")
    words = names.name_words(label)
    while words and words[0].lower() in _DETERMINERS:
        words = words[1:]
    return names.full_key(" ".join(words)), ""


_PRONOUNS_ARTICLES = "er sie es man wir ich ihr du der die das dieser diese dieses jener jene"
_NOT_NAMES = frozenset(_PRONOUNS_ARTICLES.split(" "))


def _is_name(mention: str) -> bool:
    """A mention made of one to four capitalised words that are no pronoun or article.

    >>> _is_name("Faymann"), _is_name("Er"), _is_name("der Sprecher"), _is_name("")
    (True, False, False, False)
    """
    words = mention.split()
    return 0 < len(words) <= 4 and all(
        w[:1].isupper() and w.lower() not in _NOT_NAMES for w in words
    )


def default_extractor() -> Extractor:
    """The rules of rag.quotes.extract: what `StatementIndex` extracts with by default."""
    from rag.quotes.extract import extract

    return extract


@dataclass
class StoredStatement:
    """One statement as the index holds it, with the article it belongs to."""

    id: str
    text: str
    speaker: str
    mention: str
    role: str
    kind: str
    form: str
    cue: str
    article_id: str
    version: str
    title: str
    date: str | None
    source: str
    url: str
    start: int
    end: int
    speaker_key: str = ""
    alias_keys: tuple[str, ...] = ()
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # cosine, keyword (topic search)
    vector: np.ndarray | None = None

    @classmethod
    def from_row(cls, id_: str, text: str, meta: dict, vector=None) -> StoredStatement:
        aliases = str(meta.get(ALIAS_KEYS, ""))
        return cls(
            id=id_,
            text=text or "",
            speaker=str(meta.get(SPEAKER, "")),
            mention=str(meta.get(MENTION, "")),
            role=str(meta.get(ROLE, "")),
            kind=str(meta.get(KIND, "unknown")),
            form=str(meta.get(FORM, "")),
            cue=str(meta.get(CUE, "")),
            article_id=str(meta[schema.ARTICLE_ID]),
            version=str(meta.get(schema.VERSION, "")),
            title=str(meta.get(schema.TITLE, "")),
            date=str(meta.get(schema.DATE) or "") or None,
            source=str(meta.get(schema.SOURCE, "")),
            url=str(meta.get(schema.URL, "")),
            start=int(meta[schema.START]),
            end=int(meta[schema.END]),
            speaker_key=str(meta.get(SPEAKER_KEY, "")),
            alias_keys=tuple(a for a in aliases.split("|") if a),
            vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        )

    def to_dict(self) -> dict:
        """The `rag quotes --json` shape of one statement."""
        return {
            "speaker": self.speaker,
            "mention": self.mention,
            "role": self.role,
            "form": self.form,
            "cue": self.cue,
            "text": self.text,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }

    def passage(self) -> schema.Passage:
        """The statement as a retrieved passage: its text and offsets, its article's data."""
        return schema.Passage(
            chunk_id=self.id,
            article_id=self.article_id,
            text=self.text,
            start=self.start,
            end=self.end,
            title=self.title,
            date=self.date,
            source=self.source,
            url=self.url,
            score=self.score,
            scores={"statement": self.score},
            version=self.version,
        )


def statement_rows(
    item: ArticleVersion, statements: Sequence[Statement]
) -> tuple[list[str], list[str], list[dict]]:
    """(ids, texts, metadatas) of one version's statements; statements whose text is not
    the article's text at their offsets are left out (and logged)."""
    article, version = item.article, item.version
    base = article.metadata(version)
    base.pop(schema.PATH, None)
    ids, texts, metas = [], [], []
    for st in statements:
        if not (0 <= st.start < st.end <= len(article.text)) or (
            article.text[st.start : st.end] != st.text
        ):
            log.warning(
                "statement at %d-%d of %s does not match its text", st.start, st.end, article.id
            )
            continue
        key, surname = speaker_keys(st)
        aliases = sorted({names.full_key(a) for a in st.aliases} - {"", key})
        ids.append(statement_id(article.id, version, len(ids)))
        texts.append(st.text)
        metas.append(
            {
                **base,
                ROW: STATEMENT,
                SPEAKER: st.speaker or "",
                SPEAKER_KEY: key,
                SURNAME_KEY: surname,
                ALIAS_KEYS: "|".join(aliases),
                MENTION: st.mention or "",
                ROLE: st.role or "",
                KIND: st.kind,
                FORM: st.form,
                CUE: st.cue or "",
                schema.START: st.start,
                schema.END: st.end,
            }
        )
    return ids, texts, metas


class StatementIndex:
    """The statement side index of one Index (its current generation)."""

    name = "statements"

    def __init__(self, index, extractor: Extractor | None = None) -> None:
        self.index = index
        self._extractor = extractor
        self._ahead: dict[str, list[Statement]] = {}  # see `use_extracted`
        self._handle = None  # (client, collection name, collection)

    # --- the collection ----------------------------------------------------------------
    @property
    def collection_name(self) -> str:
        return collection_name(self.index.current)

    def collection(self, create: bool = True):
        """The statement collection; None when it is missing and `create` is False
        (readers never create it)."""
        name, client = self.collection_name, self.index.client
        if self._handle and self._handle[0] is client and self._handle[1] == name:
            return self._handle[2]
        try:
            col = client.get_collection(name, embedding_function=None)
        except Exception:  # noqa: BLE001 - missing: NotFoundError or ValueError
            if not create:
                return None
            col = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        self._handle = (client, name, col)
        return col

    def extract(self, text: str) -> list[Statement]:
        ahead = self._ahead.pop(text, None)
        if ahead is not None:
            return ahead
        if self._extractor is None:
            self._extractor = default_extractor()
        return self._extractor(text)

    def use_extracted(self, found: Mapping[str, list[Statement]]) -> None:
        """Statements of these texts, extracted ahead of time by this index's extractor
        (e.g. in another process while this one writes: bench/scale.py); the next
        `write()` of such a text takes them instead of extracting again, once."""
        self._ahead.update(found)

    # --- rag.sidecar.Sidecar -------------------------------------------------------------
    def write(self, items: Sequence[ArticleVersion], embed: Embed | None) -> None:
        """Extract and store the statements of these versions, then their markers."""
        if not items:
            return
        col = self.collection()
        # Only a version written before (another recipe) has rows to replace; rows of a
        # killed write of the same version are overwritten (statement ids are stable).
        self._delete_rows(col, [(i.article.id, i.version) for i in items], scan=False)
        ids, texts, metas, done = [], [], [], []
        for item in items:
            try:
                found = self.extract(item.article.text)
            except Exception:  # an extractor bug must not stop the ingest; retried later
                log.exception("statement extraction failed for %s", item.article.id)
                continue
            i, t, m = statement_rows(item, found)
            if t and embed is None:
                continue  # no model to embed with: stays incomplete until a run has one
            ids += i
            texts += t
            metas += m
            done.append((item, len(i)))
        vectors = np.asarray(embed(texts), dtype=np.float32) if texts else None
        for lo in range(0, len(ids), _WRITE_BATCH):
            hi = lo + _WRITE_BATCH
            col.upsert(
                ids=ids[lo:hi],
                embeddings=vectors[lo:hi],
                documents=texts[lo:hi],
                metadatas=metas[lo:hi],
            )
        if done:
            made_by = recipe()
            unit = self._unit_vector(vectors, embed)
            for lo in range(0, len(done), _WRITE_BATCH):
                batch = done[lo : lo + _WRITE_BATCH]
                col.upsert(
                    ids=[marker_id(it.article.id, it.version) for it, _ in batch],
                    embeddings=np.tile(unit, (len(batch), 1)),
                    documents=[""] * len(batch),
                    metadatas=[
                        {
                            ROW: MARKER,
                            schema.ARTICLE_ID: it.article.id,
                            schema.VERSION: it.version,
                            N_STATEMENTS: n,
                            RECIPE: made_by,
                        }
                        for it, n in batch
                    ],
                )
        self.index._wrote()

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove these versions: markers first, so a half-deleted version is incomplete."""
        col = self.collection(create=False)
        if col is None or not keys:
            return
        self._delete_rows(col, keys)
        self.index._wrote()

    def version_count(self) -> int:
        """How many complete versions of the current recipe the index holds (ids only,
        no scan of the statements; see rag.store `Index.reconcile`)."""
        col = self.collection(create=False)
        if col is None:
            return 0
        clause = {"$and": [{ROW: MARKER}, {RECIPE: recipe()}]}
        return len(col.get(where=clause, include=[])["ids"])

    def versions(self) -> set[tuple[str, str]]:
        """(article id, version) of every complete version (those with a marker), made by
        the current recipe: others count as missing and are written again."""
        col = self.collection(create=False)
        if col is None:
            return set()
        current = recipe()
        return {
            (str(m[schema.ARTICLE_ID]), str(m[schema.VERSION]))
            for _id, _doc, m in _scan(col, {ROW: MARKER}, documents=False)
            if m.get(RECIPE) == current
        }

    def drop(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.index.client.delete_collection(self.collection_name)
        self._handle = None
        self.index._wrote()

    # --- reading -----------------------------------------------------------------------
    def rows(
        self, where: dict | None = None, *, vectors: bool = False, documents: bool = True
    ) -> list[StoredStatement]:
        """Statement rows matching `where` (committed or not; see `committed`)."""
        col = self.collection(create=False)
        if col is None:
            return []
        clause = {ROW: STATEMENT} if not where else {"$and": [{ROW: STATEMENT}, where]}
        out = []
        for row in _scan(col, clause, documents=documents, vectors=vectors):
            _id, doc, meta, *vec = row
            out.append(StoredStatement.from_row(_id, doc or "", meta, vec[0] if vec else None))
        return out

    def row_count(self) -> int:
        """Rows stored, statements and markers of all versions (cheap; changes on writes)."""
        col = self.collection(create=False)
        return 0 if col is None else col.count()

    def committed(self, found: Sequence[StoredStatement]) -> list[StoredStatement]:
        """Only statements of the version their article's record names."""
        versions = committed_versions(self.index, sorted({s.article_id for s in found}))
        return [s for s in found if s.version and versions.get(s.article_id) == s.version]

    # --- helpers -----------------------------------------------------------------------
    def _delete_rows(self, col, keys: Sequence[tuple[str, str]], scan: bool = True) -> None:
        """Delete the rows of these versions: markers first, then statements, each in
        batched deletes by id. A version's marker says how many statements it has, so
        their ids are known; versions without a marker (a killed write) are found with a
        filtered scan when `scan`, and have nothing to delete otherwise."""
        wanted = sorted(set(keys))
        markers, rows, unmarked = [], [], []
        for lo in range(0, len(wanted), _WRITE_BATCH):
            batch = wanted[lo : lo + _WRITE_BATCH]
            got = col.get(ids=[marker_id(*k) for k in batch], include=["metadatas"])
            found = {
                (str(m[schema.ARTICLE_ID]), str(m[schema.VERSION])): (i, int(m[N_STATEMENTS]))
                for i, m in zip(got["ids"], got["metadatas"], strict=True)
                if m is not None
            }
            for key in batch:
                if key in found:
                    marker, n = found[key]
                    markers.append(marker)
                    rows += [statement_id(*key, k) for k in range(n)]
                else:
                    unmarked.append(key)
        if scan and unmarked:
            rows += self._unmarked_rows(col, unmarked)
        for ids in (markers, rows):
            for lo in range(0, len(ids), _WRITE_BATCH):
                col.delete(ids=ids[lo : lo + _WRITE_BATCH])

    def _unmarked_rows(self, col, keys: Sequence[tuple[str, str]]) -> list[str]:
        """Ids of the statement rows of these versions, by a filtered scan per batch."""
        wanted = set(keys)
        article_ids = sorted({aid for aid, _ in wanted})
        out = []
        for lo in range(0, len(article_ids), _WRITE_BATCH):
            clause = {schema.ARTICLE_ID: {"$in": article_ids[lo : lo + _WRITE_BATCH]}}
            for _id, _doc, meta in _scan(col, clause, documents=False):
                if (str(meta[schema.ARTICLE_ID]), str(meta.get(schema.VERSION))) in wanted:
                    out.append(_id)
        return out

    def _unit_vector(self, vectors: np.ndarray | None, embed: Embed | None) -> np.ndarray:
        """A constant unit vector of the collection's dimension, for marker rows."""
        dim = None
        if vectors is not None and vectors.size:
            dim = vectors.shape[1]
        dim = dim or self.index.embedding_dim
        if not dim and embed is not None:
            dim = np.asarray(embed(["."])).shape[1]
        unit = np.zeros(dim or 1, dtype=np.float32)
        unit[0] = 1.0
        return unit


def committed_versions(index, article_ids: Sequence[str]) -> dict[str, str]:
    """The version each article's record names, for those that have a record."""
    out: dict[str, str] = {}
    for lo in range(0, len(article_ids), _PAGE):
        got = index.articles.get(ids=list(article_ids[lo : lo + _PAGE]), include=["metadatas"])
        for aid, meta in zip(got["ids"], got["metadatas"], strict=True):
            if meta is not None:
                out[aid] = str(meta.get(schema.VERSION, ""))
    return out


def _scan(col, where: dict, *, documents: bool = True, vectors: bool = False) -> Iterator[tuple]:
    """(id, document, metadata[, vector]) of the rows matching `where`, in pages."""
    include = (
        ["metadatas"] + (["documents"] if documents else []) + (["embeddings"] if vectors else [])
    )
    offset = 0
    while True:
        page = col.get(where=where, include=include, limit=_PAGE, offset=offset)
        ids = page["ids"]
        if not ids:
            return
        docs = page["documents"] if documents else [None] * len(ids)
        for n, _id in enumerate(ids):
            meta = page["metadatas"][n]
            if meta is None:  # deleted by a writer meanwhile
                continue
            row = (_id, docs[n], meta)
            yield (*row, page["embeddings"][n]) if vectors else row
        if len(ids) < _PAGE:
            return
        offset += len(ids)


def make(index) -> StatementIndex:
    """The factory named in rag.sidecar.FACTORIES."""
    return StatementIndex(index)
