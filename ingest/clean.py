"""Text normalisation for ingested articles: pure functions, no I/O.

`clean_text` turns what readers find (text with stray HTML, `<BR \\/>` paragraph marks,
JSON escapes, odd whitespace) into the one form the index stores: NFC text, paragraphs
separated by one blank line, no invisible characters. Typographic quotes and dashes are
kept exactly, since citations quote the text back to the user.

Shortcuts: tags are removed with regular expressions, not an HTML parser (readers hand
whole pages to trafilatura; what reaches this module are fragments). Dates are parsed by
a small set of patterns (ISO, German and English day-month-year, RFC 2822, Unix time)
instead of a general date library; ambiguous numeric forms such as 05/09/2025 give None.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import UTC, date, datetime

# --- clean_text ---------------------------------------------------------------------

_JSON_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})(?:\\u([dD][c-fC-F][0-9a-fA-F]{2}))?")
_JSON_NEWLINE = re.compile(r"\\r\\n|\\n|\\r")
_DROP_BLOCKS = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BREAK = re.compile(r"<br\s*\\?/?\s*>", re.I)
# Block-level tags end a paragraph; inline tags vanish and keep their text.
_BLOCK_TAG = re.compile(
    r"</?(p|div|h[1-6]|li|ul|ol|tr|table|blockquote|section|article|header|footer|"
    r"figure|figcaption|pre|hr|dd|dt|dl)\b[^<>]*>",
    re.I,
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>")
# Invisible characters that break search and sentence splitting: soft hyphen, zero-width
# space/joiners, direction marks and embeddings, word joiner, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_SEPARATORS = re.compile("\r\n|\r|\u2028|\u2029|\x85")
# Every Unicode space separator (NBSP, narrow NBSP, thin space, …) and tabs become " ".
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(raw: str) -> str:
    r"""Normalise article text: paragraphs joined by "\n\n", clean whitespace, no markup.

    >>> clean_text("Erster Absatz.<BR \\/><BR \\/>Zweiter&nbsp;Absatz &amp; mehr.")
    'Erster Absatz.\n\nZweiter Absatz & mehr.'
    >>> clean_text("<p>Er sagte: <b>„Nein“</b> – </p><p>  dann  ging er.</p>")
    'Er sagte: „Nein“ –\n\ndann ging er.'
    >>> clean_text("Zeile eins\r\nZeile zwei")  # no blank line anywhere: one paragraph per line
    'Zeile eins\n\nZeile zwei'
    >>> clean_text("Absatz eins,\nweiter.\n\n\n\nAbsatz zwei.")
    'Absatz eins,\nweiter.\n\nAbsatz zwei.'
    """
    text = _unescape_json(raw)
    text = _COMMENT.sub("", text)
    text = _DROP_BLOCKS.sub(" ", text)
    text = _BREAK.sub("\n\n", text)
    text = _BLOCK_TAG.sub("\n\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _LINE_SEPARATORS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    if "\n" in text and "\n\n" not in text:
        # A text without any blank line is one paragraph per line (exports, feeds).
        text = text.replace("\n", "\n\n")
    return _BLANK_LINES.sub("\n\n", text)


def _unescape_json(text: str) -> str:
    r"""Undo JSON escapes left in text that was escaped twice: \/ \n \t \" \uXXXX."""
    if "\\" not in text:
        return text
    text = text.replace("\\/", "/")
    text = _JSON_NEWLINE.sub("\n", text)
    text = text.replace("\\t", " ").replace('\\"', '"')
    return _JSON_UNICODE.sub(_decode_unicode_escape, text)


