"""Who said what: every statement in a cleaned article, with its speaker, by rules.

`extract(text)` returns `Statement`s (`rag.quotes.types`) in text order; every span is
exact (`text[s.start:s.end] == s.text`). The rules, tried in this order on each
sentence (`rag.quotes.extract_text` supplies tokens, sentences and quotations):

1. **direct** — a quotation with a cue after it („…“, sagte Peskow / „…“, so Peskow /
   „…“, teilte die Polizei mit; also interrupted: „…“, sagte er, „…“) or a speech verb
   and a colon before it (Peskow sagte: „…“ / Das machte Peskow deutlich: „…“).
   A quotation that makes up a whole sentence right after a direct statement continues
   it, same speaker.
2. **indirect** — a speech verb and its clause: "Peskow sagte, die Präsenz … sei eine
   Gefahr" / "Peskow erinnerte daran, dass …" / "…, sagte Peskow." / "…, so Peskow." /
   "Wie die Polizei mitteilte, …" / "…, wie er sagte." / "Laut Peskow …" /
   "Peskow zufolge …" / "Nach Angaben von …" / "Nach Kreml-Angaben …" / "…, hieß es".
   A following sentence in Konjunktiv I without a cue of its own ("Die NATO sehe
   Russland als Feind") continues the statement before it.
3. **reported** — a verb that reports speech, with a speaker as subject and no clause
   ("Peskow warnte vor …", "Die Grünen forderten einen Anbaustopp", "Er sprach von
   einem Erfolg"): the whole sentence is the statement.

Never statements: headlines (a short paragraph without final punctuation), questions,
quotations without a cue (titles, slogans, names of things).

The speaker is the noun phrase at the cue (before the verb, after it, after "laut" /
"so" / "von", before "zufolge"), resolved to a name by `rag.quotes.resolve`.

Shortcuts: no parser and no tagger, so rules look at word lists and punctuation only; a
clause is the stretch between commas, colons and quotes. Konjunktiv I is recognised by
a list of frequent forms, not by morphology. Precision is preferred to recall: a
sentence that matches no rule confidently is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.quotes.extract_text import Doc, parse
from rag.quotes.lexicon import (
    DETERMINERS,
    FILLERS,
    JOINED_SPEECH_VERBS,
    KONJUNKTIV_I,
    PRONOUNS,
    SEPARABLE_SPEECH_VERBS,
    SPEECH_VERBS,
    WEAK_CUES,
    Verb,
    is_source_word,
    word_list,
)
from rag.quotes.resolve import (
    Resolver,
    is_group_word,
    is_institution_word,
    is_name_word,
    is_role_word,
)
from rag.quotes.types import Form, Statement

_CLAUSE_MARKS = frozenset(',;:–—()[]„“”"»«')
_QUOTE_MARKS = frozenset('„“”"»«')
_AUXILIARIES = frozenset(
    word_list(
        """
hat hatte haben hatten habe hätte hätten
"""
    )
)
_RELATIVE = frozenset(
    word_list(
        """
