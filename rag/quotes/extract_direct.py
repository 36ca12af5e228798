"""Direct speech: quotations with a cue after them („…“, sagte Peskow), a speech verb
and a colon before them (Peskow sagte: „…“), interrupted by their cue („…“, sagte er,
„…“), and whole quoted sentences that continue the direct statement before them.

A quotation with no cue at all (a title, a slogan, a name in quotes) is no statement.
"""

from __future__ import annotations

from rag.quotes.extract_phrases import (
    QUOTE_MARKS,
    Found,
    document_after,
    noun_phrase,
    plural,
    sentence_index,
    so_speaker,
    source_for_verb,
    speaker_like,
    speech_verb,
    subject_like,
)
from rag.quotes.extract_text import Doc
from rag.quotes.lexicon import (
    PRONOUNS,
    word_list,
)


def direct_statements(doc: Doc, skip: set[int]) -> list[Found]:
    out: list[Found] = []
    quotes = doc.quotes
    used: set[int] = set()
    previous: Found | None = None
    for qi, (qs, qe) in enumerate(quotes):
        if qi in used:
            continue
        t_open = doc.token_at(qs)
        t_close = doc.token_at(qe - 1)
        if sum(1 for i in range(t_open, t_close) if doc.words[i][0].isalnum()) < 2:
            continue
        k = sentence_index(doc, t_open)
        parts = [(qs, qe)]
        after = _cue_after_quote(doc, t_close + 1)
        if after is not None:
            cue_tokens, source, next_token, is_plural = after
            # interrupted quote: „…“, sagte er, „…“
            if (
                next_token is not None
                and qi + 1 < len(quotes)
                and doc.token_at(quotes[qi + 1][0]) == next_token
            ):
                parts.append(quotes[qi + 1])
                used.add(qi + 1)
            st = Found(
                parts,
                "direct",
                cue_tokens,
                source,
                sentence_index(doc, doc.token_at(parts[-1][1] - 1)),
                is_plural,
            )
            out.append(st)
            previous = st
            continue
        before = _cue_before_quote(doc, k, t_open)
        if before is not None:
            cue_tokens, source, is_plural = before
            st = Found(parts, "direct", cue_tokens, source, sentence_index(doc, t_close), is_plural)
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
            st = Found(parts, "direct", [], None, sentence_index(doc, t_close), parent=root)
            out.append(st)
            previous = st
    return out


def _quote_ends_sentence(doc: Doc, t_close: int) -> bool:
    k = sentence_index(doc, t_close)
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
    k = sentence_index(doc, t)
    end = doc.sentences[k][1]
    word = doc.words[t]
    cue: list[int] | None = None
    source: tuple[int, int] | None = None
    if word.lower() == "so":
        source = so_speaker(doc, t, end)
        if source is None:
            return None
        cue = [t]
    elif word in ("heißt", "hieß") and t + 1 < end and doc.words[t + 1] == "es":
        cue = [t, t + 1]
        source = document_after(doc, t + 2, end)
    else:
        verb = speech_verb(doc, t, end, strict=False)
        if verb is None:
            return None
        cue = verb[1]
        source = noun_phrase(doc, t + 1, end)
        if source is not None and not subject_like(doc, source):
            source = None
    is_plural = plural(doc.words[t]) and doc.words[t].lower() != "so"
    after_cue = source[1] if source else cue[-1] + 1
    next_token = None
    # skip the rest of the cue clause up to ", „"
    i = after_cue
    while i < end and doc.words[i] not in QUOTE_MARKS:
        if doc.words[i] == "," and i + 1 < n and doc.words[i + 1] in QUOTE_MARKS:
            next_token = i + 1
            break
        i += 1
    return cue, source, next_token, is_plural


def _cue_before_quote(doc: Doc, k: int, t_open: int):
    """(cue tokens, source range, plural) for 'Peskow sagte: „…“'."""
    first, _ = doc.sentences[k]
    if t_open - 1 <= first or doc.words[t_open - 1] != ":":
        return None
    colon = t_open - 1
    for v in range(first, colon):
        verb = speech_verb(doc, v, colon + 1, strict=False)
        if verb is None:
            continue
        source = source_for_verb(doc, first, v, verb[1], colon)
        if source is None:
            return None
        return verb[1], source, plural(doc.words[v])
    # no speech verb ("Das Fazit von Sandra Boser: „…“", "Die Bewohner riefen: „…“"):
    # a whole quoted sentence after a colon, and someone who can speak before it
    t_close = doc.token_at(next(qe for qs, qe in doc.quotes if qs == doc.tokens[t_open][0]) - 1)
    if sum(1 for i in range(t_open, t_close) if doc.words[i][0].isalnum()) < 4:
        return None
    for p in range(first, colon):
        if p > first and doc.words[p - 1].lower() in _PREPOSITIONS_BEFORE_NOUN:
            continue
        np = noun_phrase(doc, p, colon)
        if np is not None and speaker_like(doc, np) and doc.words[p] not in PRONOUNS:
            return [], np, False
        if np is not None and doc.words[p] in PRONOUNS and p == first:
            return [], np, False
    return None


_PREPOSITIONS_BEFORE_NOUN = frozenset(
    word_list("in im an am auf aus bei mit nach vor über unter zu zum zur für gegen um durch")
)
