"""Indirect and reported speech, sentence by sentence, and the sentences that continue
a statement.

- a cue before the clause: "Peskow sagte, …" / "Er erinnerte daran, dass …" / "Die
  Polizei hatte mitgeteilt, dass …";
- a cue after it: "…, sagte Peskow." / "…, so Peskow." / "…, hieß es.";
- "Wie die Polizei mitteilte, …" / "…, wie er sagte.";
- a source phrase: "Laut Peskow …" / "Peskow zufolge …" / "Nach Angaben der Polizei …" /
  "Nach Kreml-Angaben …" / "Seiner Meinung nach …" / "Demnach …";
- reported speech: a verb that reports ("warnte vor", "forderte", "sprach von") with a
  speaker as its subject and no clause: the whole sentence;
- a sentence in Konjunktiv I (or with hearsay "soll") and no cue of its own within two
  sentences after a statement continues it.
"""

from __future__ import annotations

from rag.quotes.extract_phrases import (
    CLAUSE_MARKS,
    NEGATIONS,
    QUOTE_MARKS,
    RELATIVE,
    SUBORDINATORS,
    Found,
    document_after,
    message,
    noun,
    noun_phrase,
    plural,
    skip_brackets,
    so_speaker,
    source_for_verb,
    source_noun,
    span,
    speaker_like,
    speech_verb,
    subject_like,
    title_end,
)
from rag.quotes.extract_text import Doc
from rag.quotes.lexicon import (
    FILLERS,
    JOINED_SPEECH_VERBS,
    KONJUNKTIV_I,
    PRONOUNS,
    SPEECH_VERBS,
    is_source_word,
    word_list,
)

_AUXILIARIES = frozenset(
    word_list(
        """
hat hatte haben hatten habe hätte hätten
"""
    )
)


def indirect(doc: Doc, k: int) -> Found | None:
    """Indirect speech in sentence k, by the first rule that matches."""
    return (
        _cue_after_clause(doc, k)
        or _wie_clause(doc, k)
        or _cue_before_clause(doc, k)
        or _according_to(doc, k)
        or _relative_speaker(doc, k)
    )


def _relative_speaker(doc: Doc, k: int) -> Found | None:
    """'… Reinhard Bütikofer, der sagte, man dürfe nicht …': the speaker is the name the
    relative pronoun refers to."""
    first, last = doc.sentences[k]
    words = doc.words
    for i in range(first + 1, last - 4):
        if words[i] != "," or words[i + 1] not in ("der", "die"):
            continue
        verb = speech_verb(doc, i + 2, last)
        if verb is None:
            continue
        c = verb[1][-1] + 1
        while c < last and words[c] not in ",:" and c - i <= 10:
            if words[c] in QUOTE_MARKS or words[c] in ".!?":
                break
            c += 1
        if c >= last or words[c] not in ",:":
            continue
        source = None
        for s in range(max(first, i - 8), i):
            np = noun_phrase(doc, s, i)
            if np is not None and np[1] == i and speaker_like(doc, np) and doc.words[s] != ",":
                source = np
                break
        if source is None:
            continue
        msg = message(doc, c + 1, last)
        if msg is None or words[c + 1].lower() in _NOT_REPORTING:
            continue
        return Found([msg], "indirect", verb[1], source, k, plural(words[i + 2]))
    return None


def _cue_before_clause(doc: Doc, k: int) -> Found | None:
    """'Peskow sagte, die Präsenz … sei eine Gefahr' / 'Er erinnerte daran, dass …' /
    'Die Polizei hatte mitgeteilt, dass …'."""
    first, last = doc.sentences[k]
    words = doc.words
    titles = {t for t in range(first, last) if title_end(doc, t, last)}
    inside = {t for start in titles for t in range(start, title_end(doc, start, last) or start)}
    for v in range(first, min(last, first + 30)):
        if v in inside:
            continue
        if words[v] in CLAUSE_MARKS and words[v] not in ",()":
            return None
        verb = speech_verb(doc, v, last)
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
            c = title_end(doc, c, last) or c
            if words[c] in QUOTE_MARKS or words[c] in ".!?":
                return None
            c = skip_brackets(doc, c, last)
            if c < last and words[c] not in (",", ":"):
                c += 1
        if c >= last or words[c] not in (",", ":"):
            return None
        if (
            any(w in NEGATIONS for w in words[v:c])
            or "sich" in words[v + 1 : c]
            and "bereit" in words[v:c]
        ):
            return None
        source = source_for_verb(doc, first, subject_end, cue, c)
        if source is None:
            return None
        nxt = words[c + 1] if c + 1 < last else ""
        if (
            nxt.lower() in RELATIVE
            and noun(words[c - 1])
            and words[c - 1] not in PRONOUNS
            and not _article_and_noun(doc, c + 1, last)
        ):
            return None  # "kritisierte die Pläne, die …": a relative clause, no message
        if words[c] == ":" and nxt in QUOTE_MARKS:
            return None
        if nxt.lower() in _NOT_REPORTING:
            return None  # "…, indem er …": an adverbial clause, not what was said
        msg = message(doc, c + 1, last)
        if msg is None:
            return None
        return Found([msg], "indirect", cue, source, k, plural(words[cue[0]]))
    return None