der die das dem den deren dessen welche welcher welches wo
"""
    )
)


# The rules' version: stored statements extracted by another version are redone.
VERSION = "1.0"


@dataclass
class _Found:
    """A statement before its speaker is resolved."""

    parts: list[tuple[int, int]]
    form: Form
    cue_tokens: list[int]
    source: tuple[int, int] | None  # token range of the speaker mention
    sentence: int  # index of the (last) sentence it is in
    plural: bool = False
    parent: _Found | None = None  # the statement a continuation continues
    cue_text: str = ""
    children: list[_Found] = field(default_factory=list)


def extract(text: str) -> list[Statement]:
    """Every statement in `text` (a cleaned article) with its speaker, in text order."""
    if not text or not text.strip():
        return []
    doc = parse(text)
    found = _find(doc)
    return _resolve(doc, found)


# --- finding ---------------------------------------------------------------------------


def _find(doc: Doc) -> list[_Found]:
    found: list[_Found] = []
    consumed: set[int] = set()
    skip = _headline_or_question_sentences(doc)
    by_sentence: dict[int, list[_Found]] = {}
    for st in _direct_statements(doc, skip):
        found.append(st)
        for k in _sentences_of(doc, st.parts):
            consumed.add(k)
            by_sentence.setdefault(k, []).append(st)
    for k in range(len(doc.sentences)):
        if k in consumed or k in skip:
            continue
        st = _indirect(doc, k) or _reported(doc, k)
        if st is not None and st.source is None:
            # "Demnach …", "…, hieß es": the source named before speaks on
            st.parent = _previous(by_sentence, k)
            if st.parent is not None:
                st.parent = st.parent.parent or st.parent
        if st is None:
            st = _continuation(doc, k, by_sentence)
            if st is None:
                continue
            prev = st.parent
            if (
                prev is not None
                and prev.sentence == k - 1
                and prev.form == "indirect"
                and not prev.cue_tokens
            ):
                # one more sentence of the same continuation: extend it
                prev.parts[-1] = (prev.parts[-1][0], st.parts[-1][1])
                prev.sentence = k
                by_sentence.setdefault(k, []).append(prev)
                continue
            st.parent = prev.parent or prev if prev is not None else None
        found.append(st)
        by_sentence.setdefault(k, []).append(st)
    found.sort(key=lambda f: f.parts[0][0])
    return found


def _sentences_of(doc: Doc, parts: list[tuple[int, int]]) -> list[int]:
    first = _sentence_index(doc, doc.token_at(parts[0][0]))
    last = _sentence_index(doc, doc.token_at(parts[-1][1] - 1))
    return list(range(first, last + 1))


def _sentence_index(doc: Doc, token: int) -> int:
    lo, hi = 0, len(doc.sentences) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if doc.sentences[mid][1] <= token:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _headline_or_question_sentences(doc: Doc) -> set[int]:
    """Sentences that are never statements: headlines, and questions outside quotes."""
    skip = set()
    text = doc.text
    for k, (first, last) in enumerate(doc.sentences):
        s, e = doc.tokens[first][0], doc.tokens[last - 1][1]
        line_start = text.rfind("\n", 0, s) + 1
        line_end = text.find("\n", e)
        line_end = len(text) if line_end < 0 else line_end
        line = text[line_start:line_end].rstrip()
        if (
            line
            and line[-1] not in '.!?“”"«»:;)…'
            and last - first <= 20
            or doc.words[last - 1] == "?"
        ):
            skip.add(k)
    return skip


def _direct_statements(doc: Doc, skip: set[int]) -> list[_Found]:
    out: list[_Found] = []
    quotes = doc.quotes
    used: set[int] = set()
    previous: _Found | None = None
    for qi, (qs, qe) in enumerate(quotes):
        if qi in used:
            continue
        t_open = doc.token_at(qs)
        t_close = doc.token_at(qe - 1)
        if sum(1 for i in range(t_open, t_close) if doc.words[i][0].isalnum()) < 2:
            continue
        k = _sentence_index(doc, t_open)
        parts = [(qs, qe)]
        after = _cue_after_quote(doc, t_close + 1)
        if after is not None:
            cue_tokens, source, next_token, plural = after
            # interrupted quote: „…“, sagte er, „…“
            if (
                next_token is not None
                and qi + 1 < len(quotes)
                and doc.token_at(quotes[qi + 1][0]) == next_token
            ):
                parts.append(quotes[qi + 1])
                used.add(qi + 1)
            st = _Found(
                parts,
                "direct",
                cue_tokens,
                source,
                _sentence_index(doc, doc.token_at(parts[-1][1] - 1)),
                plural,
            )
            out.append(st)
            previous = st
            continue
        before = _cue_before_quote(doc, k, t_open)
        if before is not None:
            cue_tokens, source, plural = before
            st = _Found(parts, "direct", cue_tokens, source, _sentence_index(doc, t_close), plural)
            out.append(st)
            previous = st
            continue
        # a whole-sentence quotation right after a direct statement continues it
        first, _ = doc.sentences[k]
        if (
            previous is not None
            and t_open == first
            and 1 <= k - previous.sentence <= 2
            and k not in skip
            and _quote_ends_sentence(doc, t_close)
        ):
            root = previous.parent or previous
            st = _Found(parts, "direct", [], None, _sentence_index(doc, t_close), parent=root)
            out.append(st)
            previous = st
    return out


def _quote_ends_sentence(doc: Doc, t_close: int) -> bool:
    k = _sentence_index(doc, t_close)
    last = doc.sentences[k][1]
    rest = [w for w in doc.words[t_close + 1 : last]]
    return all(not w[0].isalnum() for w in rest)


def _cue_after_quote(doc: Doc, t: int):
    """(cue tokens, source range, token after the cue clause, plural) for „…“, sagte X."""
    n = len(doc.words)
    if t < n and doc.words[t] in ",–—":
        t += 1
    elif t >= n or doc.words[t - 2] not in ",.!?…":  # „…“ sagte is a title, „…,“ sagte a quote
        return None
    if t >= n:
        return None
    k = _sentence_index(doc, t)
    end = doc.sentences[k][1]
    word = doc.words[t]
    cue: list[int] | None = None
    source: tuple[int, int] | None = None
    if word.lower() == "so":
        source = _so_speaker(doc, t, end)
        if source is None:
            return None
        cue = [t]
    elif word in ("heißt", "hieß") and t + 1 < end and doc.words[t + 1] == "es":
        cue = [t, t + 1]
        source = _document_after(doc, t + 2, end)
    else:
        verb = _speech_verb(doc, t, end, strict=False)
        if verb is None:
            return None
        cue = verb[1]
        source = _noun_phrase(doc, t + 1, end)
        if source is not None and not _speaker_like(doc, source):
            source = None
    plural = _plural(doc.words[t]) and doc.words[t].lower() != "so"
    after_cue = source[1] if source else cue[-1] + 1
    next_token = None
    # skip the rest of the cue clause up to ", „"
    i = after_cue
    while i < end and doc.words[i] not in _QUOTE_MARKS:
        if doc.words[i] == "," and i + 1 < n and doc.words[i + 1] in _QUOTE_MARKS:
            next_token = i + 1
            break
        i += 1
    return cue, source, next_token, plural


def _cue_before_quote(doc: Doc, k: int, t_open: int):
    """(cue tokens, source range, plural) for 'Peskow sagte: „…“'."""
    first, _ = doc.sentences[k]
    if t_open - 1 <= first or doc.words[t_open - 1] != ":":
        return None
    colon = t_open - 1
    for v in range(first, colon):
        verb = _speech_verb(doc, v, colon + 1, strict=False)
        if verb is None:
            continue
        source = _source_for_verb(doc, first, v, verb[1], colon)
        if source is None:
            return None
        return verb[1], source, _plural(doc.words[v])
    # no speech verb ("Das Fazit von Sandra Boser: „…“", "Die Bewohner riefen: „…“"):
    # a whole quoted sentence after a colon, and someone who can speak before it
    t_close = doc.token_at(next(qe for qs, qe in doc.quotes if qs == doc.tokens[t_open][0]) - 1)
    if sum(1 for i in range(t_open, t_close) if doc.words[i][0].isalnum()) < 4:
        return None
    for p in range(first, colon):
        if p > first and doc.words[p - 1].lower() in _PREPOSITIONS_BEFORE_NOUN:
            continue
        np = _noun_phrase(doc, p, colon)
        if np is not None and _speaker_like(doc, np) and doc.words[p] not in PRONOUNS:
            return [], np, False
        if np is not None and doc.words[p] in PRONOUNS and p == first:
            return [], np, False
    return None


_PREPOSITIONS_BEFORE_NOUN = frozenset(
    word_list("in im an am auf aus bei mit nach vor über unter zu zum zur für gegen um durch")
)


def _speech_verb(doc: Doc, i: int, end: int, strict: bool = True) -> tuple[Verb, list[int]] | None:
    """The speech verb at token i and its cue tokens (with a separable particle)."""
    w = doc.words[i]
    low = w.lower() if i == doc.sentences[_sentence_index(doc, i)][0] else w
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
    while i < end and doc.words[i] not in _CLAUSE_MARKS and doc.words[i] not in ".!?":
        closes = i + 1 >= end or not doc.words[i + 1][0].isalnum()
        if doc.words[i] == particle and closes and (i + 1 >= end or doc.words[i + 1] != "("):
            return i
        i = _skip_brackets(doc, i + 1, end)
    return None


def _skip_brackets(doc: Doc, i: int, end: int) -> int:
    """i, or the index after a short bracketed aside starting at i ("(Ortszeit)")."""
    if i < end and doc.words[i] == "(":
        for j in range(i + 1, min(end, i + 8)):
            if doc.words[j] == ")":
                return j + 1
    return i


def _noun_phrase(doc: Doc, i: int, end: int) -> tuple[int, int] | None:
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
    title_end = _title_end(doc, j, end)
    if title_end is not None:  # „BBC News“
        return (i, title_end) if j == i or words[i].lower() in DETERMINERS else None
    while j < end and _noun(words[j]):
        j += 1
        if j < end and words[j] == "." and words[j - 1] in ("Dr", "Prof"):
            j += 1
        elif not (
            is_name_word(words[j - 1]) or _common_head(words[j - 1]) or words[j - 1] in _TITLE_WORDS
        ):
            break  # "laut Verfassung Politiker …": a common noun ends the phrase
    if j == start_nouns:
        return None
    while j < end:
        w = words[j]
        if w == "(" and j + 2 < end and words[j + 2] == ")":
            j += 3  # party or country in brackets
            continue
        title_end = _title_end(doc, j, end)
        if title_end is not None:
            j = title_end  # die Musikzeitschrift „Billboard“
            continue
        if w in ("des", "der") and (words[i].lower() in DETERMINERS or _common_head(words[j - 1])):
            k = _genitive_end(doc, j + 1, end)  # "der Sprecher des Ministeriums"
            if k is not None:
                j = k
                continue
        if w in ("von", "vom", "aus") and (
            is_role_word(words[j - 1]) or _plural_noun(words[j - 1])
        ):
            k = _genitive_end(doc, j + 1, end)  # "ein Experte von Greenpeace"
            if k is not None:
                j = k
                continue
        break
    # apposition: "der Leiter der Behörde, Andreas Huber,"
    if (
        j + 2 < end
        and words[j] == ","
        and is_name_word(words[j + 1])
        and is_name_word(words[j + 2])
    ):
        k = j + 1
        while k < end and is_name_word(words[k]):
            k += 1
        if k < end and words[k] == ",":
            j = k
    return (i, j)


_TITLE_WORDS = frozenset(word_list("Dr Prof Professor Professorin Herr Frau"))


def _title_end(doc: Doc, i: int, end: int) -> int | None:
    """The end of a short quoted name at i ('„Billboard“', '„BBC News“'), or None."""
    words = doc.words
    if i >= end or words[i] not in _OPENING_QUOTES:
        return None
    for j in range(i + 1, min(end, i + 7)):
        if words[j] in _QUOTE_MARKS:
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
    title_end = _title_end(doc, i, end)
    if title_end is not None:
        return title_end  # des „Spiegel“
    j = i
    while j < end and _noun(words[j]):
        j += 1
    return j if j > i else None


def _noun(word: str) -> bool:
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


def _plural_noun(word: str) -> bool:
    return word[:1].isupper() and word.endswith(("en", "er", "e"))


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
_NEGATIONS = frozenset(word_list("nicht nie niemals kein keine keinen nichts"))
_SUBORDINATORS = frozenset(
    word_list(
        """
