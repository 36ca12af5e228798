"""The no-LLM answer: the most relevant sentences of the retrieved passages, quoted verbatim.

Every sentence of every passage is scored against the question:
`cosine(question, sentence)` (all sentences embedded in one batch) `+ KEYWORD_WEIGHT ×` the
share of the question's content words found in the sentence (prefix match, so "Peskows"
matches "Peskow"). For "what did X say" / "was sagte X" questions, sentences that quote
(„…“ "…" «…») and name X in themselves or their neighbour get a bonus, and the neighbour
that introduces a quote ("Das machte Peskow deutlich:") is quoted along with it.

Only sources that carry the answer are cited (`cited_articles`). Each article is scored
by its best sentence, lowered by how far the search ranked its best passage behind the
best one (RETRIEVAL_WEIGHT: the two signals must agree); the best article is cited, and
others only within SOURCE_GAP of it, a much smaller gap than the RELATIVE_CUTOFF that
picks sentences. Sentences are then taken from the cited articles only, so the quotes
that would have padded the answer from other articles leave room for more sentences of
the article that holds the fact.

The chosen sentences are grouped by article under one source number per article, each
under a one-line header in the question's language. Sources are numbered here, in the
order the answer cites them, and each quote knows its passage: citations are attached
from that structure, never parsed back out of the text, so brackets inside a quoted
sentence ("Fußnote [12]") stay the article's own text. When even the best sentence scores
below NO_ANSWER_THRESHOLD, the answer says plainly that the sources do not contain it.

For "what did X say" questions a sentence is presented as X's words only when the
sentence attributes it to X (`attributed`): X is the name nearest to a speech cue
("sagte Peskow", "Peskow zufolge", "betonte er" after a sentence that names X), or it is
the quote an attributing sentence introduces. Chosen sentences that merely mention X
are listed under their own heading, and when none is attributed the answer says that
the sources quote nothing from X on this.

Shortcuts: speaker detection is a handful of English/German question patterns; names
match fuzzily (Peskov ≈ Peskow) but not across scripts or very different spellings;
attribution is the nearest-name rule above (rag.quotes, the statement index, knows
better and answers such questions first when it is installed).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag import calibration as calibration_
from rag import prompts
from rag.calibration import Calibration
from rag.lang import NON_CONTENT, WORD, detect_language
from rag.schema import Passage
from rag.text import sentence_spans

# The numbers below are on multilingual-e5-small's cosine scale (the default model), which
# packs a question's similarities to retrieved sentences into about 0.72-0.85 (MiniLM
# spread them over 0.1-0.7), and were measured with bench/thresholds.py on XQuAD (every
# 5th question, English and German, top 6 passages of the product's retrieval, 10kGNAD
# news as distractors). Sentence choice: with MiniLM's 0.5 / 0.3 the keyword share
# outweighed e5's cosine differences and nearly every answer quoted four sentences
# (answer hit en 0.832 / de 0.903, 3.8 / 3.2 quotes); 0.1 / 0.075, MiniLM's numbers scaled
# to e5's narrower spread, quote fewer sentences and find more answers (en 0.845 / de
# 0.916, 3.4 / 2.5 quotes). MiniLM's values were 0.5 / 0.3 / 0.3 / 0.55.
KEYWORD_WEIGHT = 0.1  # these four: rag.calibration.E5; other models have their own
NAME_BONUS = 0.2  # names the asked-about speaker
QUOTE_BONUS = 0.35  # quotes and names the speaker (here or in a neighbour)
ATTRIBUTION_BONUS = 0.15  # "sagte Peskow", "Peskow said" in the sentence itself
# Cosine alone is not evidence: with e5 a question is 0.72-0.80 similar to most sentences
# of the passages retrieved for it (10th-90th percentile, English questions), so a
# sentence counts only when it shares a content word or the speaker's name with the
# question, or its cosine reaches COSINE_ALONE. At 0.80, 98.7 % of the English questions
# whose answer was retrieved still have a sentence that counts (0.82: 95 %); German
# questions share words with their answer and are not affected.
COSINE_ALONE = 0.80
# The best counting sentence must reach this score, else the answer says the sources do
# not contain it. Sentences that count by cosine already score >= 0.80; the threshold
# stops a sentence that shares one word with the question but is about something else
# (cosine below 0.75 + 0.1 x keyword share).
NO_ANSWER_THRESHOLD = 0.8
# Keep sentences within this distance of the best one. 0.075 was measured when sentences
# came from every retrieved article; since they come from the cited articles only
# (`choose`), the room padding took is given to the sentences around the fact: 0.1 and
# five quotes at most (bench/answer_sources.py, all 1,190 XQuAD questions: answer hit en
# 0.777 -> 0.787, de 0.905 -> 0.922, citation precision unchanged, 2.4 quotes of ~440
# characters per answer; before sources were chosen: 2.9 quotes, 515 characters).
RELATIVE_CUTOFF = 0.1
MAX_QUOTES = 5
# Which articles are cited (bench/answer_sources.py, XQuAD with 10kGNAD distractors,
# e5's scale; other models get them scaled by their calibration's `spread`): see
# `cited_articles`.
SOURCE_GAP = 0.02  # another article must score this close to the best one
RETRIEVAL_WEIGHT = 0.04  # per unit of fused retrieval score behind the best passage
MAX_SOURCES = 3

_QUOTE_CHARS = '„“”"«»‚‘’'
_SPEAKER_PATTERNS = [
    re.compile(
        r"\b(?:what|how)\s+(?:did|does|do|has|have|had|was|is|were)\s+(?P<who>.+?)\s+"
        r"(?:say|said|says|tell|told|state|stated|claim|claimed|announce|announced|mean|"
        r"think|respond|responded|reply|replied|comment|commented|argue|argued|write|wrote|"
        r"warn|warned|add|added)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:was|wie)\s+(?:sagte|sagt|hat|meinte|meint|erklärte|erklärt|betonte|betont|"
        r"äußerte|äußert|sprach|schrieb|warnte|warnt|antwortete|sagten|haben)\s+(?P<who>.+?)"
        r"(?=\s+(?:gesagt|gemeint|erklärt|betont|geäußert|geschrieben|gewarnt|geantwortet|"
        r"zu|zur|zum|über|im|am|in|bei|nach|vor|denn|eigentlich|dazu|darüber)\b|[?.!]|$)",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?P<who>[A-ZÄÖÜ][\w-]+)'s\s+(?:statement|remarks|comments|words)\b"),
]
_ATTRIBUTION = re.compile(
    r"\b(?:sagte|sagt|betonte|betont|erklärte|erklärt|meinte|meint|äußerte|warnte|"
    r"erinnerte|kritisierte|bekräftigte|unterstrich|fügte|schrieb|machte|said|says|stated|"
    r"told|added|warned|stressed)\b",
    re.IGNORECASE,
)
# Speech cues for attribution: a verb of saying, or "so X", "laut X", "X zufolge", "nach
# den Worten von X", "hob hervor", "machte deutlich"; matched as whole words.
_CUES = frozenset(
    """sagte sagt sagten sagen betonte betont erklärte erklärt meinte meint äußerte äußert
    warnte warnt erinnerte kritisierte bekräftigte unterstrich fügte schrieb schreibt
    antwortete versicherte forderte kündigte hervor deutlich zufolge laut so worten
    said says stated told added warned stressed explained insisted argued wrote according
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_PRONOUNS = frozenset({"er", "sie", "he", "she"})
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|[,;:.!?„“”\"«»]")
Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass
class Quote:
    """One quoted sentence: its source number, passage and span inside the passage text.

    `n` is the number shown in the answer; 0 until the answer is laid out.
    """

    n: int
    passage: Passage
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def display(self) -> str:
        """The sentence on one line, as the answer shows it (line breaks become spaces)."""
        return " ".join(self.text.split())


