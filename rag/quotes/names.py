"""Speaker names -> keys that match across spellings, and the rule for when a name the
user typed means a speaker in the index.

A key is a name folded to how it sounds rather than how one newsroom transliterates it:

- case, accents and German letters: "Schröder" = "Schroeder", "Strauß" = "Strauss",
  "Macrón" = "Macron" (umlauts become ae/oe/ue, as German writes them without dots);
- Cyrillic transliteration variants: w/v ("Peskow" = "Peskov"), j/y/i ("Dmitrij" =
  "Dmitry" = "Dmitri", "Selenskyj" = "Zelenskyy"), s/z at the start ("Selenskyj" =
  "Zelensky"), sch/sh and tsch/ch ("Schoigu" = "Shoigu"), ch/kh ("Chodorkowski" =
  "Khodorkovsky"), x/ks ("Alexej" = "Aleksei"), doubled letters;
- English and German possessives: "Peskov's", "Peskows" (the last only when the name
  without the s is known; `strip_possessive`).

A person's surname is the last word of the name (hyphenated parts kept together:
"Kramp-Karrenbauer"). A query matches a person when the surnames' keys agree and every
other word of the query agrees with a word of the name (or is its initial: "D. Peskow"),
so "Peskow" finds "Dmitri Peskow", "Dmitry Peskov" finds "Dmitri Peskow", and "Donald
Trump" does not find "Melania Trump". Institutions ("das Ministerium", "die Polizei")
match only their own full key, never a person's surname.

Shortcuts: the folding merges some names that are different names in German ("Meyer" =
"Meier"; y and i are one letter here), and knows nothing of nicknames or names written
in other scripts; particles ("von", "de") count as ordinary words of the full name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
_POSSESSIVE = re.compile(r"['’`´]s?$", re.IGNORECASE)
# Applied in order to the lower-case ASCII form of one word.
_SOUNDS: tuple[tuple[str, str], ...] = (
    (r"^zh", "sh"),
    (r"tsch", "ch"),
    (r"sch", "sh"),
    (r"zh", "sh"),
    (r"kh", "ch"),
    (r"ph", "f"),
    (r"x", "ks"),
    (r"ck", "k"),
    (r"c(?!h)", "k"),
    (r"w", "v"),
    (r"ff$", "v"),
    (r"[jy]", "i"),
    (r"^z", "s"),
    (r"ts", "s"),
    (r"tz", "s"),
    (r"z", "s"),
    (r"(.)\1+", r"\1"),  # doubled letters, also ii from "ij"/"yy"
)
_SOUND_RES = tuple((re.compile(a), b) for a, b in _SOUNDS)
_WORDS = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def ascii_fold(text: str) -> str:
    """Lower case, German letters spelled out, other accents dropped.

    >>> ascii_fold("Schröder Straße Macrón Łukaschenko")
    'schroeder strasse macron lukaschenko'
    """
    text = text.lower().translate(_GERMAN).replace("ł", "l").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """The sound key of one name word.

    >>> [word_key(w) for w in ("Peskow", "Peskov", "Selenskyj", "Zelenskyy", "Schoigu")]
    ['peskov', 'peskov', 'selenski', 'selenski', 'shoigu']
    """
    out = re.sub(r"[^a-z]", "", ascii_fold(word))
    for pattern, repl in _SOUND_RES:
        out = pattern.sub(repl, out)
    return out


# Name particles, ignored when given names are compared ("von der Leyen").
_PARTICLE_WORDS = "von van der den de da di del della la le zu bin ben al el ibn"
_PARTICLES = frozenset(word_key(w) for w in _PARTICLE_WORDS.split(" "))


def strip_possessive(word: str) -> str:
    """An English possessive removed: "Peskov's" -> "Peskov" ("Peskows" stays; see
    `NameQuery.variants`).

    >>> strip_possessive("Peskov's"), strip_possessive("Jones’"), strip_possessive("Putin")
    ('Peskov', 'Jones', 'Putin')
    """
    return _POSSESSIVE.sub("", word)


def name_words(name: str) -> list[str]:
    """The words of a name, possessives removed; hyphenated words stay one word.

    >>> name_words("  Annegret Kramp-Karrenbauer's ")
    ['Annegret', 'Kramp-Karrenbauer']
    """
    return [strip_possessive(w) for w in _WORDS.findall(name)]


@lru_cache(maxsize=65536)
def full_key(name: str) -> str:
    """The key of a whole name: its words' keys joined by spaces ("" for no name).

    >>> full_key("Dmitry Peskov's") == full_key("Dmitri Peskow")
    True
    """
    return " ".join(k for k in (word_key(w) for w in name_words(name)) if k)


def surname_key(name: str) -> str:
    """The key of a person's surname (the last word).

    >>> surname_key("Kreml-Sprecher Dmitri Peskow")
    'peskov'
    """
    keys = full_key(name).split()
    return keys[-1] if keys else ""


def _given_names(keys: list[str]) -> list[str]:
    """The keys before the surname, without particles ("von", "de", "al")."""
    return [k for k in keys[:-1] if k not in _PARTICLES]


def _agree(a: str, b: str) -> bool:
    """Two given names agree: equal keys, or one is the start of the other ("D" for
    "Dmitri", "Alex" for "Alexander")."""
    return a.startswith(b) or b.startswith(a)


def matches_person(query: str, name: str) -> bool:
    """Whether `query` (as a user types it) means the person `name` (as stored).

    Surnames must agree; when both have given names, one of the query's must agree with
    one of the name's (a stored name may carry a word before it that is no given name:
    "Dissidentin Miriam Leiva").

    >>> matches_person("Peskov's", "Dmitri Peskow"), matches_person("Dmitry Peskov", "Peskow")
    (True, True)
    >>> matches_person("Donald Trump", "Melania Trump"), matches_person("Trump", "Melania Trump")
    (False, True)
    >>> matches_person("von der Leyen", "Ursula von der Leyen")
    True
    """
    q, n = full_key(query).split(), full_key(name).split()
    if not q or not n or q[-1] != n[-1]:
        return False
    q_given, n_given = _given_names(q), _given_names(n)
    if not q_given or not n_given:
        return True
    return any(_agree(a, b) for a in q_given for b in n_given)


def shares_a_name(query: str, name: str) -> bool:
    """Whether the stored `name` could be the person `query` names but says too little to
    tell: the same surname with other given names ("Knirps Dudamel" for "Gustavo
    Dudamel"), or one word that is one of the query's ("Ban" for "Ban Ki-moon"). Such a
    speaker is the person only where the article names them in full (`name_in`).

    >>> shares_a_name("Ban Ki-moon", "Ban"), shares_a_name("Gustavo Dudamel", "Knirps Dudamel")
    (True, True)
    >>> shares_a_name("Peskow", "Dmitri Peskow"), shares_a_name("Ban Ki-moon", "Putin")
    (False, False)
    """
    q, n = full_key(query).split(), full_key(name).split()
    if len(q) < 2 or not n:
        return False
    if len(n) == 1:
        return n[0] in q and n[0] != q[-1]
    return n[-1] == q[-1] and not matches_person(query, name)


def name_in(text: str, query: str) -> str | None:
    """The full name `query` as `text` writes it (in any spelling the keys merge), or None.

    >>> name_in("UN-Generalsekretär Ban Ki-moon sprach.", "Ban Ki-Moon")
    'Ban Ki-moon'
    """
    wanted = full_key(query).split()
    if not wanted:
        return None
    words = list(_WORDS.finditer(text))
    keys = [word_key(m.group()) for m in words]
    n = len(wanted)
    for i in range(len(keys) - n + 1):
        if keys[i : i + n] == wanted:
            return text[words[i].start() : words[i + n - 1].end()]
    return None


@dataclass(frozen=True)
class NameQuery:
    """A name as the user typed it, with the spellings it may stand for."""

    text: str

    @property
    def variants(self) -> list[str]:
        """The name, and without a German genitive s on its last word ("Peskows")."""
        words = name_words(self.text)
        if not words:
            return []
        out = [" ".join(words)]
        last = words[-1]
        if len(last) > 3 and last[-1] in "sS" and last[-2].lower() not in "s":
            out.append(" ".join([*words[:-1], last[:-1]]))
        return out

    def matches(self, name: str, kind: str = "person") -> bool:
        """Whether this query means the speaker `name` of `kind`: persons by surname and
        compatible given names, institutions and unknowns only by their full key."""
        if kind == "person":
            return any(matches_person(v, name) for v in self.variants)
        return any(full_key(v) == full_key(name) for v in self.variants if full_key(v))