nachdem als weil wenn obwohl während da bevor seit seitdem sobald falls damit indem
sodass ob dass wie wo wer was
"""
    )
)


def _speaker_like(doc: Doc, span: tuple[int, int]) -> bool:
    """Whether a noun phrase can be a speaker: a pronoun, a name, a role, an institution
    ('die Pläne' cannot; 'der Sender NBC News' can)."""
    words = doc.words[span[0] : span[1]]
    if len(words) == 1 and words[0] in PRONOUNS:
        return True
    if any(w in _QUOTE_MARKS for w in words):
        return True  # a publication: die Zeitschrift „Billboard“
    nouns = [w for w in words if _noun(w) and w.lower() not in DETERMINERS]
    if any(is_role_word(w) or is_group_word(w) or is_institution_word(w) for w in nouns):
        return True
    if words[0].lower() in DETERMINERS:
        # "der Sender NBC News": a name after the head noun; "die Pläne" is no speaker;
        # "der 81-Jährige", "die Angeklagte": an adjective used as a noun is a person
        if nouns and nouns[0].lower().endswith(_PERSON_ADJECTIVE_NOUNS):
            return True
        return len(nouns) >= 2 and is_name_word(nouns[1])
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


def _noun_subject(doc: Doc, span: tuple[int, int]) -> bool:
    """A noun phrase with an article, as the subject of a verb of saying with a clause
    after it: "Die Studie zeigt, dass …", "Der Bericht sagt, …" (a source, if no person)."""
    words = doc.words[span[0] : span[1]]
    return len(words) >= 2 and words[0].lower() in DETERMINERS and words[0][:1].isupper()


def _so_speaker(doc: Doc, t: int, end: int) -> tuple[int, int] | None:
    """The speaker after "so" at t ('…, so Peskow.'), or None when "so" is no cue."""
    source = _noun_phrase(doc, t + 1, end)
    if source is None or not _speaker_like(doc, source):
        return None
    after = source[1]
    if after < end and doc.words[after] not in '.,;:!“”"»«–' and doc.words[after] not in FILLERS:
        return None
    return source


def _source_for_verb(
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
        head = _noun_phrase(doc, start, v)
        if (
            head is not None
            and head[1] < v
            and doc.words[head[1]] == ","
            and _speaker_like(doc, head)
        ):
            middle = doc.words[head[1] + 1 : v - 1]
            if middle and middle[0].lower() in _RELATIVE and len(middle) <= 25:
                return head
            if len(middle) <= 12 and middle and middle[0].lower() not in _SUBORDINATORS:
                return (start, v - 1)
    if start < v:
        before = _noun_phrase(doc, start, v)
        if before is not None and before[1] == v:
            first = doc.words[start].lower()
            if _speaker_like(doc, before) or (clause and _noun_subject(doc, before)):
                return before
            if first not in ("das", "dies", "den", "einen", "diesen") and first not in FILLERS:
                return None  # a subject that cannot speak ("Die Flut forderte …")
    i = v + 1
    while i < end and doc.words[i].lower() in FILLERS and not doc.words[i][:1].isupper():
        i += 1
    after = _noun_phrase(doc, i, end)
    if after is not None and _speaker_like(doc, after):
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


def _document_after(doc: Doc, i: int, end: int) -> tuple[int, int] | None:
    """'hieß es aus dem Ministerium' / 'heißt es in einer Mitteilung der Polizei'."""
    while i < end and doc.words[i] not in _CLAUSE_MARKS:
        if doc.words[i] in ("aus", "von", "vom", "in", "im", "seitens") and i + 1 < end:
            return _noun_phrase(doc, i + 1, end)
        i += 1
    return None


def _plural(verb: str) -> bool:
    """Whether a finite verb form is plural: 'sagten', 'fordern' (3rd singular never
    ends in -n: 'sagt', 'sagte', 'schrieb')."""
    return verb.endswith("n")


def _span(doc: Doc, first: int, last: int) -> tuple[int, int]:
    """Character span of tokens [first, last)."""
    return doc.tokens[first][0], doc.tokens[last - 1][1]


def _message(doc: Doc, first: int, last: int, min_words: int = 3) -> tuple[int, int] | None:
    """Character span of the message tokens [first, last), clause marks trimmed."""
    while first < last and doc.words[first] in ",;:–—":
        first += 1
    while last > first and doc.words[last - 1] in ",;:–—.!":
        last -= 1
    if sum(1 for i in range(first, last) if doc.words[i][0].isalnum()) < min_words:
        return None
    return _span(doc, first, last)


def _indirect(doc: Doc, k: int) -> _Found | None:
    """Indirect speech in sentence k, by the first rule that matches."""
    return (
        _according_to(doc, k)
        or _cue_after_clause(doc, k)
        or _wie_clause(doc, k)
        or _cue_before_clause(doc, k)
    )


def _cue_before_clause(doc: Doc, k: int) -> _Found | None:
    """'Peskow sagte, die Präsenz … sei eine Gefahr' / 'Er erinnerte daran, dass …' /
    'Die Polizei hatte mitgeteilt, dass …'."""
    first, last = doc.sentences[k]
    words = doc.words
    titles = {t for t in range(first, last) if _title_end(doc, t, last)}
    inside = {t for start in titles for t in range(start, _title_end(doc, start, last) or start)}
    for v in range(first, min(last, first + 16)):
        if v in inside:
            continue
        if words[v] in _CLAUSE_MARKS and words[v] not in ",()":
            return None
        verb = _speech_verb(doc, v, last)
        if verb is None:
            continue
        cue = verb[1]
        subject_end = v
        if words[v] in JOINED_SPEECH_VERBS and v > first:
            # participle after an auxiliary: "hatte … mitgeteilt,"
            aux = next((a for a in range(v - 1, first, -1) if words[a] in _AUX_FINITE), None)
            if aux is not None and v + 1 < last and words[v + 1] in (",", ":"):
                cue, subject_end = [aux, v], aux
            elif words[v] not in SPEECH_VERBS:  # a participle without its auxiliary
                continue
        c = cue[-1] + 1
        while c < last and words[c] not in (",", ":") and c - v <= 14:
            c = _title_end(doc, c, last) or c
            if words[c] in _QUOTE_MARKS or words[c] in ".!?":
                return None
            c = _skip_brackets(doc, c, last)
            if c < last and words[c] not in (",", ":"):
                c += 1
        if c >= last or words[c] not in (",", ":"):
            return None
        if (
            any(w in _NEGATIONS for w in words[v:c])
            or "sich" in words[v + 1 : c]
            and "bereit" in words[v:c]
        ):
            return None
        source = _source_for_verb(doc, first, subject_end, cue, c)
        if source is None:
            return None
        nxt = words[c + 1] if c + 1 < last else ""
        if nxt.lower() in _RELATIVE and _noun(words[c - 1]) and words[c - 1] not in PRONOUNS:
            return None  # "kritisierte die Pläne, die …": a relative clause, no message
        if words[c] == ":" and nxt in _QUOTE_MARKS:
            return None
        if nxt.lower() in _NOT_REPORTING:
            return None  # "…, indem er …": an adverbial clause, not what was said
        span = _message(doc, c + 1, last)
        if span is None:
            return None
        return _Found([span], "indirect", cue, source, k, _plural(words[cue[0]]))
    return None


_NOT_REPORTING = frozenset(
    word_list("indem weil obwohl nachdem bevor wenn als während da sodass damit um sobald")
)
_HEARSAY = frozenset(word_list("soll sollen"))  # "Er soll … haben": reported, not his own
_AUX_FINITE = frozenset(word_list("hat hatte haben hatten habe hätte hätten ist war wurde"))


def _cue_after_clause(doc: Doc, k: int) -> _Found | None:
    """'…, sagte Peskow.' / '…, so Peskow.' / '…, teilte die Polizei mit.' / '…, hieß es.'"""
    first, last = doc.sentences[k]
    words = doc.words
    for c in range(last - 2, first + 2, -1):
        if words[c] != ",":
            continue
        t = c + 1
        w = words[t]
        if w == "so":
            source = _so_speaker(doc, t, last)
            if source is None:
                continue
            cue = [t]
        elif w in ("heißt", "hieß") and t + 1 < last and words[t + 1] == "es":
            cue = [t, t + 1]
            source = _document_after(doc, t + 2, last)
        else:
            verb = _speech_verb(doc, t, last, strict=False)
            if verb is None:
                continue
            cue = verb[1]
            source = _noun_phrase(doc, t + 1, last)
            if source is None or not _speaker_like(doc, source):
                continue
        if not _main_clause_before(doc, first, c):
            return None
        span = _message(doc, first, c)
        if span is None:
            return None
        return _Found([span], "indirect", cue, source, k, _plural(w) and w != "so")
    return None


def _main_clause_before(doc: Doc, first: int, c: int) -> bool:
    """Whether the words before the comma at c can be a reported clause, not the subject
    and a subordinate clause of the sentence's own verb ("Der Bericht, der … wurde,
    kritisierte …", "Nachdem er …, sagte er …")."""
    words = doc.words
    if words[first].lower() in _SUBORDINATORS and "," not in words[first:c]:
        return False
    commas = [i for i in range(first, c) if words[i] == ","]
    if len(commas) == 1:
        head = commas[0]
        after = words[head + 1].lower() if head + 1 < c else ""
        if head - first <= 6 and (after in _RELATIVE or after in _SUBORDINATORS):
            noun_phrase = _noun_phrase(doc, first, head)
            if noun_phrase is not None and noun_phrase[1] == head:
                return False
    return True


