"""Who a speaker mention refers to: names, roles, institutions, pronouns, per article.

A statement's mention is what the article writes at the cue ("Kreml-Sprecher Dmitri
Peskow", "Peskow", "der Kreml-Sprecher", "er", "die Polizei"). `Resolver` turns it into
a `Speaker` (name, role, kind, aliases):

- a name with a role in front is split: "Kreml-Sprecher Dmitri Peskow" -> speaker
  "Dmitri Peskow", role "Kreml-Sprecher"; so is an apposition ("Henk Jaap Meijer,
  Laborleiter der Emsland Stärke GmbH": the part with the name is the speaker);
- a surname is merged with the article's full name ending in it: "Peskow" -> "Dmitri
  Peskow" (the full name's aliases include "Peskow"); a first name alone is merged
  with the only full name starting with it ("Ban" -> "Ban Ki-moon");
- names keep their particles: "Thomas de Maizière", "Ursula von der Leyen";
- a role noun ("der Kreml-Sprecher", "der Minister") goes to the nearest earlier person
  whose role ends in it ("Finanzminister"), else to the nearest earlier person, else
  (a role in the lead, before any name) to the next person named with that role;
- "er" goes to the nearest person named before; "sie" to the nearest woman named within
  about three sentences, else the nearest person; "sie" with a plural verb ("sagten") is
  a group and stays unresolved. A nearest person named after a preposition ("mit
  Putin") yields to a full name that opens the same sentence (its subject);
- institutions ("die Polizei", "das Innenministerium", "dpa", "nach Kreml-Angaben",
  "die Zeitschrift „Billboard“") keep their own name as speaker, kind "institution"; so
  do countries and capitals ("Moskau warnte"), names with a legal form ("… GmbH") and
  companies (a short list, or "Apple" where the article writes "Apple-Chef");
- a document ("einer Aussendung des Wiener Zoos") is its issuer's when a named
  organisation or a person follows "des"/"der", else nobody's;
- anything else ("Experten", "einem Medienbericht", "die Zeitung") keeps its mention,
  speaker None.

Shortcuts: a person is a run of two or more capitalised words that are neither common
function words, role or institution nouns, nor nouns the article writes after an article
("Dmitri Peskow"), or a single such word where a speech verb needs a subject ("Putin hob
hervor"); a place or a genitive of a word the article uses alone ("Gents Defensive") is
not the start of a name. The subject of a sentence is guessed by position only (a full
name at its start). Gender comes from the role noun ("-in", "Frau") or a short list of common first
names. Nothing is learned; what the rules cannot tell stays unresolved, not guessed.
"""

from __future__ import annotations

import re
from bisect import insort
from dataclasses import dataclass, field
from functools import lru_cache

from rag.quotes.lexicon import (
    COMPANY_NAMES,
    COMPANY_SUFFIXES,
    DETERMINERS,
    INSTITUTION_HEADS,
    INSTITUTION_NAMES,
    MEDIA_HEADS,
    NOT_NAMES,
    ORGANISATION_COMPOUND_HEADS,
    PLACE_NAMES,
    PRONOUNS,
    ROLE_HEADS,
    ROLE_WORDS,
    is_source_word,
    word_list,
)

_NAME_WORD = re.compile(r"^(?:[A-ZÄÖÜ]|(?:al|el|bin|ibn|abu|ben)-[A-ZÄÖÜ])[\w'’.-]*$")
# Lower-case words inside names: "Thomas de Maizière", "Ursula von der Leyen".
NAME_PARTICLES = frozenset(word_list("de di da du del della van von ten ter zu dos le la bin ibn"))
_SECOND_PARTICLES = frozenset(("der", "den", "de"))  # "von der Leyen", "van den Bossche"
_ADVERB_ENDINGS = ("lich", "weise", "dings", "falls", "mals", "zeitig", "ebenso", "halb", "wegen")
_ADJECTIVE_ENDINGS = ("ische", "ischen", "ischer", "isches", "ischem")
_MALE_A_NAMES = frozenset(
    word_list(
        """
Luca Nikita Andrea Ilja Sascha Mustafa Joshua Elia Jona Juda
"""
    )
)
_NOUN_ENDINGS = (
    "ung",
    "heit",
    "keit",
    "schaft",
    "tion",
    "ität",
    "ismus",
    "ort",
    "platz",
    "stadt",
    "zeit",
    "tag",
    "haus",
    "werk",
    "gebiet",
    "land",
    "staaten",
    "recht",
    "gesetz",
)
_TITLES = frozenset(
    word_list(
        """
Dr Dr. Prof Prof. Professor Professorin Herr Frau Sir Lord
"""
    )
)


