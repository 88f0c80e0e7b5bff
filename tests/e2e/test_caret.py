"""Making spans by keyboard only: Tab to the report, move its word caret with the arrow keys (Ctrl+arrow by word,
↑ ↓ by line, Home / End), extend with Shift, add the span with N or a label digit; reload and see them saved;
resize a span picked with K by the caret and E."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import REPORT, login, seed_study, shot
from tests.e2e.test_workspace import _annotations, _open_next_task, _saved

SELECTED = "window.getSelection().toString()"


def _tab_to(page: Any, element_id: str) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is not in the tab order")


def test_span_by_keyboard_only(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e caret", username="kit")
    login(page, live, "kit")
    _open_next_task(page, live, ids)
    _tab_to(page, "doc")
    assert page.get_attribute("#doc", "role") == "textbox"
    assert "arrow keys move a word caret" in page.locator("#doc-keys").inner_text()

    page.keyboard.press("ArrowRight")  # the first key places the caret on the first word
    assert page.evaluate(SELECTED) == "EXAM"
    page.keyboard.press("ArrowDown")  # the blank line is skipped
    assert page.evaluate(SELECTED) == "FINDINGS"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(SELECTED) == "LUNGS"
    for _ in range(10):  # LUNGS : 2.3 x 1.8 cm spiculated nodule in the right
        page.keyboard.press("Control+ArrowRight")
    assert page.evaluate(SELECTED) == "right"
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")  # one word too far: shrink it back
    assert page.evaluate(SELECTED) == "right upper lobe"
    assert page.locator("#caret-status").inner_text() == "“right upper lobe” selected (3 words). N adds a FINDING span."
    page.locator("#new-span").wait_for(state="visible", timeout=5000)
    assert page.evaluate("window.hilum.viewer.frame") == 0  # in the report the arrows move the caret, not frames
    shot(page, "keyboard-span-selection")
    page.keyboard.press("Digit2")  # with text selected: a span with the second label
    _saved(page)

    page.keyboard.press("End")  # the line's last word is its full stop; the one before it
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(SELECTED) == "pneumothorax"
    page.keyboard.press("n")
    _saved(page)

    made = {(a["label"], a["start"], a["end"]) for a in _annotations(live, ids) if a["source"].startswith("user:")}
    rul, ptx = REPORT.index("right upper lobe"), REPORT.index("pneumothorax")
    assert made == {("ANATOMY", rul, rul + 16), ("FINDING", ptx, ptx + 12)}

    page.reload()
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")
    marks = page.locator("#doc mark[data-top]").all_inner_texts()
    assert "right upper lobe" in marks and "pneumothorax" in marks
    assert page.evaluate("window.hilum.store.list('span').filter((s) => typeof s.id === 'number').length") == 4

    # a span chosen with J / K hands its words to the caret: Shift+arrow resizes the selection, E applies it
    _tab_to(page, "doc")
    page.keyboard.press("k")
    page.keyboard.press("k")
    anatomy = next(a for a in _annotations(live, ids) if a["label"] == "ANATOMY")
    assert page.evaluate("window.hilum.selSpan") == anatomy["id"]
    page.keyboard.press("Shift+ArrowLeft")
    assert page.evaluate(SELECTED) == "right upper"
    page.keyboard.press("e")
    _saved(page)
    assert live.api("GET", f"/annotations/{anatomy['id']}", ids["token"])["end"] == rul + len("right upper")