@dataclass
class Extract:
    """An extractive answer: its text (also in streaming pieces) and the quotes it uses.

    `n` of a quote is its article's number: passages of one article share it.
    """

    text: str
    quotes: list[Quote]
    found: bool
    pieces: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)  # that carry the answer, best first

    def sources(self) -> list[tuple[int, Passage, list[str]]]:
        """(shown number, passage, its quoted sentences) in number and text order."""
        out: dict[tuple[int, str], tuple[int, Passage, list[str]]] = {}
        for q in sorted(self.quotes, key=lambda q: (q.n, q.passage.start + q.start)):
            key = (q.n, q.passage.chunk_id)
            out.setdefault(key, (q.n, q.passage, []))[2].append(q.display)
        return list(out.values())


def speaker_of(question: str) -> str | None:
    """The person a "what did X say" question asks about (last capitalised word), else None.

    >>> speaker_of("What did Kremlin spokesman Peskow say about NATO troops?")
    'Peskow'
    >>> speaker_of("Was hat Putin zur NATO gesagt?"), speaker_of("Where is Kyiv?")
    ('Putin', None)
    """
    for pattern in _SPEAKER_PATTERNS:
        m = pattern.search(question)
        if m:
            names = [w for w in WORD.findall(m.group("who")) if w[0].isupper()]
            names = [w for w in names if w.lower() not in NON_CONTENT]
            if names:
                return names[-1]
    return None


