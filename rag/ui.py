"""Pure rendering helpers for the chat UI: text that is shown, never interpreted.

Article text and model output may contain markup (`<script>`, `[x](javascript:…)`,
`![](http://…)`, bare URLs). Streamlit's `st.markdown` renders Markdown, GFM autolinks,
LaTeX (`$…$`) and its own `:color[…]` / `:emoji:` directives, so everything untrusted is
passed through `safe_markdown`: every ASCII punctuation character becomes a numeric HTML
character reference (`[` -> `&#91;`). Markdown decodes those back to the characters *as
text*, and no Markdown, HTML, math or autolink construct can start without its literal
punctuation. Letters, digits and non-ASCII text stay as they are.

Because the escaping works character by character, escaping the pieces of a stream and
joining them equals escaping the joined text; `escape_stream` only has to carry the
"at the start of a line" state (leading spaces would open an indented code block).

The only raw HTML this module emits is its own `<mark>`/`<span>` tags around escaped
text; callers pass that to `st.markdown(..., unsafe_allow_html=True)` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Iterator, Sequence

_ESCAPES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
_ESCAPES[ord("\n")] = "  \n"  # a hard line break: keep the writer's line breaks
_ESCAPES[ord("\r")] = ""
_ESCAPES[ord("\t")] = " "
_INDENT = re.compile(r"\n[ \t\u00a0]+")
_INDENT_CHARS = " \t\u00a0"

PASSAGE_STYLE = "background-color: rgba(255, 200, 0, 0.18); border-radius: 2px;"
MARK_STYLE = "background-color: rgba(255, 200, 0, 0.65); color: inherit; padding: 0 1px;"
WEAK_SUPPORT = "⚠ weak support"


def safe_markdown(text: str) -> str:
    """Markdown source that renders as exactly `text` (line breaks kept, nothing active).

    >>> safe_markdown("[x](javascript:alert(1))")
    '&#91;x&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;'
    >>> safe_markdown("Eins\\n    zwei")
    'Eins  \\nzwei'
    """
    return _escape(text, at_line_start=True)


def _escape(text: str, at_line_start: bool) -> str:
    if at_line_start:
        text = text.lstrip(_INDENT_CHARS)
    return _INDENT.sub("\n", text).translate(_ESCAPES)


def escape_stream(chunks: Iterable[str]) -> Iterator[str]:
    """`safe_markdown` for text arriving in pieces; joining the output escapes the whole."""
    at_line_start = True
    for chunk in chunks:
        out = []
        for ch in chunk:
            if at_line_start and ch in _INDENT_CHARS:
                continue  # leading indentation would turn the line into a code block
            at_line_start = ch in "\n\r"
            out.append(ch)
        if out:
            yield "".join(out).translate(_ESCAPES)


def highlight_html(text: str, spans: Iterable[tuple[int, int]], style: str = MARK_STYLE) -> str:
    """`text` escaped, with `<mark>` around each (start, end) span; overlaps are merged.

    >>> highlight_html("a <b> c", [(2, 5)], style="s")
    'a <mark style="s">&#60;b&#62;</mark> c'
    """
    return _escape_marked(text, merge_spans(spans, len(text)), "mark", style, True)


def _escape_marked(
    text: str, spans: list[tuple[int, int]], tag: str, style: str, at_line_start: bool
) -> str:
    pieces, pos = [], 0
    for start, end in spans:
        pieces.append(_escape(text[pos:start], _line_start(text, pos, at_line_start)))
        inner = _escape(text[start:end], _line_start(text, start, at_line_start))
        pieces.append(f'<{tag} style="{style}">{inner}</{tag}>')
        pos = end
    pieces.append(_escape(text[pos:], _line_start(text, pos, at_line_start)))
    return "".join(pieces)


def _line_start(text: str, pos: int, at_text_start: bool) -> bool:
    return at_text_start if pos == 0 else text[pos - 1] in "\n\r"


def article_html(
    text: str, start: int, end: int, highlights: Sequence[tuple[int, int]] = ()
) -> str:
    """The full article escaped, the passage [start, end) tinted and its `highlights`
    (offsets relative to the passage) marked."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return safe_markdown(text)
    passage = text[start:end]
    inner = _escape_marked(
        passage,
        merge_spans(highlights, len(passage)),
        "mark",
        MARK_STYLE,
        _line_start(text, start, True),
    )
    return (
        _escape(text[:start], True)
        + f'<span style="{PASSAGE_STYLE}">{inner}</span>'
        + _escape(text[end:], _line_start(text, end, True))
    )


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to [0, length], sorted, overlapping or touching ones joined.

    >>> merge_spans([(5, 9), (0, 2), (1, 3), (8, 99)], 10)
    [(0, 3), (5, 10)]
    """
    clipped = sorted((max(0, s), min(length, e)) for s, e in spans if min(length, e) > max(0, s))
    merged: list[tuple[int, int]] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def source_label(n: int, title: str, date: str | None, source: str) -> str:
    """One line naming a source, as safe Markdown: `**[1]** Title · 2025-09-05 · ORF`."""
    parts = [safe_markdown(title.strip() or "(untitled)")]
    parts += [safe_markdown(p) for p in (date or "", source) if p]
    return f"**&#91;{n}&#93;** " + " · ".join(parts)


def support_note(supported: bool, support: float) -> str | None:
    """The flag shown next to a citation the passage backs only weakly, else None."""
    if supported:
        return None
    return f"{WEAK_SUPPORT} (the quoted passage matches the claim only in part: {support:.2f})"


def export_filename(question: str, when: dt.datetime | None = None) -> str:
    """A safe file name for a Markdown export.

    >>> export_filename("Was sagte Peskow über NATO-Truppen?", dt.datetime(2025, 9, 5, 14, 3))
    'answer-2025-09-05-1403-was-sagte-peskow-uber-nato-truppen.md'
    """
    import unicodedata

    when = when or dt.datetime.now()
    ascii_q = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_q.lower()).strip("-")[:60].strip("-")
    return f"answer-{when:%Y-%m-%d-%H%M}" + (f"-{slug}" if slug else "") + ".md"


def locate(text: str, quote: str, start: int, end: int) -> tuple[int, int] | tuple[None, None]:
    """Where `quote` sits in `text`: at [start, end) if it still does, else its first
    occurrence, else (None, None) (the article changed since the answer)."""
    if quote and text[start:end] == quote:
        return start, end
    found = text.find(quote) if quote else -1
    return (found, found + len(quote)) if found >= 0 else (None, None)


def passage_position(text: str, start: int, end: int) -> str:
    """A reader's guide to where the passage is, e.g. 'The passage is in paragraph 2 of 4 …'.

    >>> passage_position("Eins.\\n\\nZwei. Drei.", 7, 12)
    'The passage (tinted, cited sentences marked) is in paragraph 2 of 2.'
    """
    from rag.text import paragraph_spans

    spans = paragraph_spans(text)
    where = next((i for i, (_s, e) in enumerate(spans, 1) if e > start), len(spans))
    return f"The passage (tinted, cited sentences marked) is in paragraph {where} of {len(spans)}."


def source_link(url: str) -> str | None:
    """A Markdown link to an article's web page, only for plain http(s) URLs.

    >>> source_link("javascript:alert(1)") is None
    True
    >>> source_link("https://orf.at/stories/1/")
    '[original](<https://orf.at/stories/1/>)'
    """
    url = (url or "").strip()
    if not re.fullmatch(r"https?://[^\s<>\"'`\\\\]+", url, flags=re.IGNORECASE):
        return None
    return f"[original](<{url}>)"
