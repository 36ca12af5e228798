"""The statement record shared by the extractor, the statement index and the answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Form = Literal["direct", "indirect", "reported"]
SpeakerKind = Literal["person", "institution", "unknown"]


@dataclass(frozen=True)
class Statement:
    """A statement in one article; every offset is into the cleaned article text.

    `text` is always `article_text[start:end]`. A direct quote interrupted by its cue
    ("„…“, sagte er, „…“") has several `parts` inside (start, end).
    """

    start: int
    end: int
    text: str
    form: Form
    cue: str  # the speech verb or phrase as written ("sagte", "so", "laut", "teilte … mit")
    cue_spans: tuple[tuple[int, int], ...]
    mention: str  # how the article names the speaker here ("er", "der Kreml-Sprecher")
    mention_span: tuple[int, int] | None  # None when the speaker is implicit
    speaker: str | None  # the resolved name ("Dmitri Peskow"); None when unresolved
    role: str | None = None  # "Kreml-Sprecher"
    kind: SpeakerKind = "unknown"
    aliases: tuple[str, ...] = ()  # other names of the speaker in this article ("Peskow")
    parts: tuple[tuple[int, int], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.parts:
            object.__setattr__(self, "parts", ((self.start, self.end),))