def name_in(name: str, text: str) -> bool:
    """Fuzzy name match against capitalised words (Peskov ≈ Peskow, Peskows ≈ Peskow).

    >>> name_in("Peskov", "betonte Peskow."), name_in("Putin", "Trump sprach.")
    (True, False)
    """
    target = name.lower()
    for word in WORD.findall(text):
        if not word[0].isupper():
            continue
        for part in word.split("-"):
            w = part.lower()
            if w.endswith("s") and len(w) > len(target):
                w = w[:-1]
            if w == target or (
                w[:1] == target[:1] and difflib.SequenceMatcher(None, w, target).ratio() >= 0.8
            ):
                return True
    return False


def content_terms(question: str) -> list[str]:
    """Question words that carry meaning (no stop words, no question words), lower-cased.

    >>> content_terms("What did Peskow say about the NATO troops?")
    ['peskow', 'nato', 'troops']
    """
    out = []
    for w in WORD.findall(question):
        lw = w.lower()
        if len(lw) >= 3 and lw not in NON_CONTENT and lw not in out:
            out.append(lw)
    return out


def _term_hit(term: str, text_lower: str) -> bool:
    stem = term[: max(4, len(term) - 2)] if len(term) > 5 else term
    return re.search(rf"\b{re.escape(stem)}", text_lower) is not None


def keyword_overlap(terms: Sequence[str], sentence: str) -> float:
    """Share of the terms present in the sentence (prefix match)."""
    if not terms:
        return 0.0
    low = sentence.lower()
    return sum(_term_hit(t, low) for t in terms) / len(terms)


def _has_quote(sentence: str) -> bool:
    return any(ch in sentence for ch in _QUOTE_CHARS)


