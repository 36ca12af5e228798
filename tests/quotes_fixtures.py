"""Statements of the sample article, written down by hand from its text, and a sample
index that holds them: the statement index's tests do not depend on how well the
extractor works (it has its own tests), only on the Statement record.

Each statement is given by the phrases it starts and ends with; `hand_extractor` finds
them in whatever text it is given (so it also works on an edited copy of the article)
and skips those that are gone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from rag.quotes.types import Statement


@dataclass(frozen=True)
class Spec:
    first: str  # the statement starts with this
    last: str  # and ends with this
    form: str
    cue: str
    mention: str
    speaker: str | None
    role: str | None = None
    kind: str = "person"
    aliases: tuple[str, ...] = ()


PESKOW = dict(speaker="Dmitri Peskow", role="Kreml-Sprecher", aliases=("Peskow",))
SELENSKYJ = dict(speaker="Wolodymyr Selenskyj", role="Präsident", aliases=("Selenskyj",))
WADEPHUL = dict(speaker="Johann Wadephul", role="Außenminister", aliases=("Wadephul",))

SAMPLE = (
    Spec(
        "eine Entsendung von Soldaten",
        "langfristigen Frieden sei",
        "indirect",
        "hob hervor",
        "Putin",
        "Putin",
    ),
    Spec("„Wir betrachten dies", "unserer Grenzen“", "direct", "sagte", "er", **PESKOW),
    Spec("Die NATO sehe Russland", "festgeschrieben.", "indirect", "sagte", "", **PESKOW),
    Spec("„Das ist gefährlich", "unser Land“", "direct", "betonte", "Peskow", **PESKOW),
    Spec(
        "der seit mehr als dreieinhalb",
        "Grenzen Russlands habe",
        "indirect",
        "erinnerte daran",
        "Peskow",
        **PESKOW,
    ),
    Spec(
        "Die Sicherheit der Ukraine, die",
        "gewährleistet werden",
        "indirect",
        "sagte",
        "Peskow",
        **PESKOW,
    ),
    Spec("„Man kann nicht die Sicherheit", "näherzukommen“", "direct", "sagte", "Peskow", **PESKOW),
    Spec(
        "Ein Kriegsziel Russlands",
        "zu verhindern.",
        "reported",
        "nach Kreml-Angaben",
        "Kreml",
        "Kreml",
        kind="institution",
    ),
    Spec(
        "die Stationierung von Tausenden",
        "Soldaten diskutiert",
        "reported",
        "nach den Worten von",
        "Präsident Wolodymyr Selenskyj",
        **SELENSKYJ,
    ),
    Spec("„Ja, es werden definitiv", "ein paar“", "direct", "sagte", "er", **SELENSKYJ),
    Spec(
        "„Sieht so aus",
        "Zukunft zusammen haben!“",
        "direct",
        "schrieb",
        "Trump",
        "Donald Trump",
        "US-Präsident",
        aliases=("Trump",),
    ),
    Spec(
        "Er habe keinen Zweifel",
        "Gipfeltreffen in Alaska",
        "indirect",
        "sagt",
        "Kreml-Sprecher Dmitri Peskow",
        **PESKOW,
    ),
    Spec("Wenn sich Selenskyj mit ihm", "zu viel verlangt", "indirect", "sagte", "Putin", "Putin"),
    Spec("„Der beste Ort dafür", "Heldenstadt Moskau“", "direct", "sagte", "er", "Putin"),
    Spec(
        "„Wir müssen über neue Waffensysteme",
        "beschaffen kann“",
        "direct",
        "sagte",
        "Wadephul",
        **WADEPHUL,
    ),
    Spec(
        "„Es gibt fast nichts", "nicht braucht“", "direct", "sagte", "der CDU-Politiker", **WADEPHUL
    ),
)


def span(text: str, first: str, last: str) -> tuple[int, int] | None:
    """Offsets of the text from `first` to the end of the next `last`, or None."""
    start = text.find(first)
    if start < 0:
        return None
    end = text.find(last, start)
    return None if end < 0 else (start, end + len(last))


def statements_in(text: str, specs=SAMPLE) -> list[Statement]:
    out = []
    for spec in specs:
        where = span(text, spec.first, spec.last)
        if where is None:
            continue
        start, end = where
        out.append(
            Statement(
                start=start,
                end=end,
                text=text[start:end],
                form=spec.form,
                cue=spec.cue,
                cue_spans=(),
                mention=spec.mention,
                mention_span=None,
                speaker=spec.speaker,
                role=spec.role,
                kind=spec.kind,
                aliases=spec.aliases,
            )
        )
    return out


def hand_extractor(text: str) -> list[Statement]:
    """The sample article's statements as written down above (an extractor's signature)."""
    return statements_in(text)


def write_statements(index, embedder, extractor=hand_extractor) -> None:
    """Fill the statement index of `index` for every committed article."""
    from rag.quotes.store import StatementIndex
    from rag.sidecar import ArticleVersion

    store = StatementIndex(index, extractor=extractor)
    items = []
    for aid, rec in index.records().items():
        article = index.get_article(aid)
        items.append(ArticleVersion(article=article, version=rec.version, chunk_ids=(), spans=()))
    store.write(items, embedder.encode_passages)


@pytest.fixture(scope="session")
def quotes_index_dir(sample_index_dir, tmp_path_factory, embedder):
    """The sample index with the hand-written statements (read-only; copy to write)."""
    from rag.settings import Settings
    from rag.store import Index

    folder = tmp_path_factory.mktemp("quotes-index") / "index"
    shutil.copytree(sample_index_dir, folder)
    index = Index(Settings(_env_file=None, index_dir=folder))
    write_statements(index, embedder)
    return folder


@pytest.fixture
def quotes_settings(tmp_path, quotes_index_dir, make_settings):
    """Settings pointing at a private copy of the sample index with statements."""
    copy = tmp_path / "quotes-index"
    shutil.copytree(quotes_index_dir, copy)
    return make_settings(index_dir=copy)
