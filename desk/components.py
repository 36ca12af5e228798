"""Two small browser-side pieces Streamlit has no widget for, as `st.components.v2`
components (they run in the page itself, not in an iframe):

- `copy_button(text, label, done)`: one click puts `text` on the clipboard. The text is
  handed over as component data, never written into HTML, so article text cannot become
  markup. `navigator.clipboard` needs a secure context (https or 127.0.0.1/localhost);
  on plain http from another machine it falls back to `document.execCommand("copy")`.
- `narrow_screen()`: whether the browser window is at most `NARROW_PX` wide (a phone), so
  the chat can fold long source cards there. The browser reports it once on load and again
  when the window crosses the width; until it has (the first run of a session, or
  AppTest, which runs no JavaScript) the screen counts as wide.
"""

from __future__ import annotations

import streamlit as st

NARROW_PX = 640

_ICON = (  # Material Symbols "content_copy", inline: the page's icon font is not in reach
    '<svg viewBox="0 -960 960 960" width="18" height="18" aria-hidden="true">'
    '<path fill="currentColor" d="M360-240q-33 0-56.5-23.5T280-320v-480q0-33 23.5-56.5T360-880h'
    "360q33 0 56.5 23.5T800-800v480q0 33-23.5 56.5T720-240H360Zm0-80h360v-480H360v480ZM200-80q"
    '-33 0-56.5-23.5T120-160v-560h80v560h440v80H200Z"/></svg>'
)
_COPY_HTML = f'<button type="button" class="copy">{_ICON}<span class="label"></span></button>'
_COPY_CSS = """
.copy {
  display: inline-flex; align-items: center; gap: 0.5rem;
  font: inherit; font-size: 0.875rem; line-height: 1.6; cursor: pointer;
  padding: 0.25rem 0.75rem; min-height: 2.5rem; border-radius: 0.5rem;
  color: var(--st-text-color); background: var(--st-background-color);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
}
.copy:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
.copy.done { border-color: #21c354; color: #21c354; }
"""
_COPY_JS = """
export default function ({ parentElement, data }) {
  const button = parentElement.querySelector("button.copy");
  const label = button.querySelector(".label");
  label.textContent = data.label;
  const fallback = (text) => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  };
  button.onclick = async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(data.text);
      ok = true;
    } catch (e) {
      ok = fallback(data.text);
    }
    button.classList.toggle("done", ok);
    label.textContent = ok ? "✓ " + data.done : "✗ " + data.failed;
    setTimeout(() => {
      button.classList.remove("done");
      label.textContent = data.label;
    }, 2500);
  };
}
"""

_NARROW_JS = """
export default function ({ setStateValue, data }) {
  const query = window.matchMedia(`(max-width: ${data.px}px)`);
  const report = () => {
    if (query.matches !== data.narrow) setStateValue("narrow", query.matches);
  };
  report();
  query.addEventListener("change", report);
  return () => query.removeEventListener("change", report);
}
"""

_copy = st.components.v2.component("newsroom_copy", html=_COPY_HTML, css=_COPY_CSS, js=_COPY_JS)
_narrow = st.components.v2.component("newsroom_narrow", js=_NARROW_JS)


def copy_button(text: str, *, label: str, done: str, failed: str, key: str) -> None:
    """A button that copies `text` to the clipboard in one click."""
    _copy(
        data={"text": text, "label": label, "done": done, "failed": failed},
        key=key,
        width="content",
    )


def narrow_screen() -> bool:
    """True when the browser window is phone-narrow (reported by the browser)."""
    known = st.session_state.get("screen", {}) or {}
    narrow = bool(known.get("narrow", False))
    result = _narrow(
        data={"px": NARROW_PX, "narrow": narrow},
        key="screen",
        on_narrow_change=lambda: None,
        height=0,
    )
    return bool(getattr(result, "narrow", narrow))