def extract(
    question: str,
    passages: Sequence[Passage],
    encode_sentences: Encode,
    encode_question: Encode,
    *,
    language: str | None = None,
    max_quotes: int = MAX_QUOTES,
    calibration: Calibration = calibration_.DEFAULT,
    source_gap: float | None = None,
) -> Extract:
    """Answer `question` by quoting the best sentences of `passages` (numbered from 1).

    `calibration`: the embedding model's numbers (rag.calibration), the default model's
    unless given. `source_gap`: how close another article's best sentence must come to
    the best one to be cited (SOURCE_GAP, scaled to the model, unless given).
    """
    lang = language or detect_language(question)
    if not passages:
        text = prompts.NO_SOURCES[lang]
        return Extract(text, [], False, [text])
    candidates: list[Quote] = []
    spans_by_passage: list[list[tuple[int, int]]] = []
    for passage in passages:
        spans = sentence_spans(passage.text) or [(0, len(passage.text))]
        spans_by_passage.append(spans)
        candidates.extend(Quote(0, passage, s, e, 0.0) for s, e in spans)
    vectors = encode_sentences([q.text for q in candidates])  # one batch for all sentences
    qvec = encode_question([question])[0]
    cosine = vectors @ qvec
    terms = content_terms(question)
    speaker = speaker_of(question)
    if speaker:  # the name is matched by the speaker rule; keep keywords for the topic
        terms = [t for t in terms if t != speaker.lower()] or terms
    previous = _previous_texts(candidates, spans_by_passage)
    neighbours = _neighbour_texts(candidates, spans_by_passage)
    evidence = []
    for i, cand in enumerate(candidates):
        overlap = keyword_overlap(terms, cand.text)
        bonus = _speaker_bonus(speaker, cand.text, neighbours[i], previous[i]) if speaker else 0.0
        cand.score = round(
            float(cosine[i]) + calibration.sentence_keyword_weight * overlap + bonus, 4
        )
        if overlap > 0 or bonus > 0 or cosine[i] >= calibration.cosine_alone:
            evidence.append(cand)

    ranked = _dedupe(sorted(evidence, key=lambda q: -q.score))
    best = ranked[0].score if ranked else 0.0
    if best < calibration.no_answer:
        text = prompts.NO_ANSWER[lang]
        return Extract(text, [], False, [text])
    articles = cited_articles(ranked, passages, calibration, source_gap)
    chosen = choose(ranked, articles, calibration, max_quotes)
    if speaker:
        chosen = _with_introductions(chosen, candidates, speaker)
        result = _speaker_answer(chosen, candidates, speaker, lang)
    else:
        result = _layout(prompts.EXTRACTIVE_HEADER[lang], [], chosen, lang)
    result.articles = articles
    return result


def cited_articles(
    ranked: Sequence[Quote],
    passages: Sequence[Passage],
    calibration: Calibration = calibration_.DEFAULT,
    source_gap: float | None = None,
) -> list[str]:
    """The articles that carry the answer, best first.

    Two signals must agree: each article is scored by its best sentence plus
    RETRIEVAL_WEIGHT x (its best passage's fused retrieval score − the best passage's),
    so a sentence that reads well in an article the search ranked far down counts less.
    The best-scoring article is cited, others when they come within SOURCE_GAP of it;
    MAX_SOURCES at most.
    """
    if not ranked:
        return []
    scale = calibration.spread
    gap = SOURCE_GAP * scale if source_gap is None else source_gap
    retrieval: dict[str, float] = {}
    for p in passages:
        retrieval[p.article_id] = max(retrieval.get(p.article_id, p.score), p.score)
    top = max(retrieval.values(), default=0.0)
    score: dict[str, float] = {}
    for q in ranked:  # best first: the first sentence of an article is its best
        if q.passage.article_id not in score:
            behind = retrieval.get(q.passage.article_id, top) - top
            score[q.passage.article_id] = q.score + RETRIEVAL_WEIGHT * scale * behind
    order = sorted(score, key=lambda a: -score[a])
    best = score[order[0]]
    return [a for a in order if score[a] >= best - gap][:MAX_SOURCES]


def choose(
    ranked: Sequence[Quote],
    articles: Sequence[str],
    calibration: Calibration = calibration_.DEFAULT,
    max_quotes: int = MAX_QUOTES,
) -> list[Quote]:
    """The sentences to quote from `ranked` (best first): from `articles` only, within
    RELATIVE_CUTOFF of the best of them, `max_quotes` at most."""
    keep = set(articles)
    mine = [q for q in ranked if q.passage.article_id in keep]
    if not mine:
        return []
    cutoff = mine[0].score - calibration.relative_cutoff
    return [q for q in mine if q.score >= cutoff][:max_quotes]