@dataclass
class Person:
    """A named person of the article: full name, role, gender, where it is mentioned."""

    name: str
    role: str | None = None
    gender: str | None = None  # "m" | "f" | None
    aliases: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Speaker:
    """The resolved speaker of one mention."""

    name: str | None
    role: str | None
    kind: str  # "person" | "institution" | "unknown"
    aliases: tuple[str, ...] = ()


@lru_cache(maxsize=65536)
def is_role_word(word: str) -> bool:
    """'Kreml-Sprecher', 'Außenministerin', 'Sprecher' -> True."""
    last = word.rsplit("-", 1)[-1].lower()
    return last in ROLE_WORDS or last.endswith(ROLE_HEADS)


@lru_cache(maxsize=65536)
def is_group_word(word: str) -> bool:
    """The plural of a role: 'Experten', 'Analysten', 'Sprecherinnen' -> True."""
    last = word.rsplit("-", 1)[-1].lower()
    for ending, singular in (("innen", "in"), ("en", ""), ("n", "")):
        if last.endswith(ending) and (last[: -len(ending)] + singular).endswith(ROLE_HEADS):
            return True
    return False


@lru_cache(maxsize=65536)
def is_institution_word(word: str) -> bool:
    """'Innenministerium', 'Polizei', 'dpa' -> True."""
    low = word.lower()
    return low in INSTITUTION_NAMES or low.rsplit("-", 1)[-1].endswith(INSTITUTION_HEADS)


@lru_cache(maxsize=65536)
def is_name_word(word: str) -> bool:
    """A capitalised word that may be part of a person's name."""
    return (
        bool(_NAME_WORD.match(word))
        and word not in NOT_NAMES
        and not word.isupper()
        and not word.endswith(_ADJECTIVE_ENDINGS)
        and not word.lower().endswith(_ADVERB_ENDINGS)
        and not _common_noun_form(word)
        and not is_role_word(word)
        and not is_group_word(word)
        and not is_institution_word(word)
    )


