"""The desk in a real browser: `streamlit run app.py` driven by headless chromium.

Over the sample article and four made-up local news articles (tests/data/desk: outlets,
dates, links, people quoted), checks what a journalist sees: example questions on an
empty chat that ask with one click; the filters above the chat, on every answer and
reset with one click; the one-click copy (read back from the clipboard); the German
interface with a Monday-first calendar; and the 390 px phone layout (filters in reach,
long source cards folded, page height after two answers measured and recorded).

Uses the system chromium (no browser download); skipped with the reason when it is absent.
Screenshots go to test-artifacts/; with UPDATE_SCREENSHOT=1 the README screenshots in
docs/screenshots/ are rewritten from the same run.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SAMPLE_CORPUS
from tests.servers import start_app, stop
from tests.test_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    LIVE_JS,
    browser,
    chromium,
    save_small_png,
)

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]

DESK_CORPUS = Path(__file__).resolve().parent / "data" / "desk"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
BERGER = "Was sagte Anna Berger über die Straßenbahn?"
FIRE = "Wie viele Bewohner rettete die Feuerwehr in Salzburg?"
PHONE = {"width": 390, "height": 844}
PHONE_HEIGHT_BUDGET = 4000  # px for two answers at 390 px (the chat before: about 9,600)

# The run answering question n is over: its export button is there, nothing is running.
DONE_JS = (
    "([n, label]) => {"
    + LIVE_JS
    + """
  const msgs = answers();
  if (msgs.length <= n) return false;
  if (document.querySelector('[data-testid^="stStatusWidgetRunning"]')) return false;
  return live(msgs[n], 'button').some(b => b.innerText.includes(label));
}"""
)
MAIN_HEIGHT_JS = (
    "() => document.querySelector('[data-testid=\"stMain\"], main.stMain').scrollHeight"
)


@pytest.fixture(scope="module")
def desk_index_dir(tmp_path_factory, embedder):
    """The sample article and the four desk articles, indexed once (read-only)."""
    from ingest.pipeline import run_ingest
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("desk-index")
    settings = Settings(_env_file=None, index_dir=folder)
    summary = run_ingest([SAMPLE_CORPUS, DESK_CORPUS], settings, embedder=embedder)
    assert len(summary.added) == 5 and not summary.failed, summary.as_dict()
    return folder


@pytest.fixture(scope="module")
def desk_url(desk_index_dir, tmp_path_factory):
    """`streamlit run app.py` on a free local port, against the desk index."""
    workdir = tmp_path_factory.mktemp("desk-cwd")  # no developer .env is read from here
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_INDEX_DIR=str(desk_index_dir),
        RAG_CORPUS_DIR=str(SAMPLE_CORPUS),
        RAG_LLM_BACKEND="extractive",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    log = tmp_path_factory.mktemp("desk-log") / "streamlit.log"
    proc, url = start_app(workdir, env, log, "--server.fileWatcherType", "none")
    yield url
    stop(proc)


def open_desk(browser, url: str, *, locale="en-US", viewport=None, mobile=False, path=""):  # noqa: F811
    """A fresh tab (its own context) on the desk, once the chat box is there."""
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 1000},
        locale=locale,
        is_mobile=mobile,
        has_touch=mobile,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.goto(url + path)
    if not path:
        page.locator("textarea").first.wait_for(timeout=180_000)
    return page


def ask(page, question: str, export_label: str = "Export as Markdown") -> None:
    """Type a question, press Enter, wait until its answer is complete."""
    n = page.evaluate("() => {" + LIVE_JS + "return answers().length; }")
    box = page.locator("textarea").first
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(DONE_JS, arg=[n, export_label], polling=100, timeout=120_000)


def last_answer(page):
    return page.locator('[data-testid="stChatMessage"]').last


def idle(page) -> None:
    """Wait until no script run is in progress (after a click that reruns)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(300)