def _layout(
    header: str, sections: Sequence[tuple[str, list[Quote]]], chosen: list[Quote], lang: str
) -> Extract:
    """The answer text: a header, then per section (heading, quotes) the quotes grouped by
    article, one number per article across the whole answer. Without sections, `chosen`
    is the one unnamed section."""
    parts = list(sections) or [("", chosen)]
    pieces = [header + "\n"]
    numbers: dict[str, int] = {}  # article -> shown number, in order of first citation
    quotes: list[Quote] = []
    for heading, group_quotes in parts:
        if not group_quotes:
            continue
        if heading:
            pieces.append(f"\n{heading}\n")
        for group in _group_by_article(group_quotes):
            p = group[0].passage
            meta = ", ".join(x for x in (p.source, p.date) if x)
            title = f"**{p.title or p.article_id}**" + (f" ({meta})" if meta else "")
            # an article already shown above keeps its number; its title is not repeated
            lines = [""] if p.article_id in numbers else [f"\n{title}"]
            for q in group:
                q.n = numbers.setdefault(q.passage.article_id, len(numbers) + 1)
                lines.append(f"> {q.display} [{q.n}]")
                quotes.append(q)
            pieces.append("\n".join(lines) + "\n")
    return Extract("".join(pieces).rstrip("\n"), quotes, True, pieces)


def _speaker_answer(
    chosen: list[Quote], candidates: list[Quote], speaker: str, lang: str
) -> Extract:
    """Sentences attributed to the speaker under the speaker header; those that only
    mention the speaker under their own heading; the rest under a generic one."""
    said, mentioned, other = [], [], []
    for q in chosen:
        before = _sentence_before(q, candidates)
        if attributed(speaker, q.text, before) or _introduces_quote(speaker, before, q.text):
            said.append(q)
        elif name_in(speaker, q.text):
            mentioned.append(q)
        else:
            other.append(q)
    fmt = {"speaker": speaker}
    if said:
        sections = [
            ("", said),
            (prompts.EXTRACTIVE_MENTION_HEADER[lang].format(**fmt), mentioned),
            (prompts.EXTRACTIVE_OTHER_HEADER[lang], other),
        ]
        return _layout(
            prompts.EXTRACTIVE_SPEAKER_HEADER[lang].format(**fmt), sections, chosen, lang
        )
    header = prompts.EXTRACTIVE_NOT_QUOTED[lang].format(**fmt)
    sections = [
        (prompts.EXTRACTIVE_MENTION_HEADER[lang].format(**fmt), mentioned),
        (prompts.EXTRACTIVE_OTHER_HEADER[lang] if mentioned else "", other),
    ]
    return _layout(header, sections, chosen, lang)


def attributed(speaker: str, sentence: str, previous: str = "") -> bool:
    """Does `sentence` present its words as the speaker's?

    True when the name nearest to a speech cue (counting punctuation as distance, so
    "Peskow sagte, Putin habe …" is Peskow's) is the speaker's, or is a pronoun ("sagte
    er") and the previous sentence attributes to, or names, the speaker.

    >>> attributed("Peskow", "„Das ist gefährlich“, betonte Peskow.")
    True
    >>> attributed("Putin", "Peskow sagte, Putin habe nichts entschieden.")
    False
    >>> attributed("Putin", "Trump will nach eigenen Angaben erneut mit Putin sprechen.")
    False
    >>> attributed("Peskow", "„Wir sind bereit“, sagte er.", "Peskow sprach in Wladiwostok.")
    True
    """
    tokens = _TOKEN.findall(sentence)
    cues = [i for i, t in enumerate(tokens) if t.lower() in _CUES]
    if not cues:
        return False
    for cue in cues:
        runs = [r for r in _name_runs(tokens) if cue not in r]
        if not runs:
            continue
        nearest = min(runs, key=lambda r: (min(abs(i - cue) for i in r), r[0] < cue))
        words = [tokens[i] for i in nearest]
        if words[0].lower() in _PRONOUNS:
            if previous and (attributed(speaker, previous) or name_in(speaker, previous)):
                return True
        elif name_in(speaker, " ".join(words)):
            return True
    return False


