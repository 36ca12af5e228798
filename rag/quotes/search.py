"""Finding statements: who is quoted (the speaker directory), and what one person said,
on a topic and in a date range.

`StatementSearch.search(name, about=…)`:
1. the name is matched against the speaker directory (rag.quotes.names: spelling
   variants, surname alone, possessives; institutions by their full name only), which
   gives the speaker keys to fetch;
2. their statements come from the statement index, filtered by date/source in Chroma,
   and are kept only when their article's record names their version;
3. with a topic, each statement is scored by how much closer it is to the topic than
   everyday sentences are (a z-score, see ON_TOPIC_Z) plus `KEYWORD_Z ×` the share of
   the topic's stemmed words it contains (English or German topic: the model is
   multilingual, and the stems catch names and shared words such as "NATO"); without a
   topic, statements come newest first;
4. the statements returned are checked against their articles' stored text (`text` is
   exactly the text at `start`..`end`).

The directory (one entry per speaker: spellings, counts, first and last date) is built
from the statement rows and cached per index state (`Index.fingerprint()` plus the
statement count), so repeated searches only fetch one person's rows.

A full name also finds statements whose speaker the article names too briefly to tell
("Ban" for "Ban Ki-moon", "Knirps Dudamel" for "Gustavo Dudamel"), but only in articles
that write the full name (`names.shares_a_name`, `names.name_in`); the statement then
names the speaker as the article writes the full name.

Shortcuts: a person's statements are all scored (no vector pre-selection), which is fast
for the hundreds one person has in a newsroom archive, not for millions; a surname-only
speaker ("Peskow", in an article that never gives the first name) is merged with the one
full-name speaker of that surname, and stays apart when there are several.
"""

from __future__ import annotations

import difflib
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag import schema
from rag.keyword import tokenize
from rag.quotes import names
from rag.quotes.store import StatementIndex, StoredStatement

# Topic relevance. Absolute cosines say little with multilingual-e5-small: a one- or
# two-word topic is 0.78-0.81 similar to almost any statement ("Fußball" to a statement
# about NATO troops: 0.81; "security guarantees" to one about them: 0.78). So a topic's
# cosine to a statement is measured against its cosines to BACKGROUND, everyday news
# sentences on unrelated subjects: z = (cosine - their mean) / their spread. On the
# sample article, statements on the topic reach z 2.5-5; unrelated topics ("economy",
# "Inflation", "Fußball") stay below 1.6 with every statement. The line sits between.
ON_TOPIC_Z = 2.0
KEYWORD_Z = 2.0  # a statement holding all the topic's words gains this much
BACKGROUND = (
    "Die Inflation ist im Oktober leicht gestiegen, teilte das Statistikamt mit.",
    "Der Verein gewann das Heimspiel mit zwei zu null.",
    "Am Wochenende wird in den Alpen Schnee erwartet.",
    "Die Polizei sucht nach Zeugen eines Einbruchs in der Innenstadt.",
    "Das Unternehmen will im kommenden Jahr 500 Stellen abbauen.",
    "Die Ausstellung im Museum zeigt Werke aus drei Jahrhunderten.",
    "Der Gemeinderat beschloss ein neues Budget für Schulen.",
    "Die Ärzte warnen vor einer neuen Grippewelle.",
    "Die Bahn kündigte Verspätungen wegen Bauarbeiten an.",
    "Der Film gewann den Preis für die beste Regie.",
    "Die Regierung plant eine Reform der Pensionen.",
    "Die Börsenkurse gaben nach der Zinsentscheidung nach.",
    "Der Angeklagte bestreitet die Vorwürfe vor Gericht.",
    "Die Forscher entdeckten eine neue Art von Fröschen.",
    "Die Mieten in den Städten steigen weiter.",
    "Der Trainer zeigte sich mit der Leistung seiner Mannschaft zufrieden.",
    "Die Universität erhält mehr Geld für die Forschung.",
    "Bei dem Unfall auf der Autobahn wurden drei Menschen verletzt.",
    "Die Partei verlor bei der Landtagswahl deutlich.",
    "Das Konzert musste wegen eines Unwetters abgesagt werden.",
    "Wir haben alles getan, was wir konnten.",
    "Das ist ein großer Erfolg für unser Land.",
    "Wir werden die Gespräche fortsetzen.",
    "Die Lage ist sehr ernst.",
)