def screenshot(page, name: str, *, tall: bool = True) -> None:
    """test-artifacts/<name>.png, the whole page; docs/screenshots/ too on request."""
    size = page.viewport_size
    if tall:
        height = min(page.evaluate(MAIN_HEIGHT_JS) + 40, 4000)
        page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot()
    (ARTIFACTS / f"desk-{name}.png").write_bytes(png)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        save_small_png(png, SCREENSHOTS / f"{name}.png")
    page.set_viewport_size(size)


def test_example_questions_are_asked_with_one_click(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url)
    try:
        newest = re.compile(r"^What was reported on 8 September 2025 about “Graz plant")
        buttons = page.get_by_role("button", name=newest)
        buttons.wait_for(timeout=30_000)
        people = page.get_by_role("button", name=re.compile(r"^What did .+ say\?$"))
        assert people.count() == 2  # the most quoted people
        assert "What did Dmitri Peskow say?" in people.first.inner_text()
        buttons.click()
        page.wait_for_function(DONE_JS, arg=[0, "Export as Markdown"], polling=100)
        answer = last_answer(page).inner_text()
        assert "published 8 September 2025 – 8 September 2025" in answer  # its day filter
        assert "Murtaler Bote" in answer or "Inntal Nachrichten" in answer  # the 8th's outlets
        assert "Salzach-Kurier" not in answer  # the fire was on the 7th
        assert people.count() == 0  # the examples made way for the answer
    finally:
        page.context.close()


def test_filters_are_shown_on_the_answer_and_reset_with_one_click(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url)
    try:
        page.get_by_role("button", name="Filters").click()
        page.get_by_text("Outlets").wait_for()
        page.locator('[data-testid="stMultiSelect"]').click()
        page.get_by_role("option", name="Murtaler Bote").click()
        idle(page)
        active = page.get_by_text("Active filters: outlets: Murtaler Bote")
        active.wait_for(timeout=30_000)
        active.click()  # outside the popover: closes it
        page.get_by_test_id("stPopoverBody").wait_for(state="hidden", timeout=10_000)

        ask(page, "Was sagte Anna Berger?")
        answer = last_answer(page)
        assert "Asked with filters: outlets: Murtaler Bote" in answer.inner_text()
        cards = answer.locator('[data-testid="stVerticalBlockBorderWrapper"], .st-key-card-1-1')
        assert "Murtaler Bote" in cards.first.inner_text()
        assert "Salzach-Kurier" not in answer.inner_text()
        screenshot(page, "filters")

        # a visit to another view keeps them
        page.get_by_role("link", name="Archive").click()
        page.get_by_test_id("stPopoverButton").wait_for(state="detached", timeout=60_000)
        idle(page)
        page.get_by_role("link", name="Chat").click()
        page.get_by_text("Active filters: outlets: Murtaler Bote").wait_for(timeout=60_000)

        page.get_by_role("button", name="Reset filters").click()
        page.get_by_text("Searching all 5 articles.").wait_for(timeout=30_000)
        page.get_by_role("button", name="Reset filters").wait_for(state="detached")
        # the answer still says what it was asked under
        assert "Asked with filters: outlets: Murtaler Bote" in last_answer(page).inner_text()
    finally:
        page.context.close()


def test_one_click_copies_clean_text_with_numbered_citations(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url)
    try:
        ask(page, BERGER)
        answer = last_answer(page)
        card = answer.locator(".st-key-card-1-1")
        meta = card.inner_text()
        assert "Murtaler Bote · 6 September 2025" in meta
        link = card.get_by_role("link", name="original ↗")
        assert link.get_attribute("href") == (
            "https://murtaler-bote.example/graz/strassenbahn-puntigam"
        )
        screenshot(page, "chat")

        answer.get_by_role("button", name="Copy with citations").click()
        answer.get_by_role("button", name="✓ Copied").wait_for(timeout=10_000)
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert (
            "[1] Murtaler Bote, 2025-09-06: Graz eröffnet die Straßenbahnlinie nach "
            "Puntigam. https://murtaler-bote.example/graz/strassenbahn-puntigam" in copied
        )
        assert "Quellen:" in copied  # the German question: a German heading
        assert "**" not in copied and "\n>" not in copied and "&#" not in copied
        assert "12.000 Menschen" in copied  # the quoted answer itself
    finally:
        page.context.close()


