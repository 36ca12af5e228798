"""Example questions for an empty chat, drawn from what the index holds.

Three questions a journalist can click to see what the archive answers:

1. about the person quoted most often in the latest articles ("What did Dmitri Peskow
   say?"), and the second one when there is one;
2. about the newest article, named by its day and title ("What was reported on
   5 September 2025 about …?"), asked with the date filter set to that day;
3. about the second most quoted person, or else the title of another recent article.

Who is quoted is read from the statement index (`rag.quotes.search`, filled by the
ingest) when it holds statements, else guessed from the text: a capitalised name right before or
after a speech verb ("betonte Peskow", "Peskow sagte"), counted only when the same
surname is introduced somewhere with a first name ("Dmitri Peskow") — newsroom style
names a person in full once, which tells names from capitalised German nouns
("Die Regierung sagte"). A shortcut, not named-entity recognition: a guess that fails
simply yields fewer person questions.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from desk.i18n import long_date, translator

log = logging.getLogger("newsroom.examples")

STRINGS = {
    "person": ("What did {name} say?", "Was sagte {name}?"),
    "day": (
        "What was reported on {day} about “{title}”?",
        "Was wurde am {day} über „{title}“ berichtet?",
    ),
    "title": ("What does the article “{title}” report?", "Was berichtet der Artikel „{title}“?"),
}
t = translator(STRINGS)

RECENT_ARTICLES = 40  # how many of the newest articles are read for names
TITLE_CHARS = 70

_SPEECH = (
    r"sagte|sagt|sagten|erklärte|erklärt|betonte|betont|meinte|meint|warnte|warnt|forderte|"
    r"kritisierte|erinnerte|bekräftigte|unterstrich|ergänzte|fügte|räumte|verwies|"
    r"kündigte|teilte|bestätigte|zeigte|hieß|so"
)
_WORD = r"[A-ZÄÖÜ][a-zäöüßéè]+"
_AFTER_VERB = re.compile(rf"\b(?:{_SPEECH})\s+({_WORD})\b(?!\s*-)")
_BEFORE_VERB = re.compile(rf"\b({_WORD})\s+(?:{_SPEECH})\b")
_FULL_NAME = re.compile(rf"(?=\b({_WORD}(?:-{_WORD})?)\s+({_WORD})\b)")  # overlapping
# Capitalised words that open sentences or phrases in German news but are no first names.
_NOT_FIRST_NAMES_TEXT = """
    Der Die Das Den Dem Des Ein Eine Einer Eines Einem Einen Er Sie Es Wir Ihr Man Auch Am
    Im In Auf Aus Bei Mit Nach Von Vor Zur Zum Für Über Unter Gegen Seit Wie Was Wer Wo Als
    Aber Und Oder Doch Denn Dass Dies Diese Dieser Dieses Jetzt Nun Noch Schon So Da Dort
    Hier Heute Gestern Morgen Laut Demnach Zudem Außerdem Allerdings Damit Dabei Bis
    Kanzler Kanzlerin Präsident Präsidentin Minister Ministerin Sprecher Sprecherin Chef
    Chefin Herr Frau Doktor Bürgermeister Bürgermeisterin Papst König Königin Trainer
    Januar Februar März April Mai Juni Juli August September Oktober November Dezember
    Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Millionen Tausende Hunderte
    Menschen Experten Kritiker Beobachter Behörden Polizei Regierung Angaben
"""
_NOT_FIRST_NAMES = frozenset(_NOT_FIRST_NAMES_TEXT.split())


@dataclass(frozen=True)
class Example:
    question: str
    day: str | None = None  # ISO date: ask with the date filter set to this day


def quoted_people(texts: Iterable[str], limit: int = 2) -> list[str]:
    """The most often quoted people in `texts`, as full names, most quoted first.

    >>> quoted_people(["Dmitri Peskow warnte. Das sei gefährlich, betonte Peskow. "
    ...                "Die Regierung sagte nichts. Die Regierung sagte es."])
    ['Dmitri Peskow']
    """
    mentions: Counter[str] = Counter()
    full: dict[str, Counter[str]] = {}
    for text in texts:
        for m in _AFTER_VERB.finditer(text):
            mentions[m.group(1)] += 1
        for m in _BEFORE_VERB.finditer(text):
            mentions[m.group(1)] += 1
        for first, last in _FULL_NAME.findall(text):
            if first not in _NOT_FIRST_NAMES and last not in _NOT_FIRST_NAMES:
                full.setdefault(last, Counter())[f"{first} {last}"] += 1
    people = []
    for surname, n in mentions.most_common():
        if n < 2:
            break  # a name seen once next to a verb is too weak a guess
        if surname in full and surname not in _NOT_FIRST_NAMES:
            people.append(full[surname].most_common(1)[0][0])
        if len(people) == limit:
            break
    return people


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A title cut at a word boundary with an ellipsis when longer than `limit`.

    >>> short_title("Putin hob hervor, dass eine Entsendung nicht förderlich sei", 30)
    'Putin hob hervor, dass eine…'
    """
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return cut + "…"


def build(
    people: list[str], newest: tuple[str | None, str] | None, other_title: str = ""
) -> list[Example]:
    """Up to three examples: the most quoted people, the newest article as (day, title),
    and another article's title when fewer than two people are known."""
    out = [Example(t("person", name=name)) for name in people[:1]]
    day, title = newest or (None, "")
    if day and title:
        out.append(Example(t("day", day=long_date(day), title=short_title(title)), day=day))
    elif title:
        out.append(Example(t("title", title=short_title(title))))
    out += [Example(t("person", name=name)) for name in people[1:2]]
    if len(out) < 3 and other_title:
        out.append(Example(t("title", title=short_title(other_title))))
    return out[:3]


def from_index(index) -> list[Example]:
    """Example questions for the index's content (in the current interface language)."""
    records = index.records()
    newest = sorted(records.values(), key=lambda r: (r.date or "", r.article_id), reverse=True)
    articles = [index.get_article(r.article_id) for r in newest[:RECENT_ARTICLES]]
    articles = [a for a in articles if a is not None]
    people = _statement_index_people(index) or quoted_people(a.text for a in articles)
    titled = [(a.date, a.title) for a in articles if a.title.strip()]
    return build(people, titled[0] if titled else None, titled[1][1] if len(titled) > 1 else "")


def _statement_index_people(index, limit: int = 2) -> list[str]:
    """The most quoted people of the statement index ([] when it holds none yet)."""
    from rag.quotes.search import StatementSearch

    try:
        speakers = StatementSearch(index).directory()
    except Exception:  # noqa: BLE001 - examples are a convenience; the text heuristic stands in
        log.warning("no speakers from the statement index", exc_info=True)
        return []
    return [s.name for s in speakers if s.kind == "person"][:limit]