def _wie_clause(doc: Doc, k: int) -> _Found | None:
    """'Wie die Polizei mitteilte, …' / '…, wie er sagte.'"""
    first, last = doc.sentences[k]
    words = doc.words
    for w_i in range(first, last - 2):
        if words[w_i].lower() != "wie" or not (w_i == first or words[w_i - 1] == ","):
            continue
        source = _noun_phrase(doc, w_i + 1, last)
        if source is None or not _speaker_like(doc, source):
            continue
        v = source[1]
        while v < last and words[v].lower() in FILLERS or (v < last and words[v] in _AUXILIARIES):
            v += 1
        if v >= last:
            continue
        verb = JOINED_SPEECH_VERBS.get(words[v]) or SPEECH_VERBS.get(words[v])
        if verb is None:
            continue
        cue = [w_i, v]
        if v + 1 < last and words[v + 1] in _AUXILIARIES:
            v += 1
        if w_i == first:  # Wie X sagte, MSG
            if v + 1 >= last or words[v + 1] != ",":
                continue
            span = _message(doc, v + 2, last)
        else:  # MSG, wie X sagte.
            if v + 1 < last and words[v + 1] not in ".!":
                continue
            span = _message(doc, first, w_i - 1)
        if span is None:
            return None
        return _Found([span], "indirect", cue, source, k, _plural(words[v]))
    return None