class Resolver:
    """Resolves the speaker mentions of one article, in text order."""

    def __init__(self, words: list[str], tokens: list[tuple[int, int]]):
        self.people: list[Person] = []
        self.by_surname: dict[str, Person] = {}
        # (offset, person) of every person mention seen so far, for pronouns and roles.
        self.seen: list[tuple[int, Person]] = []
        self.words, self.tokens = words, tokens
        self._index = {start: i for i, (start, _) in enumerate(tokens)}
        self._positions: dict[str, list[int]] = {}
        # first parts of "Apple-Chef", "VW-Konzern": names the article uses for companies
        self._organisations: set[str] = set()
        for i, w in enumerate(words):
            if w[:1].isupper():
                self._positions.setdefault(w, []).append(i)
                head, _, last = w.rpartition("-")
                if head and last.lower() in ORGANISATION_COMPOUND_HEADS:
                    self._organisations.add(head)
        self._registered: set[str] = set()
        self._collect_full_names(words, tokens)

    def _collect_full_names(self, words: list[str], tokens: list[tuple[int, int]]) -> None:
        """Register every run of 2+ name words ('Dmitri Peskow'), with a role before it."""
        common = _common_nouns(words)
        i, n = 0, len(words)
        while i < n:
            j = i
            while j < n and words[j] not in _TITLES:
                if (
                    is_name_word(words[j])
                    and words[j] not in common
                    or j > i
                    and particle_in_name(words, j)
                ):
                    j += 1
                else:
                    break
            start = i
            while start < j and self._not_part_of_name(start):
                start += 1  # "Österreich Johanna Mikl-Leitner", "Gents Defensive"
            if j - start >= 2 and self._is_name_run(start, j):
                role = words[start - 1] if start > 0 and is_role_word(words[start - 1]) else None
                if _descriptor_first(words[start:j]):  # "Dissidentin Miriam Leiva"
                    role, start = words[start], start + 1
                person = self._person(" ".join(words[start:j]), role, _gender(words[start], role))
                self.seen.append((tokens[start][0], person))
            i = max(j, i + 1)
        self.seen.sort(key=lambda item: item[0])
        for person in list(self.people):
            self._register(person)

    def _not_part_of_name(self, i: int) -> bool:
        """A capitalised word before a name that is no part of it: a place ("Österreich
        Johanna Mikl-Leitner") or the genitive of a word the article writes on its own
        ("Gents Defensive" beside "Gent", "Mascheranos Clubkameraden")."""
        word = self.words[i]
        if word in PLACE_NAMES:
            return True
        return word.endswith("s") and len(word) > 3 and word[:-1] in self._positions

    def _is_name_run(self, i: int, j: int) -> bool:
        """Whether words[i:j] (2+ name words) name a person: not after an article ("der
        Russischen Föderation") and not a company ("Emsland Stärke GmbH"). After an
        adjective only with a known first name ("des überragenden Julian Draxler")."""
        words = self.words
        if any(w in COMPANY_SUFFIXES for w in words[i:j]):
            return False
        if _starts_name(words, i):
            return True
        first = words[i]
        known = first in _MALE_FIRST_NAMES or first in _FEMALE_FIRST_NAMES
        return i > 0 and known and _after_adjective(words, i)

    def _register(self, person: Person) -> None:
        """Note every mention of the person's surname alone as a mention of them."""
        surname = person.name.split()[-1]
        if surname in self._registered:
            return
        self._registered.add(surname)
        for i in self._positions.get(surname, ()):
            if i == 0 or not is_name_word(self.words[i - 1]):
                insort(self.seen, (self.tokens[i][0], person), key=lambda item: item[0])

    def _person(self, name: str, role: str | None, gender: str | None) -> Person:
        surname = name.split()[-1]
        person = self.by_surname.get(surname)
        if person is None or (
            person.name != name and len(name.split()) > 1 and person.name != surname
        ):
            if person is not None and len(person.name.split()) == 1:
                person.name = name  # a surname first, the full name later
            else:
                person = Person(name)
                self.people.append(person)
                self.by_surname[surname] = person
        person.role = person.role or role
        person.gender = person.gender or gender
        if name != person.name:
            person.aliases.add(name)
        if surname != person.name:
            person.aliases.add(surname)
        return person

    def resolve(self, mention: list[str], offset: int, plural: bool = False) -> Speaker:
        """The speaker for a mention (its words) at character `offset`."""
        title = _quoted(mention)
        if title:  # a publication: "die Zeitschrift „Billboard“"
            return Speaker(title, None, "institution")
        if "," in mention:
            return self._apposition(mention, offset, plural)
        words = [w for w in mention if w not in "(),"]
        while words and words[0].lower() in DETERMINERS:
            words = words[1:]
        found = _after_source_noun(words)
        if found is not None:
            # "Angaben der Polizei", "den Worten von Präsident Wolodymyr Selenskyj"
            source, genitive = found
            if not source:  # "in einer Aussendung", "laut Medienberichten"
                return Speaker(None, None, "unknown")
            if genitive and not self._names_person(source):
                return _organisation(source, genitive)  # "Aussendung des Wiener Zoos"
            if genitive == "des":  # "einer Erklärung des Finanzministers"
                source = [_role_of_genitive(w) for w in source]
            if len(source) == 1 and source[0] not in self.by_surname and is_name_word(source[0]):
                return Speaker(source[0], None, "institution")  # "Angaben aus Moskau"
            return self.resolve(source, offset, plural)
        if not words:
            return Speaker(None, None, "unknown")
        if len(words) == 1 and words[0].endswith("-Angaben"):  # "nach Kreml-Angaben"
            return Speaker(words[0].removesuffix("-Angaben"), None, "institution")
        if len(words) == 1 and words[0] in PRONOUNS:
            if plural and words[0].lower() == "sie":
                return Speaker(None, None, "unknown")
            person = self._nearest(offset, PRONOUNS[words[0]])
            return self._speaker(person) if person else Speaker(None, None, "unknown")
        if any(is_group_word(w) for w in words) and not any(is_name_word(w) for w in words):
            return Speaker(None, None, "unknown")  # "Experten", "die Ermittler"
        # the role is everything up to the last role noun or title: "Schweizer Politiker"
        role_end = 0
        for k, w in enumerate(words):
            if is_role_word(w) or w in _TITLES:
                role_end = k + 1
        name_words = _name_run(words[role_end:])
        if _descriptor_first(name_words):  # "Abwehrstütze Jerome Boateng"
            role_end += 1
            name_words = name_words[1:]
        role = _role_text(words[:role_end])
        if name_words:
            if _generic_medium(words):  # "die Zeitung", "das Nachrichtenmagazin"
                return Speaker(None, None, "unknown")
            if (
                any(is_institution_word(w) for w in name_words)
                or all(w.isupper() for w in name_words)
                or self._is_organisation(name_words)
            ):
                return Speaker(" ".join(name_words), None, "institution")
            if len(name_words) == 1 and name_words[0].lower() in INSTITUTION_NAMES:
                return Speaker(name_words[0], None, "institution")
            if len(name_words) == 1 and name_words[0] not in self.by_surname:
                # "Ban" for "Ban Ki-moon", "Zeid" for "Zeid Raad al-Hussein"
                first = [p for p in self.people if p.name.split()[0] == name_words[0]]
                if len(first) == 1 and len(first[0].name.split()) > 1:
                    first[0].aliases.add(name_words[0])
                    return self._speaker(first[0], role)
            person = self._person(" ".join(name_words), role, _gender(name_words[0], role))
            self._register(person)
            if (offset, person) not in self.seen:
                insort(self.seen, (offset, person), key=lambda item: item[0])
            return self._speaker(person, role)
        if any(is_institution_word(w) for w in words) and not role:
            if _generic_medium(words):  # "die linksliberale Zeitung"
                return Speaker(None, None, "unknown")
            return Speaker(" ".join(words), None, "institution")
        if role and not plural:
            person = self._by_role(offset, role)
            if person:
                return self._speaker(person, role)
            return Speaker(None, role, "person")
        return Speaker(None, None, "unknown")

    def _is_organisation(self, name_words: list[str]) -> bool:
        """A company or a place speaking for its government: "Emsland Stärke GmbH",
        "Moskau", "Apple" (a known company, or one the article writes as "Apple-Chef")."""
        if name_words[-1] in COMPANY_SUFFIXES:
            return True
        if len(name_words) != 1:
            return False
        word = name_words[0]
        return word in PLACE_NAMES or word in COMPANY_NAMES or word in self._organisations

    def _names_person(self, words: list[str]) -> bool:
        """Whether the words after "des"/"der" name a person: a role ("des Ministers"),
        a title or a person the article names."""
        for w in words:
            bare = _strip_genitive(w)
            if is_role_word(bare) or is_group_word(w) or w in _TITLES:
                return True
            if w in self.by_surname or bare in self.by_surname:
                return True
            if w in _MALE_FIRST_NAMES or w in _FEMALE_FIRST_NAMES:
                return True
        return False

    def _apposition(self, mention: list[str], offset: int, plural: bool) -> Speaker:
        """'Henk Jaap Meijer, Laborleiter der Emsland Stärke GmbH' / 'Der Leiter der
        Behörde, Andreas Huber': the part with a name is the speaker, the other the role."""
        parts, current = [], []
        for w in mention:
            if w == ",":
                parts.append(current)
                current = []
            else:
                current.append(w)
        parts.append(current)
        parts = [p for p in parts if p]
        named = max(parts, key=lambda p: sum(1 for w in p if is_name_word(w)))
        if not any(is_name_word(w) for w in named):
            return self.resolve([w for w in mention if w != ","], offset, plural)
        speaker = self.resolve(named, offset, plural)
        others = [p for p in parts if p is not named]
        role_words = [w for p in others for w in p if is_role_word(w)]
        if speaker.kind == "person" and speaker.name and role_words and not speaker.role:
            return Speaker(speaker.name, role_words[0], "person", speaker.aliases)
        return speaker

    def _speaker(self, person: Person, role: str | None = None) -> Speaker:
        aliases = tuple(sorted(a for a in person.aliases if a != person.name))
        return Speaker(person.name, role or person.role, "person", aliases)

    def _nearest(self, offset: int, gender: str | None) -> Person | None:
        """The nearest person mentioned before `offset` whom the pronoun fits, unless that
        person is named after a preposition and the same sentence has a subject who fits:
        in "Trump will erneut mit Putin sprechen. Er sagte, …" "er" is Trump, the
        subject, not Putin, the nearer name."""
        hit = self._nearest_mention(offset, gender)
        if hit is None:
            return None
        at, person = hit
        if self._after_preposition(at):
            subject = self._subject_before(at, gender, person)
            if subject is not None:
                return subject
        return person

    def _nearest_mention(self, offset: int, gender: str | None) -> tuple[int, Person] | None:
        """The nearest mention before `offset` of a person whom the pronoun fits. A name
        of unknown gender fits "er" at once, but "sie" only when no woman was named within
        a few sentences: most people named in news whose gender the rules cannot tell
        are men, and a wrong "sie" would put a man's words in a woman's mouth."""
        unknown = None
        for at, person in reversed(self.seen):
            if at >= offset:
                continue
            if gender is None or person.gender == gender:
                if unknown is None or offset - at < _PRONOUN_REACH:
                    return at, person
                return unknown
            if person.gender is None:
                if gender != "f":
                    return at, person
                unknown = unknown or (at, person)
        return unknown

    def _subject_before(self, at: int, gender: str | None, other: Person) -> Person | None:
        """The person who opens the sentence of the mention at `at`, if the pronoun fits
        them: a full name ("Trump" of "Donald Trump"), and for "sie" a known woman."""
        for before, person in reversed(self.seen):
            if before >= at or person is other:
                continue
            if self._sentence_end_between(before, at):
                return None
            fits = person.gender == gender or (person.gender is None and gender != "f")
            if fits and len(person.name.split()) > 1 and self._opens_sentence(before):
                return person
        return None

    def _opens_sentence(self, at: int) -> bool:
        """Whether the mention at character `at` opens its sentence, after at most an
        article and a role ("US-Präsident Donald Trump schätzt …"): the subject, in a
        German main clause, far more often than any other name."""
        k = self._index.get(at)
        if k is None:
            return False
        for _ in range(_PREPOSITION_REACH):
            k -= 1
            if k < 0 or self.words[k] in _CLAUSE_STARTS:
                return True
            w = self.words[k]
            if not (w.lower() in DETERMINERS or w in _TITLES or is_role_word(w)):
                return False
        return False

    def _after_preposition(self, at: int) -> bool:
        """Whether the mention at character `at` follows a preposition ("mit Putin", "mit
        dem russischen Präsidenten Wladimir Putin"): an object, not a subject."""
        k = self._index.get(at)
        if k is None:
            return False
        for _ in range(_PREPOSITION_REACH):
            k -= 1
            if k < 0:
                return False
            w = self.words[k]
            if w.lower() in _PREPOSITIONS:
                return True
            # an adjective counts only after an article: "dem russischen", not "sagte"
            adjective = (
                w[:1].islower()
                and w.endswith(_INFLECTED)
                and k > 0
                and self.words[k - 1].lower() in DETERMINERS
            )
            between = w.lower() in DETERMINERS or w in _TITLES or is_role_word(w)
            if not (between or is_group_word(w) or adjective):
                return False
        return False

    def _sentence_end_between(self, start: int, end: int) -> bool:
        i, j = self._index.get(start), self._index.get(end)
        if i is None or j is None:
            return True
        return any(w in _SENTENCE_ENDS for w in self.words[i:j])

    def _by_role(self, offset: int, role: str) -> Person | None:
        head = _role_head(role)
        for at, person in reversed(self.seen):
            if at < offset and person.role and _role_head(person.role).endswith(head):
                return person  # "der Minister" is the "Finanzminister" named before
        person = self._nearest(offset, _gender("", role))
        if person is not None:
            return person
        # a role before any name ("Kanzler fordert …. Wien – Bundeskanzler Werner
        # Faymann hat …"): the next person named with that role, close after it
        for at, person in self.seen:
            if at > offset + _PRONOUN_REACH:
                break
            if at > offset and person.role and _role_head(person.role).endswith(head):
                return person
        return None


