"""The statement route: questions about what someone said, answered from the statement
index instead of from passages that merely mention the person.

`route(assistant, question, filters)` recognises "what did X say (about Y)" and the other
ways journalists ask it, in English and German ("What has Peskow said on NATO?",
"Peskov's remarks on NATO", "Was sagte Putin zur NATO?", "Peskows Aussagen zur NATO",
"Wie äußerte sich Selenskyj zu …", "And what did Putin say? (NATO troops)" as the
follow-up rewrite leaves it). When the index holds statements of X it returns a
`StatementRoute`: X's statements on Y (all of them without a Y) as passages, one per
statement, for an LLM to answer from, and the extractive Answer: the statements in date
order grouped by article, one source number per article, direct quotes verbatim and
indirect or reported ones marked as such. When X said nothing on Y the answer says so and
lists what X did talk about. It returns None when the question is not of that kind or
nobody in the index matches X; the normal path answers then.

Shortcuts: the question patterns are English and German only; X is the trailing run of
capitalised words before the verb, tried from the longest to the shortest ("Kremlin
spokesman Peskov" -> "Peskov"); "on topic" is the statement search's test
(rag.quotes.search.on_topic).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from rag.answer import Answer, Citation
from rag.lang import NON_CONTENT
from rag.quotes.search import StatementSearch, on_topic, verified
from rag.quotes.store import StoredStatement
from rag.schema import Passage

MAX_STATEMENTS = 12  # listed in one answer; the rest are named as a count

_VERBS_EN = (
    r"say|said|says|saying|tell|told|state|stated|claim|claimed|announce|announced|think|"
    r"respond|responded|reply|replied|comment|commented|argue|argued|write|wrote|warn|"
    r"warned|add|added|mean|meant|stress|stressed|declare|declared|explain|explained|"
    r"react|reacted|had to say|have to say|has to say"
)
_AUDIENCE = r"reporters|journalists|the press|the media|parliament|(?:the\s+)?[A-Z][\w-]+"
_ABOUT_EN = r"about|on|regarding|concerning|of|to|in response to|with regard to"
_VERBS_DE = (
    r"sagte|sagt|sagten|hat|haben|hatte|meinte|meint|erklärte|erklärt|betonte|betont|"
    r"äußerte|äußert|sprach|schrieb|warnte|warnt|antwortete|kritisierte|forderte|"
    r"kündigte|verkündete"
)
_PARTICIPLES_DE = (
    r"gesagt|gemeint|erklärt|betont|geäußert|geschrieben|gewarnt|geantwortet|kritisiert|"
    r"gefordert|mitgeteilt|verkündet|angekündigt"
)
_ABOUT_DE = r"zu|zur|zum|über|bezüglich|betreffend|hinsichtlich|auf|gegenüber|in Sachen"
_NOUNS_EN = r"statements?|remarks?|comments?|words|quotes?|quotations?|views?|position"
_NOUNS_DE = r"Aussagen?|Äußerungen?|Zitate?|Stellungnahmen?|Worte|Position|Sicht"
_WHO = r"(?P<who>[^?.!]+?)"
_TOPIC = r"(?P<topic>[^?!]+?)"
_F = re.IGNORECASE

_PATTERNS: list[tuple[str, re.Pattern]] = [
    # what did X say about Y / what has X said on Y / how did X respond to Y
    (
        "en",
        re.compile(
            rf"\b(?:what|how)\s+(?:did|does|do|has|have|had|was|is|were)\s+{_WHO}\s+"
            rf"(?:{_VERBS_EN})\b(?:\s+(?:{_AUDIENCE}))?"
            rf"(?:\s+(?:anything\s+)?(?:{_ABOUT_EN})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # did X say anything about Y
    (
        "en",
        re.compile(
            rf"\b(?:did|has|have)\s+{_WHO}\s+(?:say|said|comment|commented)\s+"
            rf"(?:anything|something)(?:\s+(?:{_ABOUT_EN})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # what is X quoted as saying about Y
    (
        "en",
        re.compile(
            rf"\bwhat\s+(?:is|was)\s+{_WHO}\s+quoted\s+as\s+saying"
            rf"(?:\s+(?:{_ABOUT_EN})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # X's remarks on Y / statements by X about Y / quotes from X
    (
        "en",
        re.compile(
            rf"(?:^|\b(?:show|list|give|find)\s+(?:me\s+)?)(?:all\s+)?(?:the\s+)?{_WHO}['’]s?\s+"
            rf"(?:{_NOUNS_EN})(?:\s+(?:{_ABOUT_EN})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    (
        "en",
        re.compile(
            rf"\b(?:{_NOUNS_EN})\s+(?:from|by|of)\s+{_WHO}"
            rf"(?:\s+(?:{_ABOUT_EN})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # was hat X zu Y gesagt / was hat X gesagt
    (
        "de",
        re.compile(
            rf"\bwas\s+(?:hat|haben|hatte)\s+{_WHO}(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s+"
            rf"(?:{_PARTICIPLES_DE})\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # wie hat sich X zu Y geäußert / wie äußerte sich X zu Y / wie reagierte X auf Y
    (
        "de",
        re.compile(
            rf"\bwie\s+(?:hat|haben|hatte)\s+sich\s+{_WHO}(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s+"
            rf"(?:geäußert|positioniert|gezeigt|eingelassen)\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    (
        "de",
        re.compile(
            rf"\bwie\s+(?:äußerte|äußert|äußerten|positionierte|reagierte|reagiert)\s+"
            rf"(?:sich\s+)?{_WHO}(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # was sagte X (zu Y)
    (
        "de",
        re.compile(
            rf"\bwas\s+(?:{_VERBS_DE})\s+{_WHO}(?:\s+(?:denn|eigentlich|dazu|genau))*"
            rf"(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?(?:\s+(?:{_PARTICIPLES_DE}|mit))?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # hat X etwas zu Y gesagt
    (
        "de",
        re.compile(
            rf"\bhat\s+{_WHO}\s+(?:etwas|was)(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s+"
            rf"(?:{_PARTICIPLES_DE})\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    # Peskows Aussagen zur NATO / Aussagen von Peskow zur NATO / Zitate des Kreml-Sprechers
    (
        "de",
        re.compile(
            rf"(?:^|\b(?:zeige?|liste|gib|finde)\s+(?:mir\s+)?)(?:alle\s+)?{_WHO}\s+"
            rf"(?:{_NOUNS_DE})(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
    (
        "de",
        re.compile(
            rf"\b(?:{_NOUNS_DE})\s+(?:von|des|der)\s+{_WHO}"
            rf"(?:\s+(?:{_ABOUT_DE})\s+{_TOPIC})?\s*(?:[?.!]|$)",
            _F,
        ),
    ),
]
# A follow-up rewritten without an LLM carries the previous topic in parentheses.
_CARRIED = re.compile(r"^(?P<q>.*?[?.!]?)\s*\((?P<topic>[^()]+)\)\s*$", re.S)
_OPENERS = re.compile(r"^\s*(?:and|but|also|so|und|aber|auch|also|na und)\b[\s,]*", _F)
_NAME_WORD = re.compile(r"[A-ZÄÖÜÀ-Þ][\w'’.-]*")
_TOPIC_FILLERS = re.compile(
    r"^(?:the|die|der|das|den|dem|des|a|an|ein|eine|einen|einem|einer|this|that|these|diese|"
    r"dieser|dieses|diesem)\s+",
    _F,
)


@dataclass(frozen=True)
class Ask:
    """What a statement question asks: who (as written) and about what (None: anything)."""

    who: str
    topic: str | None
    language: str = "en"  # of the question's phrasing


def parse(question: str) -> Ask | None:
    """The speaker and topic of a "what did X say (about Y)" question, else None.

    >>> parse("What did Peskow say about NATO troops?")
    Ask(who='Peskow', topic='NATO troops', language='en')
    >>> parse("Peskows Aussagen zur NATO")
    Ask(who='Peskows', topic='NATO', language='de')
    >>> parse("And what did Putin say? (NATO troops)")
    Ask(who='Putin', topic='NATO troops', language='en')
    >>> parse("Where is Kyiv?") is None
    True
    """
    text = " ".join(question.split())
    carried = None
    m = _CARRIED.match(text)
    if m:
        text, carried = m.group("q").strip(), m.group("topic").strip()
    text = _OPENERS.sub("", text)
    for language, pattern in _PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        who = _name_part(m.group("who"))
        if not who:
            continue
        topic = _clean_topic(m.groupdict().get("topic") or "") or carried
        return Ask(who, topic, language)
    return None


def _name_part(words: str) -> str:
    """The trailing run of capitalised words ("Kremlin spokesman Peskov" -> "Kremlin
    spokesman Peskov" is tried whole, then shorter, by `candidates`)."""
    tokens = words.split()
    run: list[str] = []
    for token in reversed(tokens):
        if _NAME_WORD.fullmatch(token) or (run and token.lower() in _PARTICLES):
            run.insert(0, token)
        elif run:
            break
        else:
            return ""  # the word before the verb is not a name ("he", "the minister")
    while run and run[0].lower() in _PARTICLES | NON_CONTENT:
        run = run[1:]
    return " ".join(run)


_PARTICLES = frozenset({"von", "van", "der", "de", "da", "di", "al", "zu", "bin"})


def _clean_topic(topic: str) -> str | None:
    topic = re.sub(r"\s+(?:gesagt|geäußert|erklärt|gemeint)$", "", topic.strip(" ,;:"))
    topic = _TOPIC_FILLERS.sub("", topic).strip()
    return topic or None


def candidates(who: str) -> list[str]:
    """Names to try for `who`, longest first: "Kremlin spokesman Peskov", "spokesman
    Peskov", "Peskov"."""
    words = who.split()
    return [" ".join(words[i:]) for i in range(len(words))]


@dataclass
class StatementRoute:
    """The statement index's answer to a question about what someone said."""

    speaker: str  # the name as the index writes it ("Dmitri Peskow")
    topic: str | None
    passages: list[Passage]  # one per listed statement: the LLM's sources
    answer: Answer  # the extractive answer
    statements: list[StoredStatement]
    on_topic: bool  # False: X said nothing on the topic; the statements are other ones


_searches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def search_for(assistant) -> StatementSearch:
    """One statement search per Assistant (its index and embedding model)."""
    search = _searches.get(assistant)
    if search is None:
        search = StatementSearch(assistant.index, assistant.embedder)
        _searches[assistant] = search
    return search


def route(assistant, question: str, filters=None) -> StatementRoute | None:
    """The statement answer to `question`, or None when the normal path should answer."""
    ask = parse(question)
    if ask is None:
        return None
    search = search_for(assistant)
    if search.statements.collection(create=False) is None:
        return None
    for name in candidates(ask.who):
        result = search.search(name, about=ask.topic, filters=filters, limit=None, verify=False)
        if result.speakers:
            break
    else:
        return None
    speaker = result.speakers[0]
    listed = [s for s in result.statements if on_topic(s)] if ask.topic else result.statements
    found = bool(listed)
    if not listed:  # nothing on the topic: what did they talk about?
        listed = sorted(result.statements, key=lambda s: (s.date or "", s.start), reverse=True)
    extra = max(0, len(listed) - MAX_STATEMENTS)
    listed = sorted(verified(search.index, listed[:MAX_STATEMENTS]), key=_date_order)
    text, citations = _compose(speaker, ask.topic, listed, found, extra, ask.language)
    passages = [s.passage() for s in listed]
    answer = Answer(
        question=question,
        standalone_question=question,
        text=text,
        mode="extractive",
        citations=citations,
        passages=passages,
        notices=[],
    )
    return StatementRoute(speaker.name, ask.topic, passages, answer, listed, found)


def _date_order(s: StoredStatement) -> tuple:
    return (s.date or "9999", s.article_id, s.start)


# --- the answer text ---------------------------------------------------------------------
_TEXTS = {
    "en": {
        "on": "What {who} said about {topic}, in date order:",
        "all": "What {who} said, in date order:",
        "none_on": "The indexed articles quote {who} on nothing about {topic}.",
        "none_period": "The indexed articles quote {who} on nothing in the selected period.",
        "other": "What they quote from {who}:",
        "more": '{n} more statements by {who}: `python -m rag quotes "{name}"`.',
        "direct": "",
        "indirect": "(reported speech) ",
        "reported": "(paraphrased) ",
        "undated": "undated",
    },
    "de": {
        "on": "Was {who} zu {topic} gesagt hat, nach Datum:",
        "all": "Was {who} gesagt hat, nach Datum:",
        "none_on": "Die Artikel im Index zitieren {who} nicht zu {topic}.",
        "none_period": "Die Artikel im Index zitieren {who} im gewählten Zeitraum nicht.",
        "other": "Was sie von {who} zitieren:",
        "more": '{n} weitere Aussagen von {who}: `python -m rag quotes "{name}"`.',
        "direct": "",
        "indirect": "(indirekte Rede) ",
        "reported": "(sinngemäß) ",
        "undated": "ohne Datum",
    },
}


def _compose(speaker, topic, listed, found, extra, language):
    """The answer text and its citations (one source number per article)."""
    t = _TEXTS.get(language, _TEXTS["en"])
    who = speaker.name + (f" ({speaker.role})" if speaker.role else "")
    lines: list[str] = []
    if not listed:
        lines.append(t["none_period"].format(who=who))
    elif found:
        lines.append(t["on" if topic else "all"].format(who=who, topic=topic))
    else:
        lines.append(t["none_on"].format(who=who, topic=topic))
        lines.append("")
        lines.append(t["other"].format(who=speaker.name))
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    for st in listed:
        n = numbers.get(st.article_id)
        if n is None:
            n = numbers[st.article_id] = len(numbers) + 1
            meta = " · ".join(x for x in (st.date or t["undated"], st.source) if x)
            lines += ["", f"**{meta} — {_one_line(st.title or st.article_id)}** [{n}]"]
        lines.append(f"- {t.get(st.form, '')}{_one_line(st.text)} [{n}]")
        citations.append(_citation(n, st))
    if extra:
        lines += ["", t["more"].format(n=extra, who=speaker.name, name=speaker.name)]
    return "\n".join(lines).strip(), citations


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _citation(n: int, st: StoredStatement) -> Citation:
    """A citation of one statement: quoted whole, so it supports itself fully."""
    return Citation(
        n=n,
        article_id=st.article_id,
        title=st.title,
        date=st.date,
        source=st.source,
        quote=st.text,
        start=st.start,
        end=st.end,
        supported=True,
        support=1.0,
        cited_sentences=[_one_line(st.text)],
        highlight=[(0, len(st.text))],
        version=st.version,
        url=st.url,
    )
