"""Pure rendering helpers for the chat UI: text that is shown, never interpreted.

Article text and model output may contain markup (`<script>`, `[x](javascript:…)`,
`![](http://…)`, bare URLs). Streamlit's `st.markdown` renders Markdown, GFM autolinks,
LaTeX (`$…$`) and its own `:color[…]` / `:emoji:` directives, so everything untrusted is
passed through `safe_markdown`:

- every ASCII punctuation character becomes a numeric character reference (`[` ->
  `&#91;`); Markdown decodes those back to the characters *as text*, so no Markdown, HTML,
  math or directive construct can start without its literal punctuation;
- GFM autolinks are found in the *decoded* text (`http://`, `www.`, `a@b.c`), so a word
  joiner (U+2060, invisible) goes before `://`, the dot of `www.` and `@`, which breaks
  the pattern. Shortcut: a URL copied out of the page carries that invisible character;
- indentation at the start of a line is dropped (it would open a code block) and line
  breaks become hard breaks.

Each character is escaped on its own given a few characters of context, so the text is
turned into one Markdown "cell" per character (`_cells`): slices of cells join to the
Markdown of the slice, highlight tags go between cells, and `escape_stream` emits cells as
soon as the two characters of look-ahead they need have arrived.

The only raw HTML this module emits is its own `<mark>`/`<span>` tags around escaped
text; callers pass that to `st.markdown(..., unsafe_allow_html=True)` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

_ESCAPES = {c: f"&#{ord(c)};" for c in string.punctuation}
_ESCAPES["\n"] = "  \n"  # a hard line break: keep the writer's line breaks
_ESCAPES["\r"] = ""
_ESCAPES["\t"] = " "
_INDENT_CHARS = " \t\u00a0"
_WORD_JOINER = "\u2060"
# Positions where a GFM autolink (http://…, www.…, a@b.c, mailto:) could be recognised.
_AUTOLINK = re.compile(r"(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_CONTEXT = 3  # characters before a position that _AUTOLINK looks at
_LOOKAHEAD = 5  # characters after it (a line marker such as "123. ")

PASSAGE_STYLE = "background-color: rgba(255, 200, 0, 0.18); border-radius: 2px;"
MARK_STYLE = "background-color: rgba(255, 200, 0, 0.65); color: inherit; padding: 0 1px;"


def safe_markdown(text: str) -> str:
    """Markdown source that renders as exactly `text` (line breaks kept, nothing active).

    >>> safe_markdown("[x](javascript:alert(1))")
    '&#91;x&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;'
    >>> safe_markdown("Eins\\n    zwei")
    'Eins  \\nzwei'
    """
    return "".join(_cells(text)[0])


def answer_markdown(text: str) -> str:
    """Markdown for an answer: like `safe_markdown`, but the answer's own layout is kept —
    `> ` quote lines, `- `/`1. ` list items, `#` headings and `**bold**`. Their content is
    still escaped, so none of these can carry a link, image or HTML.

    >>> answer_markdown("**Titel <b>**\\n> Zitat [1](javascript:x)")
    '**Titel &#60;b&#62;**  \\n> Zitat &#91;1&#93;&#40;javascript&#58;x&#41;'
    """
    return "".join(_cells(text, layout=True)[0])


# A line that opens with one of the layout markers `answer_markdown` keeps.
_LINE_MARKER = re.compile(r"(>|[-*•]|\d{1,3}[.)]|#{1,6})[ \t]")


@dataclass
class _State:
    """Where escaping stands at the end of the characters done so far."""

    at_line_start: bool = True
    marker_until: int = 0  # characters before this index belong to a kept line marker


def _cells(
    text: str, lo: int = 0, hi: int | None = None, state: _State | None = None, layout=False
) -> tuple[list[str], _State]:
    """Markdown for each character of text[lo:hi] (context read around it), and the state
    after hi. With `layout`, the answer layout markers are kept (see answer_markdown)."""
    hi = len(text) if hi is None else hi
    state = state or _State()
    base = max(0, lo - _CONTEXT)
    window = text[base : min(len(text), hi + _LOOKAHEAD + 1)]
    breaks = {base + m.start() for m in _AUTOLINK.finditer(window)}
    cells = []
    for i in range(lo, hi):
        ch = text[i]
        if state.at_line_start and ch in _INDENT_CHARS:
            cells.append("")  # leading indentation would turn the line into a code block
            continue
        if layout and state.at_line_start and (m := _LINE_MARKER.match(text, i)):
            state.marker_until = i + len(m.group(1))
        state.at_line_start = ch in "\n\r"
        if i == state.marker_until and i and layout and ch in " \t":
            cells.append(" ")
            state.at_line_start = True  # more indentation would open a code block
            continue
        if i < state.marker_until:
            cell = "-" if ch in "*•" else "." if ch == ")" else ch
        elif layout and ch == "*" and "**" in text[max(0, i - 1) : i + 2]:
            cell = "*"  # bold
        else:
            cell = _ESCAPES.get(ch, ch)
        cells.append(_WORD_JOINER + cell if i in breaks else cell)
    return cells, state


def escape_stream(chunks: Iterable[str], layout: bool = False) -> Iterator[str]:
    """`safe_markdown` (or `answer_markdown` with `layout`) for text arriving in pieces;
    joining the output equals escaping the joined text."""
    text, done, state = "", 0, _State()
    for chunk in chunks:
        text += chunk
        ready = len(text) - _LOOKAHEAD
        if ready > done:
            cells, state = _cells(text, done, ready, state, layout)
            done = ready
            if out := "".join(cells):
                yield out
        if done > 4 * _CONTEXT + _LOOKAHEAD:  # keep only the context the next cells need
            cut = done - _CONTEXT
            text, done = text[cut:], _CONTEXT
            state.marker_until = max(0, state.marker_until - cut)
    cells, _ = _cells(text, done, len(text), state, layout)
    if out := "".join(cells):
        yield out


def highlight_html(text: str, spans: Iterable[tuple[int, int]], style: str = MARK_STYLE) -> str:
    """`text` escaped, with `<mark>` around each (start, end) span; overlaps are merged.

    >>> highlight_html("a <b> c", [(2, 5)], style="s")
    'a <mark style="s">&#60;b&#62;</mark> c'
    """
    cells = _cells(text)[0]
    return _wrap(cells, 0, len(text), merge_spans(spans, len(text)), "mark", style)


def _wrap(
    cells: list[str], lo: int, hi: int, spans: list[tuple[int, int]], tag: str, style: str
) -> str:
    """Cells lo..hi joined, with `tag` around each (absolute, merged) span."""
    pieces, pos = [], lo
    for start, end in spans:
        pieces.append("".join(cells[pos:start]))
        pieces.append(f'<{tag} style="{style}">' + "".join(cells[start:end]) + f"</{tag}>")
        pos = end
    pieces.append("".join(cells[pos:hi]))
    return "".join(pieces)


def article_html(
    text: str, start: int, end: int, highlights: Sequence[tuple[int, int]] = ()
) -> str:
    """The full article escaped, the passage [start, end) tinted and its `highlights`
    (offsets relative to the passage) marked."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return passages_html(text, [(start, end, highlights)])