def _common_nouns(words: list[str]) -> set[str]:
    """Capitalised words the article uses after an article or adjective ("der Euro",
    "die moderne Kunst"): common nouns, never part of a name."""
    common = set()
    for i in range(1, len(words)):
        if not words[i][:1].isupper():
            continue
        k = i - 1
        while k > 0 and words[k][:1].islower() and words[k].endswith(_INFLECTED):
            k -= 1  # adjectives between the article and the noun
        if words[k].lower() in DETERMINERS and (k == i - 1 or k < i - 1):
            common.add(words[i])
    return common


_INFLECTED = ("e", "en", "er", "es", "em")


def _after_source_noun(words: list[str]) -> tuple[list[str], str | None] | None:
    """For a mention that names a report ("Angaben der Polizei", "Worten von Peskow"),
    the words naming who made it (["Polizei"], ["Peskow"]) and the genitive article
    before them ("der", "des", or None); None for other mentions."""
    for k, w in enumerate(words):
        if is_source_word(w):
            head, _, compound = w.rpartition("-")
            if head[:1].isupper() and is_source_word(compound):
                return [head], None  # "Kreml-Angaben"
            rest, genitive = words[k + 1 :], None
            while rest and (rest[0].lower() in _OF or rest[0].lower() in DETERMINERS):
                if rest[0].lower() in ("des", "der") and len(rest) > 1:
                    genitive = rest[0].lower()
                rest = rest[1:]
            if len(rest) == 1 and not genitive and rest[0].endswith("s") and rest[0][:1].isupper():
                rest = [rest[0][:-1]]  # "Angaben Frankreichs"
            return rest, genitive
        if w[:1].isupper():
            return None
    return None