def _according_to(doc: Doc, k: int) -> _Found | None:
    """'Laut Peskow …' / 'Peskow zufolge …' / 'Nach Angaben von …' / 'Nach Kreml-Angaben …'."""
    first, last = doc.sentences[k]
    words = doc.words
    for i in range(first, last):
        low = words[i].lower()
        cue_span: tuple[int, int] | None = None
        source: tuple[int, int] | None = None
        cue: list[int] = []
        if low == "laut" or low == "gemäß":
            source = _noun_phrase(doc, i + 1, last)
            if source is None:
                continue
            cue, cue_span = [i], (i, source[1])
        elif low == "zufolge" and i > first:
            for s in range(max(first, i - 10), i):
                np = _noun_phrase(doc, s, i)
                if (
                    np is not None
                    and np[1] == i
                    and (_speaker_like(doc, np) or _source_noun(doc, np))
                ):
                    source = np
                    break
            if source is None:
                continue
            cue, cue_span = [i], (source[0], i + 1)
        elif low == "nach" and i + 1 < last and words[i + 1] in _POSSESSIVES and i + 3 < last:
            # "Seiner Meinung nach" comes out as the possessive before "nach"
            continue
        elif (
            low == "nach"
            and i > first
            and words[i - 2] in _POSSESSIVES
            and is_source_word(words[i - 1])
        ):
            source, cue, cue_span = (i - 2, i - 1), [i - 1, i], (i - 2, i + 1)
        elif low == "nach" and i + 1 < last:
            np = _noun_phrase(doc, i + 1, last)
            if np is None:
                continue
            nouns = [n for n in range(np[0], np[1]) if _noun(words[n])]
            if not nouns or not is_source_word(words[nouns[0]]):
                continue
            head = nouns[0]
            cue, cue_span = [i, head], (i, np[1])
            if "eigenen" in words[i + 1 : head] or "eigener" in words[i + 1 : head]:
                subject = _noun_phrase(doc, first, last) if first != i else None
                source = subject if subject and _speaker_like(doc, subject) else None
                cue_span = (i, head + 1)
            elif np[1] == head + 1 and np[1] < last and words[np[1]] in ("von", "vom", "aus"):
                source = _noun_phrase(doc, np[1] + 1, last)
                if source is None:
                    continue
                cue_span = (i, source[1])
            elif words[head].endswith("angaben") and words[head] != "Angaben" and np[1] == head + 1:
                source = (head, head + 1)
            else:
                source = np
        elif low in ("demnach", "wonach") and (i == first or words[i - 1] == ","):
            cue, cue_span, source = [i], (i, i + 1), None
        else:
            continue
        parts = []
        before = _message(doc, first, cue_span[0], 1) if cue_span[0] > first else None
        after = _message(doc, cue_span[1], last, 1)
        if (
            sum(1 for i in range(first, last) if doc.words[i][0].isalnum())
            - (cue_span[1] - cue_span[0])
            < 4
        ):
            continue
        if before:
            parts.append(before)
        if after:
            parts.append(after)
        if not parts or (cue_span[0] > first + 2 and before is None and not after):
            continue
        return _Found(parts, "indirect", cue, source, k)
    return None