_NOT_REPORTING = frozenset(
    word_list("indem weil obwohl nachdem bevor wenn als während da sodass damit um sobald")
)


_HEARSAY = frozenset(word_list("soll sollen"))  # "Er soll … haben": reported, not his own


_AUX_FINITE = frozenset(word_list("hat hatte haben hatten habe hätte hätten ist war wurde"))


def _article_and_noun(doc: Doc, i: int, end: int) -> bool:
    """Whether an article at i starts a noun phrase ("die Fraktion nehme …", a clause of
    its own) rather than a relative clause ("die er vorgelegt hatte")."""
    j = i + 1
    while j < end and doc.words[j][:1].islower() and doc.words[j].endswith(("e", "en", "er", "es")):
        j += 1
    return j < end and noun(doc.words[j]) and doc.words[j] not in PRONOUNS


def _cue_after_clause(doc: Doc, k: int) -> Found | None:
    """'…, sagte Peskow.' / '…, so Peskow.' / '…, teilte die Polizei mit.' / '…, hieß es.'"""
    first, last = doc.sentences[k]
    words = doc.words
    for c in range(last - 2, first, -1):
        if words[c] != ",":
            continue
        t = c + 1
        w = words[t]
        if w == "so":
            source = so_speaker(doc, t, last)
            if source is None:
                continue
            cue = [t]
        elif w in ("heißt", "hieß") and t + 1 < last and words[t + 1] == "es":
            cue = [t, t + 1]
            source = document_after(doc, t + 2, last)
        else:
            verb = speech_verb(doc, t, last, strict=False)
            if verb is None:
                continue
            cue = verb[1]
            source = noun_phrase(doc, t + 1, last)
            if source is None or not subject_like(doc, source):
                continue
        if source is not None and source[1] < last and words[source[1]] == ":":
            continue  # "…, erklärte Beckenbauer: …" introduces what follows
        if not _main_clause_before(doc, first, c):
            return None
        end = source[1] if source else cue[-1] + 1
        if source is not None and end + 1 < last and words[end] == ",":
            # in the middle: "Künftig, so Pötsch, wird VW …" / "Die Lage, sagte er, sei ernst"
            parts = [message(doc, first, c, 1), message(doc, end + 1, last, 2)]
            if parts[1] is None:
                return None
            parts = [p for p in parts if p is not None]
        else:
            msg = message(doc, first, c)
            if msg is None:
                return None
            parts = [msg]
        return Found(parts, "indirect", cue, source, k, plural(w) and w != "so")
    return None


def _main_clause_before(doc: Doc, first: int, c: int) -> bool:
    """Whether the words before the comma at c can be a reported clause, not the subject
    and a subordinate clause of the sentence's own verb ("Der Bericht, der … wurde,
    kritisierte …", "Nachdem er …, sagte er …")."""
    words = doc.words
    if words[first].lower() in SUBORDINATORS and "," not in words[first:c]:
        # "Da er kam, …" subordinates; "Da waren wir zu unsicher, …" is an adverb + verb
        following = words[first + 1] if first + 1 < c else ""
        if not following[:1].islower() or following in _CLAUSE_SUBJECTS:
            return False
    commas = [i for i in range(first, c) if words[i] == ","]
    if len(commas) == 1:
        head = commas[0]
        after = words[head + 1].lower() if head + 1 < c else ""
        if head - first <= 6 and (after in RELATIVE or after in SUBORDINATORS):
            subject = noun_phrase(doc, first, head)
            if subject is not None and subject[1] == head:
                return False
    return True


_CLAUSE_SUBJECTS = frozenset(
    word_list("er sie es man wir ich du ihr der die das den dem ein eine einer sich")
)


def _wie_clause(doc: Doc, k: int) -> Found | None:
    """'Wie die Polizei mitteilte, …' / '…, wie er sagte.'"""
    first, last = doc.sentences[k]
    words = doc.words
    for w_i in range(first, last - 2):
        if words[w_i].lower() != "wie" or not (w_i == first or words[w_i - 1] == ","):
            continue
        source = noun_phrase(doc, w_i + 1, last)
        if source is None or not speaker_like(doc, source):
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
            msg = message(doc, v + 2, last)
        else:  # MSG, wie X sagte.
            if v + 1 < last and words[v + 1] not in ".!":
                continue
            msg = message(doc, first, w_i - 1)
        if msg is None:
            return None
        return Found([msg], "indirect", cue, source, k, plural(words[v]))
    return None