def _organisation(words: list[str], genitive: str) -> Speaker:
    """Who issued a document, named after "des"/"der" and not a person ("einer Aussendung
    des Wiener Zoos" -> "Wiener Zoo", "der AK-NÖ" -> "AK-NÖ"). A lone common noun ("der
    Entwickler", "der Grünen") says what kind of group, not which: no speaker."""
    for k, w in enumerate(words):
        if w.isupper() or k and w[:1].islower() and words[k - 1][:1].isupper():
            words = words[: k + 1] if w.isupper() else words[:k]  # "des STANDARD …"
            break
    names = [w for w in words if w[:1].isupper()]
    if not names:
        return Speaker(None, None, "unknown")
    if genitive == "des":
        words = words[:-1] + [_strip_genitive(words[-1])]
    # "der Entwickler", "der Grünen" (a plural), "des englischen Schriftstellers": a kind
    # of group or person, not a named organisation; "der Küstenwache" is one
    unnamed = genitive == "des" or names[0].endswith(("en", "er"))
    if len(names) == 1 and unnamed and not (names[0].isupper() or is_institution_word(words[-1])):
        return Speaker(None, None, "unknown")
    if _generic_medium(words):
        return Speaker(None, None, "unknown")
    return Speaker(" ".join(words), None, "institution")