def _name_runs(tokens: Sequence[str]) -> list[list[int]]:
    """Positions of runs of capitalised words ("Kreml-Sprecher Dmitri Peskow") and of
    personal pronouns, each a possible speaker."""
    runs: list[list[int]] = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if low in _PRONOUNS:
            runs.append([i])
        elif t[0].isupper() and low not in _CUES and low not in NON_CONTENT:
            if runs and runs[-1][-1] == i - 1 and tokens[runs[-1][0]].lower() not in _PRONOUNS:
                runs[-1].append(i)
            else:
                runs.append([i])
    return runs


def _introduces_quote(speaker: str, before: str, sentence: str) -> bool:
    """A quote right after a sentence that attributes to the speaker and ends with ':'."""
    return (
        bool(before)
        and _has_quote(sentence)
        and before.rstrip().endswith(":")
        and (attributed(speaker, before) or name_in(speaker, before))
    )


def _sentence_before(q: Quote, candidates: list[Quote]) -> str:
    prev = [c for c in candidates if c.passage is q.passage and c.end <= q.start]
    return prev[-1].text if prev else ""


def _previous_texts(
    candidates: list[Quote], spans_by_passage: list[list[tuple[int, int]]]
) -> list[str]:
    """Text of the sentence right before each candidate, in its passage ('' for the first)."""
    out, i = [], 0
    for spans in spans_by_passage:
        out += [""] + [candidates[i + k].text for k in range(len(spans) - 1)]
        i += len(spans)
    return out


def _neighbour_texts(
    candidates: list[Quote], spans_by_passage: list[list[tuple[int, int]]]
) -> list[str]:
    """Text of the sentences right before and after each candidate, in its passage."""
    out, i = [], 0
    for spans in spans_by_passage:
        texts = [candidates[i + k].text for k in range(len(spans))]
        for k in range(len(spans)):
            before = texts[k - 1] if k > 0 else ""
            after = texts[k + 1] if k + 1 < len(texts) else ""
            out.append(f"{before} {after}")
        i += len(spans)
    return out


def _speaker_bonus(speaker: str, sentence: str, neighbours: str, previous: str) -> float:
    """Named here: NAME_BONUS; the speaker's words (attributed here, or a quote next to a
    sentence naming them): QUOTE_BONUS for a quote, ATTRIBUTION_BONUS for reported speech."""
    named_here = name_in(speaker, sentence)
    bonus = NAME_BONUS if named_here else 0.0
    said = attributed(speaker, sentence, previous)
    if _has_quote(sentence) and (said or (not named_here and name_in(speaker, neighbours))):
        bonus += QUOTE_BONUS
    if said:
        bonus += ATTRIBUTION_BONUS
    return bonus


def _dedupe(quotes: list[Quote]) -> list[Quote]:
    """Overlapping chunks repeat sentences; keep the first (best) copy of each."""
    seen, out = set(), []
    for q in quotes:
        key = (q.passage.article_id, q.passage.start + q.start)
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


def _with_introductions(chosen: list[Quote], candidates: list[Quote], speaker: str) -> list[Quote]:
    """Add the sentence that names the speaker right before a quote that does not name them."""
    out = list(chosen)
    have = {(q.passage.article_id, q.passage.start + q.start) for q in out}
    for q in chosen:
        if not _has_quote(q.text) or name_in(speaker, q.text):
            continue
        prev = [c for c in candidates if c.passage is q.passage and c.end <= q.start]
        if prev and name_in(speaker, prev[-1].text):
            key = (q.passage.article_id, q.passage.start + prev[-1].start)
            if key not in have:
                have.add(key)
                out.append(prev[-1])
    return out


def _group_by_article(quotes: list[Quote]) -> list[list[Quote]]:
    """Articles in order of their best quote; quotes in text order within an article."""
    groups: dict[str, list[Quote]] = {}
    for q in quotes:
        groups.setdefault(q.passage.article_id, []).append(q)
    return [sorted(g, key=lambda q: q.passage.start + q.start) for g in groups.values()]