_POSSESSIVES = frozenset(word_list("Seiner Ihrer seiner ihrer Deren deren"))


def _source_noun(doc: Doc, span: tuple[int, int]) -> bool:
    return any(is_source_word(w) for w in doc.words[span[0] : span[1]])


def _reported(doc: Doc, k: int) -> _Found | None:
    """'Peskow warnte vor …' / 'Die Grünen forderten einen Anbaustopp': a verb that
    reports speech, its speaker as subject and no clause; the whole sentence."""
    first, last = doc.sentences[k]
    words = doc.words
    if last - first < 4:
        return None
    for v in range(first + 1, min(last, first + 10)):
        if words[v] in _CLAUSE_MARKS and _title_end(doc, v, last) is None:
            return None
        verb = _speech_verb(doc, v, last)
        if verb is None or not verb[0].reports:
            continue
        if verb[0].lemma in _NEEDS_PREPOSITION and not any(
            w in _NEEDS_PREPOSITION[verb[0].lemma] for w in words[v + 1 : last]
        ):
            return None  # "Er spricht langsam" is no report; "Er sprach von …" is
        source = _source_for_verb(doc, first, v, verb[1], last, clause=False)
        if source is None or not _speaker_like(doc, source):
            return None
        return _Found([_span(doc, first, last)], "reported", verb[1], source, k, _plural(words[v]))
    return None


