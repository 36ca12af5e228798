"""Who said what: every statement in a cleaned article, with its speaker, by rules.

`extract(text)` returns `Statement`s (`rag.quotes.types`) in text order; every span is
exact (`text[s.start:s.end] == s.text`). The rules, tried in this order on each
sentence:

1. **direct** — a quotation with a cue after it („…“, sagte Peskow / „…“, so Peskow /
   „…“, teilte die Polizei mit; also interrupted: „…“, sagte er, „…“) or a speech verb
   and a colon before it (Peskow sagte: „…“ / Das machte Peskow deutlich: „…“).
   A quoted sentence after a colon and a speaker is direct speech even without a verb
   ("Das Fazit von Sandra Boser: „…“"); a quoted whole sentence up to two sentences
   after a direct statement continues it, same speaker.
2. **indirect** — a speech verb and its clause: "Peskow sagte, die Präsenz … sei eine
   Gefahr" / "Peskow erinnerte daran, dass …" / "…, sagte Peskow." / "…, so Peskow." /
   "Wie die Polizei mitteilte, …" / "…, wie er sagte." / "Laut Peskow …" /
   "Peskow zufolge …" / "Nach Angaben von …" / "Nach Kreml-Angaben …" / "…, hieß es".
   A sentence in Konjunktiv I (or with hearsay "soll") without a cue of its own, up to
   two sentences after a statement ("Die NATO sehe Russland als Feind"), continues it.
3. **reported** — a verb that reports speech, with a speaker as subject and no clause
   ("Peskow warnte vor …", "Die Grünen forderten einen Anbaustopp", "Er sprach von
   einem Erfolg"): the whole sentence is the statement.

Never statements: headlines (a short paragraph without final punctuation), questions,
quotations without a cue (titles, slogans, names of things).

The speaker is the noun phrase at the cue (before the verb, after it, after "laut" /
"so" / "von", before "zufolge"), resolved to a name by `rag.quotes.resolve`.

Modules: `extract_text` (tokens, sentences, quotations with offsets), `extract_phrases`
(speaker noun phrases, speech verbs, message spans), `extract_direct` and
`extract_clauses` (the rules), `lexicon` (the word lists), `resolve` (speakers). This
module runs them and turns what they find into `Statement`s.

Shortcuts: no parser and no tagger, so rules look at word lists and punctuation only; a
clause is the stretch between commas, colons and quotes. Konjunktiv I is recognised by
a list of frequent forms, not by morphology. Precision is preferred to recall: a
sentence that matches no rule confidently is left out. The rules were written from
general German and checked against the SpkAtt-2023 training documents; nothing is
learned from that data and none of it is shipped.
"""

from __future__ import annotations

from rag.quotes.extract_clauses import continuation, indirect, previous, reported
from rag.quotes.extract_direct import direct_statements
from rag.quotes.extract_phrases import Found, sentence_index, span
from rag.quotes.extract_text import Doc, parse
from rag.quotes.resolve import Resolver
from rag.quotes.types import Statement

# The rules' version: statements stored by another version are extracted again.
VERSION = "1.12"


def extract(text: str) -> list[Statement]:
    """Every statement in `text` (a cleaned article) with its speaker, in text order."""
    if not text or not text.strip():
        return []
    doc = parse(text)
    found = _find(doc)
    return _resolve(doc, found)


# --- finding ---------------------------------------------------------------------------


def _find(doc: Doc) -> list[Found]:
    found: list[Found] = []
    consumed: set[int] = set()
    skip = _headline_or_question_sentences(doc)
    by_sentence: dict[int, list[Found]] = {}
    for st in direct_statements(doc, skip):
        found.append(st)
        for k in _sentences_of(doc, st.parts):
            consumed.add(k)
            by_sentence.setdefault(k, []).append(st)
    for k in range(len(doc.sentences)):
        if k in consumed or k in skip:
            continue
        st = indirect(doc, k) or reported(doc, k)
        if st is not None and st.source is None:
            # "Demnach …", "…, hieß es": the source named before speaks on
            st.parent = previous(by_sentence, k)
            if st.parent is not None:
                st.parent = st.parent.parent or st.parent
        if st is None:
            st = continuation(doc, k, by_sentence)
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
    first = sentence_index(doc, doc.token_at(parts[0][0]))
    last = sentence_index(doc, doc.token_at(parts[-1][1] - 1))
    return list(range(first, last + 1))


def _headline_or_question_sentences(doc: Doc) -> set[int]:
    """Sentences that are never statements: headlines (a short line of its own without
    final punctuation), and questions outside quotes."""
    skip = set()
    text = doc.text
    for k, (first, last) in enumerate(doc.sentences):
        s, e = doc.tokens[first][0], doc.tokens[last - 1][1]
        line_start = text.rfind("\n", 0, s) + 1
        line_end = text.find("\n", e)
        line_end = len(text) if line_end < 0 else line_end
        line = text[line_start:line_end].rstrip()
        headline = line[-1:] not in _LINE_ENDS and len(line) <= _HEADLINE_CHARS
        if headline or doc.words[last - 1] == "?":
            skip.add(k)
    return skip


_LINE_ENDS = frozenset('.!?“”"«»:;)…')
_HEADLINE_CHARS = 160


# --- resolving -------------------------------------------------------------------------


def _resolve(doc: Doc, found: list[Found]) -> list[Statement]:
    resolver = Resolver(doc.words, doc.tokens)
    text = doc.text
    resolved: dict[int, tuple] = {}
    out: list[Statement] = []
    for f in sorted(found, key=lambda f: f.parts[0][0]):
        start, end = f.parts[0][0], f.parts[-1][1]
        cue_spans = tuple(doc.tokens[i] for i in f.cue_tokens)
        cue = " … ".join(text[s:e] for s, e in cue_spans)
        if f.source is not None:
            s, e = span(doc, *f.source)
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
