"""The UI's rendering helpers show untrusted text as text and mark the cited sentences."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from markdown_it import MarkdownIt

from rag import ui

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klick](javascript:alert(1))",
    "![](http://127.0.0.1:9/beacon.png)",
    "javascript:alert(document.cookie)",
    "http://example.com/x and www.example.com",
    "<https://example.com>",
    "mail me: a@b.example",
    "**bold** _it_ `code` ~~strike~~",
    "# Heading\n- item\n1. item\n> quote\n---",
    "    indented code\n\tand a tab",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "$x^2$ and $$\\int$$",
    ":red[rot] :material/home: :smile:",
    '<a href="javascript:alert(2)">Link</a>',
    "&lt;script&gt; &amp; &#60;",
    "",
    "Émoji 🗞️ und Umlaute: „Zitat“ – ok",
]


def render(markdown_source: str) -> str:
    """HTML as a CommonMark renderer with raw HTML enabled would produce it."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown_source)


def visible_text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_markdown_renders_untrusted_text_literally_and_inert(text):
    source = ui.safe_markdown(text)
    rendered = render(source)
    assert not re.search(r"<(a|img|script|iframe|h1|ul|ol|li|pre|code|table|em|strong)\b", rendered)
    for active in ("javascript:", "http:", "www.", "$", ":red[", "<"):
        assert active not in source  # no autolink, math or directive can start
    shown = visible_text(rendered)
    # GFM autolinks are found in the decoded text: none of their patterns may survive.
    assert not re.search(r"(?i)https?://|www\.|mailto:|\w@\w", shown)
    words = lambda s: re.sub(r"\s+", " ", s).strip()  # noqa: E731 - local shorthand
    assert words(shown.replace("\u2060", "")) == words(text)


STREAMED = (
    "Er sagte:\n   [1] <b>Nein</b>\n\n  - ![x](http://a.b/c.png)\tok www.x.at, "
    "mailto:a@b.at und HTTPS://y.z " + "lange Zeile ohne Umbruch " * 20 + "www.q.at\n"
    "**Titel** (ORF)\n> „Zitat“ [1]\n12. Punkt **fett** *x*\n* Stern\n## Kopf\n***"
)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
@pytest.mark.parametrize("layout", [False, True])
def test_escape_stream_equals_escaping_the_joined_text(size, layout):
    pieces = [STREAMED[i : i + size] for i in range(0, len(STREAMED), size)]
    whole = ui.answer_markdown(STREAMED) if layout else ui.safe_markdown(STREAMED)
    assert "".join(ui.escape_stream(pieces, layout=layout)) == whole


@pytest.mark.parametrize("text", HOSTILE)
def test_answer_layout_keeps_only_inert_markup(text):
    answer = f"**{text}**\n> {text} [1]\n- {text}\n1. {text}"
    rendered = render(ui.answer_markdown(answer))
    assert not re.search(r"<(a|img|script|iframe|pre|code|table)\b", rendered)
    assert not re.search(r"(?i)https?://|www\.|mailto:|\w@\w", visible_text(rendered))


def test_answer_layout_renders_quotes_lists_and_bold():
    answer = "Was Peskow sagte:\n\n**Titel** (ORF)\n> „Zitat“ [1]\n\n- eins\n2) zwei"
    rendered = render(ui.answer_markdown(answer))
    assert "<strong>Titel</strong>" in rendered
    assert re.search(r"<blockquote>\s*<p>„Zitat“ \[1\]</p>", rendered)
    assert "<li>eins</li>" in rendered and '<ol start="2">' in rendered


def test_highlight_marks_exactly_the_given_spans_and_escapes_the_rest():
    quote = "Erster Satz <b>. Zweiter [Satz](javascript:x). Dritter."
    second = quote.index("Zweiter")
    spans = [(second, quote.index(" Dritter"))]
    rendered = render(ui.highlight_html(quote, spans, style="s"))
    marked = re.findall(r"<mark style=\"s\">(.*?)</mark>", rendered)
    assert [html.unescape(m) for m in marked] == ["Zweiter [Satz](javascript:x)."]
    assert "<a " not in rendered and "<b>" not in rendered


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], []),
        ([(3, 1)], []),
        ([(-5, 2), (1, 4)], [(0, 4)]),
        ([(2, 4), (4, 6)], [(2, 6)]),
        ([(8, 50)], [(8, 10)]),
        ([(11, 12)], []),
    ],
)
def test_merge_spans_clips_sorts_and_joins(spans, expected):
    assert ui.merge_spans(spans, 10) == expected