@dataclass
class Speaker:
    """One quoted speaker: the name most often written, its spellings and numbers."""

    name: str
    key: str
    kind: str
    count: int = 0
    first_date: str | None = None
    last_date: str | None = None
    role: str = ""
    spellings: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)  # speaker keys merged into this entry

    def to_dict(self) -> dict:
        return {
            "speaker": self.name,
            "kind": self.kind,
            "role": self.role,
            "count": self.count,
            "first_date": self.first_date,
            "last_date": self.last_date,
        }

    def matches(self, query: names.NameQuery) -> bool:
        return any(query.matches(n, self.kind) for n in self.spellings)


@dataclass
class Result:
    """What `search` found: the speakers the name matched and their statements."""

    query: str
    speakers: list[Speaker]
    statements: list[StoredStatement]
    total: int  # statements that matched before the limit

    def to_dict(self) -> dict:
        """The `rag quotes --json` shape."""
        return {"speaker": self.query, "statements": [s.to_dict() for s in self.statements]}


def build_directory(rows: Sequence[StoredStatement]) -> list[Speaker]:
    """Speakers of committed statement rows, most quoted first.

    Rows of one speaker key form one entry; a person known only by the surname is merged
    into the single full-name person with that surname (left apart when there are more).
    """
    groups: dict[tuple[str, str], list[StoredStatement]] = {}
    for row in rows:
        if row.speaker_key and row.kind in ("person", "institution"):
            groups.setdefault((row.kind, row.speaker_key), []).append(row)
    by_surname: dict[str, list[tuple[str, str]]] = {}
    for kind, key in groups:
        if kind == "person" and " " in key:
            by_surname.setdefault(key.split()[-1], []).append((kind, key))
    for kind, key in list(groups):
        if kind == "person" and " " not in key and len(by_surname.get(key, ())) == 1:
            groups.setdefault(by_surname[key][0], []).extend(groups.pop((kind, key)))
    out = [_speaker(kind, key, members) for (kind, key), members in groups.items()]
    return sorted(out, key=lambda s: (-s.count, s.name.lower()))


def _speaker(kind: str, key: str, rows: list[StoredStatement]) -> Speaker:
    spelled = Counter(r.speaker or r.mention for r in rows)
    full = [n for n, _ in spelled.most_common() if names.full_key(n) == key]
    dates = sorted(r.date for r in rows if r.date)
    roles = Counter(r.role for r in rows if r.role)
    return Speaker(
        name=(full or [spelled.most_common(1)[0][0]])[0],
        key=key,
        kind=kind,
        count=len(rows),
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        role=roles.most_common(1)[0][0] if roles else "",
        spellings=set(spelled),
        keys={r.speaker_key for r in rows},
    )


def topic_share(topic_terms: Sequence[str], text: str) -> float:
    """Share of the topic's stemmed words found in the text.

    >>> topic_share(tokenize("NATO troops"), "Truppen aus NATO-Staaten")
    0.5
    """
    if not topic_terms:
        return 0.0
    words = set(tokenize(text))
    return sum(t in words for t in topic_terms) / len(topic_terms)


