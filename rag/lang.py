"""Language facts the answer side shares: word lists, word patterns, and a language guess.

Each list is named by what it is for, since the same word can play different parts:
- STOP_WORDS: function words per language; their counts decide `detect_language`;
- NON_CONTENT: words that never carry a question's topic (stop words + framing verbs);
- CAPITALISED_NON_NAMES: words that start sentences capitalised but are no names or anchors;
- PRONOUNS and CONNECTIVES: signs that a follow-up question leans on the previous one.

Shortcuts: English and German only; the language guess is a count of stop words (ties go to
German when the text has umlauts or ß), anything else counts as English. Lists are
hand-picked for news questions, not complete.
"""

from __future__ import annotations

import re

# Runs of letters: no digits, no underscores, no hyphens ("NATO-Truppen" -> NATO, Truppen).
LETTERS = re.compile(r"[^\W\d_]+")
# Words as a reader sees them: letters and digits, hyphenated compounds kept whole.
WORD = re.compile(r"[^\W_][\w-]*")


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` as a set (long lists stay compact)."""
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """
        a about an and any are at be been by did do does for from had has have he her his how
        in is it its not of on or said say she that the their them there these they this those
        to was were what when where which who whom whose why with
        """
    ),
    "de": _words(
        """
        am an auch auf aus bei das dass dem den der des die ein eine einem einen einer er es
        für haben hat hatte ihr im in ist kein keine mit nach nicht noch oder sagt sagte sein
        seine sie sind und von vor wann war waren warum was welche welcher welches wem wen wer
        werden wessen wie wird wo wurde zu über
        """
    ),
}

# Verbs that frame a question rather than name its topic: "what did X say", "es gibt".
_FRAMING_VERBS = _words("say said tell told think mean sagen gesagt meinen gemeint gibt geben")
NON_CONTENT = STOP_WORDS["en"] | STOP_WORDS["de"] | _FRAMING_VERBS

# Kept apart from STOP_WORDS on purpose: this list decides what counts as a name in a claim
# (citation anchors), so it holds sentence openers like "laut", "demnach", "we", "you".
CAPITALISED_NON_NAMES = _words(
    """
    a an and are at but did does for he her his how i in is it its of on our she that the their
    these they this those to was we were what when where who why you
    aber am auch das dem demnach den der des die ein eine er es ich im in laut nach sie und
    was wer wie wir zudem
    """
)

# Words that point back to something said before (personal, possessive, demonstrative).
PRONOUNS = _words(
    """
    he she it they him her them his its their this that these those there
    er sie es ihm ihn ihr ihnen sein seine ihre dies diese dieser dieses das dort dazu darüber
    """
)

# Openers of a question that continues the previous one ("And what did Putin say?").
CONNECTIVES = (
    "and",
    "but",
    "also",
    "what about",
    "how about",
    "und",
    "aber",
    "auch",
    "und was",
    "was ist mit",
    "wie steht es mit",
)


def detect_language(text: str) -> str:
    """'de' or 'en' from stop-word counts; German umlauts/ß break ties.

    >>> detect_language("Was sagte Peskow über die NATO?"), detect_language("What did he say?")
    ('de', 'en')
    """
    words = [w.lower() for w in LETTERS.findall(text)]
    en = sum(w in STOP_WORDS["en"] for w in words)
    de = sum(w in STOP_WORDS["de"] for w in words)
    if de == en:
        de += any(ch in text for ch in "äöüÄÖÜß")
    return "de" if de > en else "en"