def _role_of_genitive(word: str) -> str:
    """'Finanzministers' -> 'Finanzminister'; other words unchanged."""
    bare = _strip_genitive(word)
    return bare if bare != word and is_role_word(bare) else word


def _strip_genitive(word: str) -> str:
    """'Zoos' -> 'Zoo', 'Landespressedienstes' -> 'Landespressedienst', 'Ministers' ->
    'Minister'; other words unchanged."""
    if len(word) > 4 and word.endswith("es") and word[-3] in "stzß":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _generic_medium(words: list[str]) -> bool:
    """Whether the capitalised words name only a kind of medium ("die Zeitung", "das
    Nachrichtenmagazin"), not one medium ("die Süddeutsche Zeitung", "Zeitung Dawn")."""
    names = [w for w in words if w[:1].isupper()]
    return bool(names) and all(
        w.rsplit("-", 1)[-1].lower().endswith(MEDIA_HEADS) and not w.isupper() for w in names
    )


_OF = frozenset(("der", "des", "von", "vom", "aus", "seitens"))


def _quoted(words: list[str]) -> str | None:
    """The words between the first pair of quotation marks, if any."""
    marks = [i for i, w in enumerate(words) if w in _QUOTES]
    if len(marks) >= 2 and marks[1] > marks[0] + 1:
        return " ".join(words[marks[0] + 1 : marks[1]])
    return None


