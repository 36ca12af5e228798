"""Follow-up questions -> standalone questions, so retrieval sees what they refer to.

With an LLM a short rewrite prompt does it (`rag.prompts.rewrite_messages`). Without one,
`rewrite_deterministic` applies a general rule: a question that looks dependent (short,
starts with "and"/"und"/"what about", or uses a pronoun) gets the key terms of the previous
user question appended. A speaker it names ("what did Putin say") replaces the previous
speaker, so "And what did Putin say?" after "What did Peskow say about NATO troops?" becomes
"And what did Putin say? (NATO troops)".
Shortcut: the pronoun and connective lists (rag.lang) cover English and German only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.extractive import content_terms, name_in, speaker_of
from rag.lang import CONNECTIVES, LETTERS, PRONOUNS, WORD

_CONNECTIVES = re.compile(
    r"^\s*(?:" + "|".join(re.escape(c) for c in CONNECTIVES) + r")\b", re.IGNORECASE
)
_SHORT = 4  # content words; fewer than this and the question likely leans on context


def previous_user_question(history: Sequence[tuple[str, str]]) -> str | None:
    """The latest user turn in the history, if any."""
    for role, text in reversed(history):
        if role == "user" and text.strip():
            return text.strip()
    return None


def looks_dependent(question: str) -> bool:
    """True when a question probably needs the conversation to be understood.

    >>> looks_dependent("And Putin?"), looks_dependent("Who leads the Kremlin delegation?")
    (True, False)
    """
    words = [w.lower() for w in LETTERS.findall(question)]
    return bool(
        _CONNECTIVES.match(question)
        or any(w in PRONOUNS for w in words)
        or len(content_terms(question)) < _SHORT - 1
    )


def rewrite_deterministic(question: str, history: Sequence[tuple[str, str]]) -> str:
    """Append the previous question's key terms to a dependent follow-up (no LLM).

    >>> rewrite_deterministic("And what did Putin say?",
    ...                       [("user", "What did Peskow say about NATO troops?")])
    'And what did Putin say? (NATO troops)'
    """
    previous = previous_user_question(history)
    if not previous or not looks_dependent(question):
        return question
    own = set(content_terms(question))
    new_speaker, old_speaker = speaker_of(question), speaker_of(previous)
    terms = []
    for word in WORD.findall(previous):
        low = word.lower()
        if low not in content_terms(word) or low in own or word in terms:
            continue
        if new_speaker and old_speaker and name_in(old_speaker, word):
            continue  # the follow-up asks about someone else
        terms.append(word)
    return f"{question.strip()} ({' '.join(terms)})" if terms else question


def clean_rewrite(text: str, question: str) -> str | None:
    """The LLM's rewrite as one plain question, or None when it is unusable."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone question|question|frage)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip("\"„“”'").strip()
    if not line or len(line) > 3 * len(question) + 200:
        return None
    return line
