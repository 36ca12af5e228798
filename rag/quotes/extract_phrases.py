"""The pieces the statement rules are built from: speaker noun phrases, speech verbs
with their separable particles, message spans, and the record of a statement found but
not yet resolved (`Found`).

A speaker noun phrase is an article, adjectives and capitalised words, with a party in
brackets, a genitive ("der Sprecher des Ministeriums"), a quoted publication name ("die
Zeitschrift „Billboard“") or an apposition after a comma ("der Leiter der Behörde,
Andreas Huber"). Whether it can speak (`speaker_like`) depends on its words: a pronoun,
a name, a role, a group or an institution can; "die Pläne" cannot. As the subject of a
speech verb (`subject_like`) it is never an accusative or dative ("den Demonstranten").

Shortcut: no parser; a clause is what lies between commas, colons and quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.quotes.extract_text import Doc
from rag.quotes.lexicon import (
    DETERMINERS,
    FILLERS,
    JOINED_SPEECH_VERBS,
    PRONOUNS,
    SEPARABLE_SPEECH_VERBS,
    SPEECH_VERBS,
    WEAK_CUES,
    Verb,
    is_source_word,
    word_list,
)
from rag.quotes.resolve import (
    is_group_word,
    is_institution_word,
    is_name_word,
    is_role_word,
    particle_in_name,
)
from rag.quotes.types import Form

CLAUSE_MARKS = frozenset(',;:–—()[]„“”"»«')


QUOTE_MARKS = frozenset('„“”"»«')


RELATIVE = frozenset(
    word_list(
        """