def _decode_unicode_escape(m: re.Match[str]) -> str:
    high = int(m.group(1), 16)
    if m.group(2) and 0xD800 <= high <= 0xDBFF:  # surrogate pair → one character
        low = int(m.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return "" if 0xD800 <= high <= 0xDFFF else chr(high)


# --- derive_title -------------------------------------------------------------------


_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")
_ONE_LETTER_END = re.compile(r"(?<![^\W\d_])[^\W\d_]\.$")


def derive_title(text: str, max_chars: int = 120) -> str:
    """A title for an article that has none: its first sentence, cut at a word with "…".

    >>> derive_title("Kiew meldet Angriffe. Die Lage bleibt angespannt.")
    'Kiew meldet Angriffe'
    >>> derive_title("Tore in der K.-o.-Phase fehlen. Benfica mit Sorgen.")
    'Tore in der K.-o.-Phase fehlen'
    >>> derive_title("Die Regierung in Wien hat am Montag ein neues Paket vorgestellt", 40)
    'Die Regierung in Wien hat am Montag ein…'
    """
    from rag.text import sentence_spans

    head = text.lstrip()[: max_chars * 2]  # pysbd is slow; a longer first sentence is cut anyway
    # A line break inside a paragraph is no sentence end (pysbd takes it for one).
    spans = sentence_spans(_LONE_NEWLINE.sub(" ", head))
    if not spans:
        return ""
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        # The splitter cuts after one-letter abbreviations ("K.-o.-Phase"): keep going.
        if not _ONE_LETTER_END.search(head[start:end]) or "\n" in head[end:next_start]:
            break
        end = next_end
    first = " ".join(head[start:end].split())
    if first.endswith(".") and not first.endswith(".."):
        first = first[:-1].rstrip()  # headlines carry no full stop; ? ! … stay
    if len(first) <= max_chars:
        return first
    cut = first[: max_chars - 1]
    if first[len(cut)] != " " and " " in cut:  # mid-word: back up to the last space
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-") + "…"


# --- parse_date ---------------------------------------------------------------------

_MONTHS = {
    # German (incl. Austrian Jänner/Feber) and English names; keys are lower-case prefixes
    # as written in news datelines, with or without a trailing full stop.
    "jan": 1, "jän": 1, "jänner": 1, "januar": 1, "january": 1,
    "feb": 2, "feber": 2, "februar": 2, "february": 2,
    "mär": 3, "mrz": 3, "märz": 3, "maerz": 3, "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oct": 10, "oktober": 10, "october": 10,
    "nov": 11, "november": 11,
    "dez": 12, "dec": 12, "dezember": 12, "december": 12,
}  # fmt: skip
_MONTH = r"(?P<month>[A-Za-zÄÖÜäöü]{3,9})\.?"
_DATE_PATTERNS = [
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<year>\d{4})/(?P<mon>\d{1,2})/(?P<day>\d{1,2})(?!\d)"),
    re.compile(
        r"(?<![\d.])(?P<day>\d{1,2})\.\s?(?P<mon>\d{1,2})\.\s?(?P<year>\d{4}|\d{2})(?![\d])"
    ),
    re.compile(r"(?<!\d)(?P<day>\d{1,2})\.?\s+" + _MONTH + r",?\s+(?P<year>\d{4})(?!\d)"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})(?!\d)"),
]
_COMPACT = re.compile(r"\s*(?P<year>\d{4})(?P<mon>\d{2})(?P<day>\d{2})\s*")
_UNIX_TIME = re.compile(r"\s*(?P<secs>\d{10})(?P<ms>\d{3})?(?:\.\d+)?\s*")


def parse_date(value: str) -> str | None:
    """The first calendar date written in `value`, as ISO YYYY-MM-DD; None if there is none.

    >>> [parse_date(v) for v in ["2025-09-05T10:00:00Z", "05.09.2025", "5. September 2025"]]
    ['2025-09-05', '2025-09-05', '2025-09-05']
    >>> [parse_date(v) for v in ["5 Sep 2025", "Sept. 5, 2025", "Fri, 05 Sep 2025 10:00:00 +0000"]]
    ['2025-09-05', '2025-09-05', '2025-09-05']
    >>> [parse_date(v) for v in ["3. Jänner 2016", "20250905", "1757066400", "05/09/2025", "bald"]]
    ['2016-01-03', '2025-09-05', '2025-09-05', None, None]
    """
    value = str(value)
    if m := _COMPACT.fullmatch(value):
        return _iso(m["year"], m["mon"], m["day"])
    if m := _UNIX_TIME.fullmatch(value):
        return datetime.fromtimestamp(int(m["secs"]), tz=UTC).date().isoformat()
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(value):
            mon = m.groupdict().get("mon") or _MONTHS.get(m["month"].lower())
            if mon and (found := _iso(m["year"], mon, m["day"])):
                return found
    return None


def _iso(year: str, month: str | int, day: str) -> str | None:
    y = int(year)
    if len(year) == 2:
        y += 2000  # "05.09.25": news archives are this century
    if not 1800 <= y <= 2200:
        return None
    try:
        return date(y, int(month), int(day)).isoformat()
    except ValueError:
        return None


# --- text_hash ----------------------------------------------------------------------


def text_hash(text: str) -> str:
    """SHA-256 hex digest of cleaned text alone, for duplicate checks (an article's
    version, which also covers its metadata, is `ingest.pipeline.version_hash`).

    >>> text_hash("Hallo")[:16]
    '753692ec36adb4c7'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