_NEEDS_PREPOSITION = {"sprechen": ("von", "vom", "über"), "warnen": ("vor", "davor")}


def _previous(by_sentence: dict[int, list[_Found]], k: int) -> _Found | None:
    """The last statement in the few sentences before sentence k, if any."""
    for back in range(1, _CONTINUATION_WINDOW + 1):
        if by_sentence.get(k - back):
            return by_sentence[k - back][-1]
    return None


def _continuation(doc: Doc, k: int, by_sentence: dict[int, list[_Found]]) -> _Found | None:
    """A sentence in Konjunktiv I (or with hearsay "soll") and no cue of its own, within
    a few sentences after a statement, continues that statement."""
    previous = _previous(by_sentence, k)
    if previous is None:
        return None
    first, last = doc.sentences[k]
    words = doc.words[first:last]
    if len(words) < 4 or any(w in _QUOTE_MARKS for w in words) or _inside_quote(doc, k):
        return None
    lowered = [words[0].lower(), *words[1:]]
    if "ich" in lowered or "wir" in lowered:
        return None
    if not any(w in KONJUNKTIV_I or w in _HEARSAY for w in lowered):
        return None
    return _Found([_span(doc, first, last)], "indirect", [], None, k, parent=previous)


_CONTINUATION_WINDOW = 2


