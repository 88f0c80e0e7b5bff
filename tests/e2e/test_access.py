"""The workspace at 1366×768 and at 1920×1080, labelled controls, a visible focus ring along the tab order, the
shortcut help, and the span shortcuts not covered elsewhere (edit extent, negation, labels, stepping)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import add_dictation, login, seed_study, shot
from tests.e2e.test_tools import SELECT_TEXT, TRANSCRIPT, WORDS
from tests.e2e.test_workspace import _open_next_task, _saved

# Visible interactive elements whose accessible name (aria-label, aria-labelledby, <label>, text, title, img alt)
# is empty.
UNNAMED = """() => {
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (el) => (el.getAttribute('aria-label')
    || (el.getAttribute('aria-labelledby') || '').split(' ')
         .map((i) => document.getElementById(i)?.textContent || '').join('')
    || [...(el.labels || [])].map((l) => l.textContent).join('') || el.textContent || el.title
    || el.querySelector('img')?.alt || '').trim();
  return [...document.querySelectorAll('button, select, input, textarea, audio, canvas, a[href], [tabindex], [role]')]
    .filter(shown).filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 80));
}"""
FOCUSED = """() => { const e = document.activeElement; const cs = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {tag: e.tagName, id: e.id, text: (e.textContent || '').trim().slice(0, 20), style: cs.outlineStyle,
          width: parseFloat(cs.outlineWidth),
          inView: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth}; }"""
BOXES = """() => Object.fromEntries(['#doc', '#canvas', '.side-pane', '#thumbs', '.tools', '#audio-box', '.ws-bar']
  .map((s) => { const r = document.querySelector(s).getBoundingClientRect();
                return [s, [r.left, r.top, r.right, r.bottom]]; }))"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_layout_names_and_focus(page: Any, live: Any, size: tuple[int, int]) -> None:
    ids = seed_study(live, project_name=f"e2e layout {size[0]}", username=f"fay{size[0]}")
    add_dictation(live, ids, TRANSCRIPT, WORDS)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login(page, live, ids["username"])
    _open_next_task(page, live, ids)
    page.wait_for_function("window.hilum.viewer.shown")

    # everything on one screen: no page scrolling, every pane inside the window, a usable image area
    scroll = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert scroll == [size[0], size[1]]
    for selector, (left, top, right, bottom) in page.evaluate(BOXES).items():
        assert left >= 0 and top >= 0 and right <= size[0] + 0.5 and bottom <= size[1] + 0.5, selector
    doc, canvas = page.locator("#doc").bounding_box(), page.locator("#canvas").bounding_box()
    assert doc["width"] >= 280 and doc["height"] >= 300
    assert min(canvas["width"], canvas["height"]) >= 0.5 * size[1]

    assert page.evaluate(UNNAMED) == []

    # the tab order reaches the workspace's controls, each with a visible focus ring, inside the window
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUSED)
        if f["tag"] == "AUDIO":  # the player's own buttons draw Chromium's focus ring (shadow DOM)
            continue
        if f["tag"] == "BODY":
            break
        assert f["style"] != "none" and f["width"] >= 2 and f["inView"], f
        seen.append(f["id"] or f["text"])
    for control in ("next-task", "help-btn", "doc", "zoom-in", "preset", "canvas", "link-btn", "Box", "Brush"):
        assert control in seen, (control, seen)
    page.locator("#tools button[data-tool=box]").focus()
    shot(page, f"focus-ring-{size[0]}x{size[1]}")

    # the shortcut help lists every shortcut; Escape closes it
    page.locator("#canvas").focus()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    assert help_dialog.locator("tr").count() >= 20 and "Undo / redo" in help_dialog.inner_text()
    page.keyboard.press("Escape")
    assert help_dialog.is_hidden()


def test_span_shortcuts(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e span keys", username="gus")
    login(page, live, "gus")
    _open_next_task(page, live, ids)
    nodule = f"window.hilum.store.get({ids['span_id']})"

    page.keyboard.press("j")  # the first span in the text
    assert page.evaluate("window.hilum.active") == ids["span_id"]
    page.keyboard.press("j")
    assert page.evaluate("window.hilum.active") == ids["negated_id"]
    page.keyboard.press("k")
    assert page.evaluate("window.hilum.active") == ids["span_id"]

    page.keyboard.press("x")  # negated, shown as such
    page.wait_for_selector(f"mark[data-top='{ids['span_id']}'].as-negated")
    page.keyboard.press("Digit2")  # no text selected: the selected span takes the schema's second label
    assert page.evaluate(f"{nodule}.label") == "ANATOMY"

    # edit: select a longer extent; E (or the Set extent button) gives it to the selected span
    page.evaluate(SELECT_TEXT, ["spiculated nodule in the right"])
    page.locator("#new-span-extent").wait_for(state="visible", timeout=5000)  # shown on selectionchange
    page.evaluate("window.hilum.refresh()")  # as when a save finishes: the text re-renders, the selection stays
    page.keyboard.press("e")
    assert page.evaluate(f"[{nodule}.start, {nodule}.end, {nodule}.text]")[2] == "spiculated nodule in the right"
    page.evaluate(SELECT_TEXT, ["spiculated nodule"])
    page.locator("#new-span-extent").click()
    _saved(page)
    saved = live.api("GET", f"/annotations/{ids['span_id']}", ids["token"])
    assert saved["label"] == "ANATOMY" and saved["attributes"]["assertion"] == "negated"
    assert saved["end"] - saved["start"] == len("spiculated nodule")
    page.keyboard.press("Control+z")  # undo the last extent change
    _saved(page)
    assert live.api("GET", f"/annotations/{ids['span_id']}", ids["token"])["end"] - saved["start"] == len(
        "spiculated nodule in the right")