def _according_to(doc: Doc, k: int) -> Found | None:
    """'Laut Peskow …' / 'Peskow zufolge …' / 'Nach Angaben von …' / 'Nach Kreml-Angaben …'."""
    first, last = doc.sentences[k]
    words = doc.words
    for i in range(first, last):
        low = words[i].lower()
        cue_span: tuple[int, int] | None = None
        source: tuple[int, int] | None = None
        cue: list[int] = []
        if low == "laut" or low == "gemäß":
            source = noun_phrase(doc, i + 1, last)
            if source is None:
                continue
            cue, cue_span = [i], (i, source[1])
        elif low == "zufolge" and i > first:
            for s in range(max(first, i - 10), i):
                np = noun_phrase(doc, s, i)
                if (
                    np is not None
                    and np[1] == i
                    and (speaker_like(doc, np) or source_noun(doc, np))
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
            np = noun_phrase(doc, i + 1, last)
            if np is None:
                continue
            nouns = [n for n in range(np[0], np[1]) if noun(words[n])]
            if not nouns or not is_source_word(words[nouns[0]]):
                continue
            head = nouns[0]
            cue, cue_span = [i, head], (i, np[1])
            if "eigenen" in words[i + 1 : head] or "eigener" in words[i + 1 : head]:
                subject = noun_phrase(doc, first, last) if first != i else None
                source = subject if subject and speaker_like(doc, subject) else None
                cue_span = (i, head + 1)
            elif np[1] == head + 1 and np[1] < last and words[np[1]] in ("von", "vom", "aus"):
                source = noun_phrase(doc, np[1] + 1, last)
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
        before = message(doc, first, cue_span[0], 1) if cue_span[0] > first else None
        after = message(doc, cue_span[1], last, 1)
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
        return Found(parts, "indirect", cue, source, k)
    return None


_POSSESSIVES = frozenset(word_list("Seiner Ihrer seiner ihrer Deren deren"))


def reported(doc: Doc, k: int) -> Found | None:
    """'Peskow warnte vor …' / 'Die Grünen forderten einen Anbaustopp': a verb that
    reports speech, its speaker as subject and no clause; the whole sentence."""
    first, last = doc.sentences[k]
    words = doc.words
    if last - first < 4:
        return None
    for v in range(first + 1, min(last, first + 10)):
        if words[v] in CLAUSE_MARKS and title_end(doc, v, last) is None:
            return None
        verb = speech_verb(doc, v, last)
        if verb is None or not verb[0].reports:
            continue
        if verb[0].lemma in _NEEDS_PREPOSITION and not any(
            w in _NEEDS_PREPOSITION[verb[0].lemma] for w in words[v + 1 : last]
        ):
            return None  # "Er spricht langsam" is no report; "Er sprach von …" is
        source = source_for_verb(doc, first, v, verb[1], last, clause=False)
        if source is None or not speaker_like(doc, source):
            return None
        quoted = _quoted_words(doc, v, last)
        if quoted:  # "bezeichnete den Anschlag als „barbarische Tat“": their words
            return Found(quoted, "direct", verb[1], source, k, plural(words[v]))
        return Found([span(doc, first, last)], "reported", verb[1], source, k, plural(words[v]))
    return None


def _quoted_words(doc: Doc, v: int, last: int) -> list[tuple[int, int]]:
    """The quotations after the verb at v in its sentence, not names or titles inside
    the speaker's phrase ("die Zeitschrift „Billboard“")."""
    start, end = doc.tokens[v][1], doc.tokens[last - 1][1]
    return [(qs, qe) for qs, qe in doc.quotes if start <= qs and qe <= end]


_NEEDS_PREPOSITION = {"sprechen": ("von", "vom", "über"), "warnen": ("vor", "davor")}


def previous(by_sentence: dict[int, list[Found]], k: int) -> Found | None:
    """The last statement in the few sentences before sentence k, if any."""
    for back in range(1, _CONTINUATION_WINDOW + 1):
        if by_sentence.get(k - back):
            return by_sentence[k - back][-1]
    return None


def continuation(doc: Doc, k: int, by_sentence: dict[int, list[Found]]) -> Found | None:
    """A sentence in Konjunktiv I (or with hearsay "soll") and no cue of its own, within
    a few sentences after a statement, continues that statement."""
    last_statement = previous(by_sentence, k)
    if last_statement is None:
        return None
    first, last = doc.sentences[k]
    words = doc.words[first:last]
    if len(words) < 4 or words[0] in QUOTE_MARKS or _inside_quote(doc, k):
        return None
    lowered = [words[0].lower(), *words[1:]]
    if "ich" in lowered or "wir" in lowered:
        return None
    if not any(w in KONJUNKTIV_I or w in _HEARSAY for w in lowered):
        return None
    return Found([span(doc, first, last)], "indirect", [], None, k, parent=last_statement)


_CONTINUATION_WINDOW = 2


def _inside_quote(doc: Doc, k: int) -> bool:
    """Whether sentence k lies inside a quotation (a multi-sentence quote's middle)."""
    start, end = doc.sentence_span(k)
    return any(qs < start and end < qe for qs, qe in doc.quotes)