class StatementSearch:
    """Searches one Index's statements; `embedder` (the index's model, loaded on the
    first topic search when not given) scores topics."""

    def __init__(self, index, embedder=None, *, settings=None) -> None:
        self.index = index
        self._embedder = embedder
        self._settings = settings
        self.statements = StatementIndex(index)
        self._directory: tuple[str, list[Speaker], dict[str, list[Speaker]]] | None = None
        self._background: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings, *, index=None, embedder=None) -> StatementSearch:
        from rag.store import Index

        index = index if index is not None else Index(settings)
        return cls(index, embedder, settings=settings)

    @property
    def embedder(self):
        if self._embedder is None:
            from rag.embeddings import Embedder

            settings = self._settings or self.index.settings
            model = Embedder.from_settings(settings, built_with=self.index.embedding_model)
            self.index.check_model(model.model_id, model.dimension)
            self._embedder = model
        return self._embedder

    # --- who is quoted -----------------------------------------------------------------
    def directory(self) -> list[Speaker]:
        """Every speaker with committed statements, most quoted first (cached)."""
        return self._load()[0]

    def _load(self) -> tuple[list[Speaker], dict[str, list[Speaker]]]:
        """The directory and, per name word key, the speakers with that word in a name."""
        state = f"{self.index.fingerprint()}:{self.index.current}:{self.statements.row_count()}"
        with self._lock:
            if self._directory and self._directory[0] == state:
                return self._directory[1], self._directory[2]
        rows = self.statements.committed(self.statements.rows(documents=False))
        speakers = build_directory(rows)
        by_word: dict[str, list[Speaker]] = {}
        for s in speakers:
            for word in {w for n in s.spellings for w in names.full_key(n).split()}:
                by_word.setdefault(word, []).append(s)
        with self._lock:
            self._directory = (state, speakers, by_word)
        return speakers, by_word

    def _candidates(self, name: str, words: str = "last", loaded=None) -> list[Speaker]:
        """Speakers sharing the last word (or, with words="all", any word) of a spelling
        of `name`, in directory order (`loaded`: `_load()`'s result, if at hand)."""
        speakers, by_word = loaded or self._load()
        found: set[int] = set()
        for variant in names.NameQuery(name).variants:
            keys = names.full_key(variant).split()
            for key in keys[-1:] if words == "last" else keys:
                found.update(id(s) for s in by_word.get(key, ()))
        return [s for s in speakers if id(s) in found]

    def speakers(self, name: str, loaded=None) -> list[Speaker]:
        """The speakers `name` may mean, most quoted first."""
        query = names.NameQuery(name)
        return [s for s in self._candidates(name, loaded=loaded) if s.matches(query)]

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Names in the index spelled like `name` (for "did you mean")."""
        key = names.full_key(name)
        by_key = {}
        for s in self.directory():
            by_key.setdefault(s.key, s.name)
            by_key.setdefault(s.key.split()[-1] if s.key else "", s.name)
        close = difflib.get_close_matches(key, [k for k in by_key if k], n=n, cutoff=0.7)
        return list(dict.fromkeys(by_key[k] for k in close))

    # --- what they said ----------------------------------------------------------------
    def search(
        self,
        name: str,
        about: str | None = None,
        filters=None,
        limit: int | None = 20,
        verify: bool = True,
    ) -> Result:
        """`name`'s statements: best matches for `about` first, else newest first.

        With `verify=False` the texts are not checked against the articles here (the
        caller checks the few it shows with `verified`)."""
        loaded = self._load()
        speakers = self.speakers(name, loaded)
        weak = self._weak_speakers(name, speakers, loaded)
        kinds = {(s.kind, k) for s in speakers + weak for k in s.keys}
        if not kinds:
            return Result(name, [], [], 0)
        where: list[dict] = [{"speaker_key": {"$in": sorted({k for _, k in kinds})}}]
        extra = filters.where() if filters is not None else None
        if extra:
            where.append(extra)
        topic = (about or "").strip()
        rows = self.statements.rows(
            where[0] if len(where) == 1 else {"$and": where}, vectors=bool(topic)
        )
        rows = [r for r in rows if (r.kind, r.speaker_key) in kinds]
        rows = self.statements.committed(rows)
        if weak:
            rows, confirmed = self._confirm_weak(name, speakers, rows)
            speakers = speakers + [s for s in weak if s.key in confirmed]
            if not speakers:
                return Result(name, [], [], 0)
        if topic:
            self._score(rows, topic)
            rows.sort(key=lambda r: (-r.score, r.date or "", r.article_id, r.start))
        else:
            rows.sort(key=lambda r: (r.date or "", r.article_id, -r.start), reverse=True)
        total = len(rows)
        shown = rows[:limit] if limit else rows
        if verify:
            shown = verified(self.index, shown)
        for r in shown:
            r.vector = None
        return Result(name, speakers, shown, total)

    def _weak_speakers(self, name: str, strong: list[Speaker], loaded=None) -> list[Speaker]:
        """Persons who may be `name` but say too little to tell (`names.shares_a_name`)."""
        taken = {s.key for s in strong}
        return [
            s
            for s in self._candidates(name, words="all", loaded=loaded)
            if s.kind == "person"
            and s.key not in taken
            and any(names.shares_a_name(name, n) for n in s.spellings)
        ]

    def _confirm_weak(self, name: str, strong: list[Speaker], rows: list[StoredStatement]):
        """Keep a weak speaker's statements only in articles that write `name` in full,
        named as the article writes it; returns (rows kept, weak speaker keys confirmed)."""
        strong_keys = {k for s in strong for k in s.keys}
        unsure = sorted({r.article_id for r in rows if r.speaker_key not in strong_keys})
        texts = _article_texts(self.index, unsure)
        written = {aid: names.name_in(texts.get(aid, ""), name) for aid in unsure}
        kept = []
        for r in rows:
            if r.speaker_key not in strong_keys:
                if not written.get(r.article_id):
                    continue
                r.speaker = written[r.article_id]
            kept.append(r)
        return kept, {r.speaker_key for r in kept if r.speaker_key not in strong_keys}

    def _score(self, rows: list[StoredStatement], topic: str) -> None:
        """Score rows against the topic: z of the cosine over BACKGROUND, plus keywords."""
        if not rows:
            return
        terms = tokenize(topic)
        query = np.asarray(self.embedder.encode_queries([topic])[0], dtype=np.float32)
        if self._background is None:
            self._background = np.asarray(
                self.embedder.encode_passages(list(BACKGROUND)), dtype=np.float32
            )
        base = self._background @ query
        mean, spread = float(base.mean()), max(float(base.std()), 1e-3)
        vectors = [r.vector if r.vector is not None else np.zeros_like(query) for r in rows]
        cosines = np.vstack(vectors) @ query
        for row, cos in zip(rows, cosines, strict=True):
            share = topic_share(terms, row.text)
            z = (float(cos) - mean) / spread
            row.score = z + KEYWORD_Z * share
            row.scores = {"cosine": float(cos), "z": z, "keyword": share}


def on_topic(statement: StoredStatement) -> bool:
    """Whether a statement scored by `search(about=…)` is about the topic."""
    scores = statement.scores
    return scores.get("keyword", 0.0) > 0 or scores.get("z", 0.0) >= ON_TOPIC_Z


def _article_records(index, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(text, version) of the articles with these ids that have a record."""
    out: dict[str, tuple[str, str]] = {}
    for lo in range(0, len(ids), 500):
        got = index.articles.get(ids=list(ids[lo : lo + 500]), include=["documents", "metadatas"])
        for aid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            if meta is not None:
                out[aid] = (doc or "", str(meta.get(schema.VERSION, "")))
    return out


def _article_texts(index, ids: Sequence[str]) -> dict[str, str]:
    return {aid: text for aid, (text, _v) in _article_records(index, ids).items()}


def verified(index, rows: list[StoredStatement]) -> list[StoredStatement]:
    """Rows whose text is their article's stored text at their offsets."""
    records = _article_records(index, sorted({r.article_id for r in rows}))
    out = []
    for r in rows:
        text, version = records.get(r.article_id, ("", ""))
        if version == r.version and text[r.start : r.end] == r.text:
            out.append(r)
    return out