def _inside_quote(doc: Doc, k: int) -> bool:
    """Whether sentence k lies inside a quotation (a multi-sentence quote's middle)."""
    start, end = doc.sentence_span(k)
    return any(qs < start and end < qe for qs, qe in doc.quotes)


# --- resolving -------------------------------------------------------------------------


def _resolve(doc: Doc, found: list[_Found]) -> list[Statement]:
    resolver = Resolver(doc.words, doc.tokens)
    text = doc.text
    resolved: dict[int, tuple] = {}
    out: list[Statement] = []
    for f in sorted(found, key=lambda f: f.parts[0][0]):
        start, end = f.parts[0][0], f.parts[-1][1]
        cue_spans = tuple(doc.tokens[i] for i in f.cue_tokens)
        cue = " … ".join(text[s:e] for s, e in cue_spans)
        if f.source is not None:
            s, e = _span(doc, *f.source)
            speaker = resolver.resolve(doc.words[f.source[0] : f.source[1]], s, f.plural)
            mention, mention_span = text[s:e], (s, e)
        elif f.parent is not None and id(f.parent) in resolved:
            speaker, mention = resolved[id(f.parent)]
            mention_span = None
        else:
            speaker = None
            mention, mention_span = "", None
        resolved[id(f)] = (speaker, mention)
        out.append(
            Statement(
                start=start,
                end=end,
                text=text[start:end],
                form=f.form,
                cue=cue,
                cue_spans=cue_spans,
                mention=mention,
                mention_span=mention_span,
                speaker=speaker.name if speaker else None,
                role=speaker.role if speaker else None,
                kind=speaker.kind if speaker else "unknown",
                aliases=speaker.aliases if speaker else (),
                parts=tuple(f.parts),
            )
        )
    return out