def test_german_interface_with_a_monday_first_calendar(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url, locale="de-DE")
    try:
        page.get_by_role("heading", name="Das Archiv fragen").wait_for(timeout=30_000)
        assert page.get_by_placeholder("Frage an das Archiv…").count() == 1
        nav = page.locator('[data-testid="stTopNavLink"], header a').all_inner_texts()
        names = {x.strip().splitlines()[-1] for x in nav}  # after the icon's name
        assert {"Chat", "Wer sagte was", "Archiv"} <= names, nav
        assert page.get_by_role("button", name="Was sagte Dmitri Peskow?").count() == 1

        page.get_by_role("button", name="Filter").click()
        page.get_by_text("Erschienen zwischen").wait_for()
        page.get_by_test_id("stDateInputCalendarButton").click()
        header = page.locator('[role="grid"] thead, [role="grid"] [role="row"]').first
        header.wait_for(timeout=10_000)
        days = "".join(header.inner_text().split())
        assert days == "MDMDFSS", days  # Montag first
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        idle(page)

        ask(page, FIRE, export_label="Als Markdown exportieren")
        text = last_answer(page).inner_text()
        assert "Quellen (nur Zitate; zitierte Sätze sind markiert)" in text
        assert "Salzach-Kurier · 7. September 2025" in text
        answer = last_answer(page)
        assert answer.get_by_role("button", name="Mit Quellen kopieren").count() == 1
        screenshot(page, "chat-de")
    finally:
        page.context.close()


def test_phone_layout_keeps_filters_in_reach_and_two_answers_short(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url, viewport=PHONE, mobile=True)
    try:
        button = page.get_by_role("button", name="Filters")
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["y"] + box["height"] <= PHONE["height"]  # on the first screen

        ask(page, BERGER)
        ask(page, FIRE)
        answer = last_answer(page)
        folded = answer.get_by_text("Show the quoted passage")
        assert folded.count() >= 1, answer.inner_text()
        assert answer.locator('[data-testid="stExpander"] details[open]').count() == 0
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width} px"
        height = page.evaluate(MAIN_HEIGHT_JS)
        record = {"width": PHONE["width"], "answers": 2, "page_height_px": height}
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "ui-phone.json").write_text(json.dumps(record))
        print(f"\npage height after two answers at 390 px: {height} px")
        assert height < PHONE_HEIGHT_BUDGET, record

        folded.first.click()  # a folded card opens on a tap
        answer.locator("mark").first.wait_for(timeout=10_000)
        screenshot(page, "phone")
    finally:
        page.context.close()


def test_archive_and_who_said_what_views_open_from_the_navigation(browser, desk_url):  # noqa: F811
    page = open_desk(browser, desk_url)
    try:
        page.get_by_role("link", name="Archive").click()
        page.get_by_text("Graz plant Sparpaket für 2026").first.wait_for(timeout=60_000)
        idle(page)
        screenshot(page, "archive")
        page.get_by_role("link", name="Who said what").click()
        page.get_by_role("heading", name="Who said what").wait_for(timeout=60_000)
        page.goto(desk_url + "/who-said-what?person=Anna%20Berger")  # a link presets one
        page.get_by_text(re.compile(r"^\d+ statements")).first.wait_for(timeout=60_000)
        idle(page)
        page.locator('[data-testid="stVegaLiteChart"] canvas, .vega-embed').first.wait_for()
        page.wait_for_timeout(1000)  # the chart draws after it is mounted
        screenshot(page, "who-said-what")
        page.get_by_role("link", name="Chat").click()
        page.locator("textarea").first.wait_for(timeout=60_000)
    finally:
        page.context.close()