der die das dem den deren dessen welche welcher welches wo
"""
    )
)


# The rules' version: stored statements extracted by another version are redone.


@dataclass
class Found:
    """A statement before its speaker is resolved."""

    parts: list[tuple[int, int]]
    form: Form
    cue_tokens: list[int]
    source: tuple[int, int] | None  # token range of the speaker mention
    sentence: int  # index of the (last) sentence it is in
    plural: bool = False
    parent: Found | None = None  # the statement a continuation continues


def sentence_index(doc: Doc, token: int) -> int:
    lo, hi = 0, len(doc.sentences) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if doc.sentences[mid][1] <= token:
            lo = mid + 1
        else:
            hi = mid
    return lo


def speech_verb(doc: Doc, i: int, end: int, strict: bool = True) -> tuple[Verb, list[int]] | None:
    """The speech verb at token i and its cue tokens (with a separable particle)."""
    w = doc.words[i]
    low = w.lower() if i == doc.sentences[sentence_index(doc, i)][0] else w
    if not low[:1].islower():
        return None
    for verb in SEPARABLE_SPEECH_VERBS.get(low, ()):
        particle = _particle(doc, i + 1, end, verb.particle)
        if particle is not None:
            return verb, [i, particle]
    verb = SPEECH_VERBS.get(low) or JOINED_SPEECH_VERBS.get(low)
    if verb is None:
        return None
    if strict and low in WEAK_CUES:
        return None
    return verb, [i]


def _particle(doc: Doc, i: int, end: int, particle: str | None) -> int | None:
    """Index of `particle` closing the clause that starts at i, if it does."""
    while i < end and doc.words[i] not in CLAUSE_MARKS and doc.words[i] not in ".!?":
        closes = i + 1 >= end or not doc.words[i + 1][0].isalnum()
        if doc.words[i] == particle and closes and (i + 1 >= end or doc.words[i + 1] != "("):
            return i
        i = skip_brackets(doc, i + 1, end)
    return None


def skip_brackets(doc: Doc, i: int, end: int) -> int:
    """i, or the index after a short bracketed aside starting at i ("(Ortszeit)")."""
    if i < end and doc.words[i] == "(":
        for j in range(i + 1, min(end, i + 8)):
            if doc.words[j] == ")":
                return j + 1
    return i


def noun_phrase(doc: Doc, i: int, end: int) -> tuple[int, int] | None:
    """Token range of a speaker noun phrase starting at i: 'er', 'Kreml-Sprecher Dmitri
    Peskow', 'der Sprecher des Ministeriums', 'die Polizei', 'Johann Wadephul (CDU)',
    'der Leiter der Behörde, Andreas Huber'."""
    words = doc.words
    if i >= end:
        return None
    if words[i] in PRONOUNS:
        return (i, i + 1)
    j = i
    if words[j].lower() in DETERMINERS:
        j += 1
    while j < end and _adjective(words[j]):
        j += 1
    start_nouns = j
    after_title = title_end(doc, j, end)
    if after_title is not None:  # „BBC News“
        return (i, after_title) if j == i or words[i].lower() in DETERMINERS else None
    while j < end and (noun(words[j]) or (j > start_nouns and particle_in_name(words, j))):
        j += 1
        if j < end and words[j] == "." and words[j - 1] in ("Dr", "Prof"):
            j += 1
        elif not (
            is_name_word(words[j - 1])
            or _common_head(words[j - 1])
            or words[j - 1] in _TITLE_WORDS
            or particle_in_name(words, j - 1)
        ):
            break  # "laut Verfassung Politiker …": a common noun ends the phrase
    if j == start_nouns:
        return None
    while j < end:
        w = words[j]
        if w == "(" and j + 2 < end and words[j + 2] == ")":
            j += 3  # party or country in brackets
            continue
        after_title = title_end(doc, j, end)
        if after_title is not None:
            j = after_title  # die Musikzeitschrift „Billboard“
            continue
        if w in ("des", "der") and (words[i].lower() in DETERMINERS or _common_head(words[j - 1])):
            k = _genitive_end(doc, j + 1, end)  # "der Sprecher des Ministeriums"
            if k is not None:
                j = k
                continue
        if w in ("von", "vom", "aus") and (
            is_role_word(words[j - 1])
            or (words[j - 1][:1].isupper() and words[j - 1].endswith(("en", "er", "e")))
        ):
            k = _genitive_end(doc, j + 1, end)  # "ein Experte von Greenpeace"
            if k is not None:
                j = k
                continue
        role_before = is_role_word(words[j - 1])
        if w in _ROLE_PREPOSITIONS and role_before and _apposition_follows(doc, j, end):
            k = _genitive_end(doc, j + 1, end)  # "der Minderheitsführer im Senat, Harry Reid"
            if k is not None:
                j = k
                continue
        break
    # apposition after a name: "Henk Jaap Meijer, Laborleiter der Emsland Stärke GmbH,"
    if j + 2 < end and words[j] == "," and is_name_word(words[j - 1]):
        role = _role_phrase_end(doc, j + 1, end)
        if role is not None and (role >= end or words[role] in ",.!?"):
            return (i, role)
    # apposition: "der Leiter der Behörde, Andreas Huber," / "…, Harry Reid."
    if (
        j + 2 < end
        and words[j] == ","
        and is_name_word(words[j + 1])
        and is_name_word(words[j + 2])
    ):
        k = j + 1
        while k < end and is_name_word(words[k]):
            k += 1
        if k >= end or words[k] in ",.!?":
            j = k
    return (i, j)


_TITLE_WORDS = frozenset(word_list("Dr Prof Professor Professorin Herr Frau"))


_ROLE_PREPOSITIONS = frozenset(word_list("im in für bei beim am an"))


def _apposition_follows(doc: Doc, j: int, end: int) -> bool:
    """Whether a comma and a name follow within a few words of j: the prepositional
    phrase then belongs to the role before the name ("… im Senat, Harry Reid")."""
    for k in range(j + 1, min(end - 1, j + 6)):
        if doc.words[k] == ",":
            return is_name_word(doc.words[k + 1])
    return False


def _role_phrase_end(doc: Doc, i: int, end: int) -> int | None:
    """End of a role phrase at i ("Laborleiter der Emsland Stärke GmbH", "der Vorsitzende
    der Partei"), or None when the words at i are no role."""
    words = doc.words
    j = i
    if j < end and words[j].lower() in DETERMINERS:
        j += 1
    while j < end and _adjective(words[j]):
        j += 1
    if j >= end or not is_role_word(words[j]):
        return None
    j += 1
    while j < end and words[j] not in ",;:.!?" and j - i < 14:
        if words[j][:1].islower() and words[j] not in _ROLE_LINKS and not _adjective(words[j]):
            return None
        j += 1
    return j


_ROLE_LINKS = frozenset(word_list("der des von vom im in für und aus am bei"))


def title_end(doc: Doc, i: int, end: int) -> int | None:
    """The end of a short quoted name at i ('„Billboard“', '„BBC News“'), or None."""
    words = doc.words
    if i >= end or words[i] not in _OPENING_QUOTES:
        return None
    for j in range(i + 1, min(end, i + 7)):
        if words[j] in QUOTE_MARKS:
            return j + 1 if j > i + 1 and words[i + 1][:1].isupper() else None
        if words[j] in ",.;:!?":
            return None
    return None


_OPENING_QUOTES = frozenset('„»"“')


def _common_head(word: str) -> bool:
    """A noun that takes a genitive: a role, an institution, a source ("Angaben")."""
    return is_role_word(word) or is_institution_word(word) or is_source_word(word)


def _genitive_end(doc: Doc, i: int, end: int) -> int | None:
    """End of the noun phrase after "des" / "der" / "von" at i, or None."""
    words = doc.words
    if i < end and words[i].lower() in DETERMINERS:
        i += 1
    while i < end and _adjective(words[i]):
        i += 1
    after_title = title_end(doc, i, end)
    if after_title is not None:
        return after_title  # des „Spiegel“
    j = i
    while j < end and noun(words[j]):
        j += 1
    return j if j > i else None


def noun(word: str) -> bool:
    """A capitalised word that can be part of a noun phrase ('dpa-Meldung' too)."""
    if word in _NOT_IN_NP or word in PRONOUNS:
        return False
    if word[:1].isupper():
        return True
    return "-" in word and word.rsplit("-", 1)[-1][:1].isupper()


def _adjective(word: str) -> bool:
    return (
        word[:1].islower()
        and len(word) > 3
        and word.endswith(("e", "en", "er", "es", "em"))
        and word not in FILLERS
        and word not in _NOT_ADJ
        and word not in SPEECH_VERBS
    )


_NOT_IN_NP = frozenset(
    word_list(
        """
Laut Nach Wie So Als Am Im In Auf Bei Mit Von Vom Zum Zur Für Gegen Ohne Um Aus Seit Bis
Während Wegen Trotz Unter Über Vor Hinter Neben Zwischen Auch Aber Doch Und Oder Nun Jetzt
Heute Gestern Dann Zudem Außerdem Allerdings Jedoch Zugleich Zuvor Danach Dabei Deshalb
Daher Trotzdem Dennoch Bereits Schon Noch Nur Erst Es Man Wir Ich Ihr Du Das Dies Was Wer
Dass Ob Wenn Weil Da Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Ende
Anfang Mitte Ihm Ihn Ihnen Uns Mir Dir Sich Euch Ebenso Ebenfalls Insgesamt Hier Dort
Demnach Somit Also Zwar Sowohl Weder Jedenfalls Immerhin Dazu Darin Darauf Daraufhin
Zunächst Später Inzwischen Mittlerweile Bisher Derzeit Damals Erneut Offenbar
Vermutlich Angeblich Zufolge Januar Februar März April Mai Juni Juli August September
Oktober November Dezember Prozent Euro Dollar Uhr Jahr Jahre Jahren Jahres Tag Tage Tagen
"""
    )
)


_NOT_ADJ = frozenset(
    word_list(
        """
eine seine ihre keine diese jene alle viele einige andere beide ohne gerne heute bitte
sowie damit dabei dafür daher aber oder immer wieder später weiter bisher sehr mehr jeder
jede jedes unter über hinter außer sogar eher aller nie nicht selbst erste sowohl
"""
    )
)


NEGATIONS = frozenset(word_list("nicht nie niemals kein keine keinen nichts"))


SUBORDINATORS = frozenset(
    word_list(
        """
nachdem als weil wenn obwohl während da bevor seit seitdem sobald falls damit indem
sodass ob dass wie wo wer was
"""
    )
)


_NEVER_SUBJECT = frozenset(word_list("den dem einem einen denen diesem diesen ihm ihn ihnen"))


def subject_like(doc: Doc, span: tuple[int, int]) -> bool:
    """A speaker phrase that can be a verb's subject: not "den Demonstranten", "dem
    Minister" (objects; after "laut" or before "zufolge" those are the source)."""
    return doc.words[span[0]].lower() not in _NEVER_SUBJECT and speaker_like(doc, span)


def speaker_like(doc: Doc, span: tuple[int, int]) -> bool:
    """Whether a noun phrase can be a speaker: a pronoun, a name, a role, an institution
    ('die Pläne' cannot; 'der Sender NBC News' can)."""
    words = doc.words[span[0] : span[1]]
    if len(words) == 1 and words[0] in PRONOUNS:
        return True
    if any(w in QUOTE_MARKS for w in words):
        return True  # a publication: die Zeitschrift „Billboard“
    nouns = [w for w in words if noun(w) and w.lower() not in DETERMINERS]
    if any(is_role_word(w) or is_group_word(w) or is_institution_word(w) for w in nouns):
        return True
    if words[0].lower() in DETERMINERS:
        # "der Sender NBC News": a name after the head noun; "die Pläne" is no speaker;
        # "der 81-Jährige", "die Angeklagte": an adjective used as a noun is a person
        if nouns and nouns[0].lower().endswith(_PERSON_ADJECTIVE_NOUNS):
            return True
        return len(nouns) >= 2 and is_name_word(nouns[1])
    if words[0][:1].islower():
        return False  # "längerer Zeit", "weitere Bündnisse": no name has an adjective
    return any(is_name_word(w) for w in nouns)


_PERSON_ADJECTIVE_NOUNS = (
    "jährige",
    "jähriger",
    "klagte",
    "klagter",
    "dächtige",
    "dächtiger",
    "troffene",
    "letzte",
    "letzter",
)


def noun_subject(doc: Doc, span: tuple[int, int]) -> bool:
    """A noun phrase with an article, as the subject of a verb of saying with a clause
    after it: "Die Studie zeigt, dass …", "Der Bericht sagt, …" (a source, if no person)."""
    words = doc.words[span[0] : span[1]]
    return len(words) >= 2 and words[0].lower() in DETERMINERS and words[0][:1].isupper()


def so_speaker(doc: Doc, t: int, end: int) -> tuple[int, int] | None:
    """The speaker after "so" at t ('…, so Peskow.'), or None when "so" is no cue."""
    source = noun_phrase(doc, t + 1, end)
    if source is None or not speaker_like(doc, source):
        return None
    after = source[1]
    if after < end and doc.words[after] not in '.,;:!“”"»«–' and doc.words[after] not in FILLERS:
        return None
    return source


def source_for_verb(
    doc: Doc, start: int, v: int, cue: list[int], end: int, clause: bool = True
) -> tuple[int, int] | None:
    """The speaker of the verb at v in the clause [start, end): the noun phrase before it
    when the clause starts with one, else the one right after it ("Das machte Peskow
    deutlich", "Am Montag sagte er")."""
    del cue
    while start < v and doc.words[start].lower() in _LEADING_ADVERBS:
        start += 1  # "Auch das Ministerium kritisierte …"
    if start < v - 3 and doc.words[v - 1] == ",":
        # "Frank Biermann, Vorsitzender der …, sagte": the name and its apposition;
        # "Deiss, der sich … entschlossen hatte, sagte": the name without the clause
        head = noun_phrase(doc, start, v)
        if (
            head is not None
            and head[1] < v
            and doc.words[head[1]] == ","
            and subject_like(doc, head)
        ):
            middle = doc.words[head[1] + 1 : v - 1]
            if not middle:
                return head  # the apposition is part of the phrase already
            if middle[0].lower() in RELATIVE and len(middle) <= 25:
                return head
            if len(middle) <= 12 and middle and middle[0].lower() not in SUBORDINATORS:
                return (start, v - 1)
    if start < v:
        before = noun_phrase(doc, start, v)
        if before is not None and before[1] == v:
            first = doc.words[start].lower()
            if subject_like(doc, before) or (clause and noun_subject(doc, before)):
                return before
            if first not in ("das", "dies", "den", "einen", "diesen") and first not in FILLERS:
                return None  # a subject that cannot speak ("Die Flut forderte …")
    i = v + 1
    while i < end and doc.words[i].lower() in FILLERS and not doc.words[i][:1].isupper():
        i += 1
    after = noun_phrase(doc, i, end)
    if after is not None and subject_like(doc, after):
        return after
    return None


_LEADING_ADVERBS = frozenset(
    word_list(
        """
auch so dabei gleichzeitig zugleich allerdings bereits zudem außerdem ebenso ebenfalls
jedoch nun jetzt dann damals später zuvor inzwischen mittlerweile daraufhin anschließend
schließlich hingegen dagegen indes unterdessen erneut wiederum nochmals sogar selbst
insbesondere vor allem gestern heute
"""
    )
)


def document_after(doc: Doc, i: int, end: int) -> tuple[int, int] | None:
    """'hieß es aus dem Ministerium' / 'heißt es in einer Mitteilung der Polizei'."""
    while i < end and doc.words[i] not in CLAUSE_MARKS:
        if doc.words[i] in ("aus", "von", "vom", "in", "im", "seitens") and i + 1 < end:
            return noun_phrase(doc, i + 1, end)
        i += 1
    return None


def plural(verb: str) -> bool:
    """Whether a finite verb form is plural: 'sagten', 'fordern' (3rd singular never
    ends in -n: 'sagt', 'sagte', 'schrieb')."""
    return verb.endswith("n")


def span(doc: Doc, first: int, last: int) -> tuple[int, int]:
    """Character span of tokens [first, last)."""
    return doc.tokens[first][0], doc.tokens[last - 1][1]


def message(doc: Doc, first: int, last: int, min_words: int = 3) -> tuple[int, int] | None:
    """Character span of the message tokens [first, last), clause marks trimmed."""
    while first < last and doc.words[first] in ",;:–—":
        first += 1
    while last > first and doc.words[last - 1] in ",;:–—.!":
        last -= 1
    if sum(1 for i in range(first, last) if doc.words[i][0].isalnum()) < min_words:
        return None
    return span(doc, first, last)


def source_noun(doc: Doc, span: tuple[int, int]) -> bool:
    return any(is_source_word(w) for w in doc.words[span[0] : span[1]])