def test_article_view_tints_the_passage_and_marks_cited_sentences_inside_it():
    text = "Vorher <i>.\n\nDie Passage. Der zitierte Satz.\n\nDanach."
    start = text.index("Die Passage")
    end = text.index("\n\nDanach")
    cited = "Der zitierte Satz."
    rel = (text.index(cited) - start, text.index(cited) - start + len(cited))
    rendered = render(ui.article_html(text, start, end, [rel]))
    assert visible_text(rendered).split() == text.split()
    tinted = re.search(r"<span style=\"[^\"]+\">(.*?)</span>", rendered).group(1)
    assert visible_text(tinted) == text[start:end]
    assert re.search(r"<mark[^>]*>Der zitierte Satz\.</mark>", rendered)
    assert "<i>" not in rendered


def test_locate_finds_a_passage_that_moved_and_reports_one_that_is_gone():
    text = "Neu eingefügt. Alter Satz hier."
    assert ui.locate(text, "Alter Satz", 15, 25) == (15, 25)
    assert ui.locate(text, "Alter Satz", 0, 10) == (15, 25)
    assert ui.locate(text, "Verschwunden", 0, 12) == (None, None)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "http://a b", "", "ftp://x"],
)
def test_source_link_refuses_anything_but_plain_web_urls(url):
    assert ui.source_link(url) is None


def test_source_card_label_and_meta_are_text():
    from desk.chat import Card, card_label, card_meta

    card = Card([2], "a", "<b>Titel</b> [x](javascript:y)", "2025-09-05", "*ORF*", "javascript:z")
    assert visible_text(render(card_label(card))).strip() == "[2] <b>Titel</b> [x](javascript:y)"
    meta = render(card_meta(card))
    assert visible_text(meta).strip() == "*ORF* · 5 September 2025"  # no link: not http(s)
    assert "<a" not in meta and "<em" not in meta
    undated = Card([1], "b", "", None, "", "https://orf.at/1")
    assert visible_text(render(card_label(undated))).strip() == "[1] (untitled)"
    assert visible_text(render(card_meta(undated))).strip() == (
        "outlet unknown · undated · original ↗"
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Was sagte Peskow?", "answer-2025-09-05-1403-was-sagte-peskow.md"),
        ("../../etc/passwd", "answer-2025-09-05-1403-etc-passwd.md"),
        ("???", "answer-2025-09-05-1403.md"),
        ("Путин", "answer-2025-09-05-1403.md"),
    ],
)
def test_export_filename_is_safe(question, expected):
    assert ui.export_filename(question, dt.datetime(2025, 9, 5, 14, 3)) == expected


@pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
def test_a_long_article_is_shown_as_a_window_around_the_passage(where):
    paragraphs = [f"Absatz {i}: " + "Wort " * 200 for i in range(2000)]  # about 2 MB
    text = "\n\n".join(paragraphs)
    start = text.index(f"Absatz {int(where * 1999)}:")
    end = start + 500
    lo, hi = ui.article_window(text, start, end, limit=100_000)
    assert lo <= start < end <= hi
    assert hi - lo <= 100_000
    assert hi - lo > 90_000  # the window is used, not wasted
    assert lo == 0 or text[lo - 2 : lo] == "\n\n"  # starts at a paragraph
    assert hi == len(text) or text[hi : hi + 2] == "\n\n"  # ends at one


def test_several_passages_of_one_article_are_tinted_and_marked_in_one_view():
    text = "Eins <b>zwei</b>. Drei vier. Fünf sechs. Sieben acht."
    first, second = (0, 16), (29, 40)  # "Eins <b>zwei</b>" and "Fünf sechs."
    out = ui.passages_html(text, [(*first, [(0, 4)]), (*second, [(5, 10)])])
    rendered = render(out)
    assert visible_text(rendered).strip() == text  # the whole article, as text
    assert out.count("<span") == 2 and out.count("<mark") == 2
    tinted = re.findall(r"<span[^>]*>(.*?)</span>", out)
    assert [html.unescape(re.sub(r"<[^>]+>", "", s)) for s in tinted] == [
        "Eins <b>zwei</b>",
        "Fünf sechs.",
    ]
    marked = [html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", out)]
    assert marked == ["Eins", "sechs"]
    # overlapping passages (chunks overlap) share one tint
    assert ui.passages_html(text, [(0, 20, []), (10, 30, [])]).count("<span") == 1
    # a single passage is the classic article view
    assert ui.passages_html(text, [(29, 40, [(5, 10)])]) == ui.article_html(text, 29, 40, [(5, 10)])


def test_source_link_label_is_text():
    assert ui.source_link("https://orf.at/1", "Original ↗") == "[Original ↗](<https://orf.at/1>)"
    assert ui.source_link("https://orf.at/1", "[x](javascript:y)").startswith("[&#91;x&#93;")