def passages_html(text: str, passages: Sequence[tuple[int, int, Sequence[tuple[int, int]]]]) -> str:
    """The full article escaped, each passage (start, end, highlights relative to the
    passage) tinted and its highlights marked; overlapping passages share one tint.

    >>> html = passages_html("a b c d", [(0, 3, [(2, 3)]), (2, 5, [])])
    >>> html.count("<span"), html.count("<mark"), re.sub("<[^>]+>", "", html)
    (1, 1, 'a b c d')
    """
    cells = _cells(text)[0]
    n = len(text)
    tints = merge_spans([(s, e) for s, e, _ in passages], n)
    marks = merge_spans([(s + a, s + b) for s, e, hl in passages for a, b in hl if b <= e - s], n)
    pieces, pos = [], 0
    for lo, hi in tints:
        inner = [(max(a, lo), min(b, hi)) for a, b in marks if b > lo and a < hi]
        pieces.append("".join(cells[pos:lo]))
        pieces.append(
            f'<span style="{PASSAGE_STYLE}">'
            + _wrap(cells, lo, hi, inner, "mark", MARK_STYLE)
            + "</span>"
        )
        pos = hi
    pieces.append("".join(cells[pos:]))
    return "".join(pieces)


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


def source_link(url: str, label: str = "original") -> str | None:
    """A Markdown link to an article's web page, only for plain http(s) URLs.

    >>> source_link("javascript:alert(1)") is None
    True
    >>> source_link("https://orf.at/stories/1/")
    '[original](<https://orf.at/stories/1/>)'
    """
    url = (url or "").strip()
    if not re.fullmatch(r"https?://[^\s<>\"'`\\\\]+", url, flags=re.IGNORECASE):
        return None
    return f"[{safe_markdown(label)}](<{url}>)"


def article_window(text: str, start: int, end: int, limit: int = 100_000) -> tuple[int, int]:
    """The [lo, hi) range of a long article to show around the passage [start, end): the
    whole text when it fits in `limit` characters, else about `limit` characters centred on
    the passage, cut at paragraph breaks where possible.

    >>> article_window("kurz", 0, 4)
    (0, 4)
    >>> article_window("a" * 50 + "\\n\\n" + "b" * 50 + "\\n\\n" + "c" * 50, 54, 60, limit=60)
    (52, 102)
    """
    if len(text) <= limit:
        return 0, len(text)
    room = max(0, limit - (end - start))
    lo = max(0, min(start - room // 2, len(text) - limit))
    para = text.find("\n\n", lo, start)
    lo = para + 2 if lo > 0 and para >= 0 else lo
    hi = min(len(text), max(end, lo + limit))
    para = text.rfind("\n\n", end, hi)
    hi = para if hi < len(text) and para >= 0 else hi
    return lo, hi