_QUOTES = frozenset('„“”"»«')


def _common_noun_form(word: str) -> bool:
    """Endings that make a word a common noun, never a name: 'Verfassung', 'Freiheit'."""
    low = word.lower()
    return low.endswith(_NEVER_NAME_ENDINGS) or (low.endswith("ung") and len(low) >= 8)


_NEVER_NAME_ENDINGS = ("heit", "keit", "schaft", "tion", "ität", "ismus", "ungen", "ierung")


def _starts_name(words: list[str], i: int) -> bool:
    """Whether the run of capitalised words at i can be a name, judging by its context:
    not after an article or adjective ("dem vorgeschlagenen Verhandlungsort Moskau") and
    not starting with a common noun ending ("Regierung", "Sicherheitsrat")."""
    if words[i].lower().endswith(_NOUN_ENDINGS):
        return False
    if i == 0:
        return True
    before = words[i - 1]
    if before.lower() in DETERMINERS or before[:1].isdigit():
        return False
    return not (
        before[:1].islower() and before.endswith(("en", "er", "es", "em")) and len(before) > 3
    )


def _descriptor_first(run: list[str]) -> bool:
    """Whether the first of 3+ name words describes the person named by the rest: the
    second is a known first name and the first is not ("Dissidentin Miriam Leiva",
    "Vikings-Chefcoach Chris Calaycay")."""
    return (
        len(run) >= 3
        and _is_first_name(run[1])
        and not _is_first_name(run[0])
        and run[0] not in NAME_PARTICLES
    )


def _is_first_name(word: str) -> bool:
    return word in _MALE_FIRST_NAMES or word in _FEMALE_FIRST_NAMES


def _after_adjective(words: list[str], i: int) -> bool:
    """Whether words[i] follows an inflected adjective ("des überragenden Julian")."""
    before = words[i - 1]
    return before[:1].islower() and before.endswith(_INFLECTED) and len(before) > 3


def _name_run(words: list[str]) -> list[str]:
    """The leading name words of `words` (stops at a party in brackets or a genitive)."""
    run = []
    for k, w in enumerate(words):
        if run and particle_in_name(words, k):
            run.append(w)
            continue
        if w in DETERMINERS or w.lower() in ("von", "vom", "aus", "des", "der"):
            break
        if not _NAME_WORD.match(w) or w in NOT_NAMES:
            break
        if w.isupper() and run:  # "Hans Peter Doskozil (SPÖ)": the party is no name
            break
        run.append(w)
        if w.isupper():  # an acronym stands alone: "ROG", "NATO"
            break
    return run


def particle_in_name(words: list[str], k: int) -> bool:
    """Whether words[k] is a particle between two parts of a name ("de", "von der")."""
    if words[k - 1] in NAME_PARTICLES and words[k] in _SECOND_PARTICLES:
        k -= 1  # the second word of "von der"
    if words[k] not in NAME_PARTICLES or not words[k - 1][:1].isupper():
        return False
    j = k + 1
    if j < len(words) and words[j] in _SECOND_PARTICLES:
        j += 1
    return j < len(words) and is_name_word(words[j])


def _role_text(words: list[str]) -> str | None:
    words = [w for w in words if w not in _TITLES]
    return " ".join(words) or None


def _role_head(role: str) -> str:
    return role.split()[-1].rsplit("-", 1)[-1].lower()


_PRONOUN_REACH = 600  # characters: about three sentences
_PREPOSITION_REACH = 5  # words between a preposition and a name: "mit dem russischen Präsidenten"
_PREPOSITIONS = frozenset(
    word_list(
        """
mit von vom für gegen gegenüber über an am zu zum zur bei beim ohne um auf aus nach vor
hinter neben zwischen wegen trotz unter
"""
    )
)
_SENTENCE_ENDS = frozenset(".!?")
_CLAUSE_STARTS = frozenset(".!?:;–-")
_MALE_FIRST_NAMES = frozenset(
    word_list(
        """
Alexander Andreas Anton Armin Bernd Boris Christian Christoph Daniel David Dieter Dmitri
Donald Emmanuel Erich Frank Franz Friedrich Georg Gerhard Günter Hans Heinz Helmut Herbert
Horst Jan Jens Joachim Joe Johann Johannes John Jürgen Karl Klaus Kurt Lars Lukas Manfred
Markus Martin Matthias Max Michael Nicolas Olaf Oliver Paul Peter Philipp Rainer Ralf
Robert Rudolf Sebastian Sergej Stefan Stephan Thomas Tobias Uwe Viktor Walter Werner
Wladimir Wolfgang Wolodymyr Recep Tayyip Ahmet Mohammed Ali Benjamin Barack George Bill
Sebastian Herbert Norbert Reinhold Reinhard Friedrich-Wilhelm Heinz-Christian Karl-Heinz
Julian Felix Florian Fabian Simon Jonas Leon Moritz Niklas Tim Tom Marco Mario Marcel
Dominik Patrick Kevin Dennis Marc Mark Toni Manuel Mats Mesut Jerome Ilkay Emre Hakan
Chris Gustavo Pedro Carlos Juan José Luis Antonio Giuseppe Marco Pierre Jean François
"""
    )
)
_FEMALE_FIRST_NAMES = frozenset(
    word_list(
        """
Angela Annalena Anna Andrea Barbara Beate Birgit Brigitte Christine Claudia Cornelia
Doris Elisabeth Eva Franziska Gabriele Heidi Helga Ines Ingrid Johanna Julia Karin
Katharina Kathrin Kristina Laura Lisa Maria Marie Marine Martina Monika Nadja Nicole
Petra Renate Sabine Sahra Sandra Sarah Silke Simone Sophie Susanne Svenja Theresa Ulla
Ulrike Ursula Yvonne Hillary Kamala Giorgia Alice Manuela Nancy Pamela Sigrid Irmgard
Christiane Katja Anja Tanja Sonja Jutta Gisela Elke Heike Marion Carmen Beatrix Verena
Miriam Lena Hannah Emma Mia Lea Jana Nina Eva-Maria Isabelle Catherine Marianne
"""
    )
)


def _gender(first: str, role: str | None) -> str | None:
    """'f', 'm' or None, from the role noun ("Ministerin") or a known first name."""
    if first in _FEMALE_FIRST_NAMES:
        return "f"
    if first in _MALE_FIRST_NAMES:
        return "m"
    if role:
        head = _role_head(role)
        if head.endswith("in") or head == "frau":
            return "f"
        if head in ("herr",):
            return "m"
    if len(first) > 2 and first.endswith("a") and first not in _MALE_A_NAMES:
        return "f"
    return None
