"""Region editing in a real browser: a box moved, resized and deleted; a polygon vertex dragged; hovering a linked
region on the canvas highlights its span (and the span its region); the link and region lists by keyboard."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import login, seed_study, shot
from tests.e2e.test_workspace import _annotations, _open_next_task, _saved

# image pixel coordinates → page coordinates of the viewer's canvas
TO_PAGE = """([x, y]) => { const v = window.hilum.viewer; const r = v.canvas.getBoundingClientRect();
  const [ox, oy] = v.origin(); const s = v.scale();
  return [r.left + (x * s + ox) / v.dpr, r.top + (y * s + oy) / v.dpr]; }"""


def _drag(page: Any, src: list[float], dst: list[float]) -> None:
    page.mouse.move(*src)
    page.mouse.down()
    page.mouse.move(*dst, steps=6)
    page.mouse.up()


def _at(page: Any, x: float, y: float) -> list[float]:
    return page.evaluate(TO_PAGE, [x, y])


def _region(live: Any, ids: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in _annotations(live, ids) if a["kind"] == "region" and a["geometry"]["type"] == kind)


def test_box_and_polygon_move_resize_delete(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e regions", username="dee")
    login(page, live, "dee")
    _open_next_task(page, live, ids)
    page.wait_for_function("window.hilum.viewer.shown")

    page.keyboard.press("b")
    _drag(page, _at(page, 20, 20), _at(page, 60, 50))
    _saved(page)
    box = _region(live, ids, "box")
    assert box["geometry"]["points"] == [[20, 20], [60, 50]]

    # select tool: drag the inside of the box → moved by (10, 5) image pixels, size kept
    page.keyboard.press("v")
    _drag(page, _at(page, 40, 35), _at(page, 50, 40))
    _saved(page)
    moved = live.api("GET", f"/annotations/{box['id']}", ids["token"])["geometry"]["points"]
    assert [[round(x) for x in p] for p in moved] == [[30, 25], [70, 55]]

    # drag its bottom-right handle → resized, the opposite corner stays
    _drag(page, _at(page, 70, 55), _at(page, 90, 80))
    _saved(page)
    resized = live.api("GET", f"/annotations/{box['id']}", ids["token"])["geometry"]["points"]
    assert [[round(x) for x in p] for p in resized] == [[30, 25], [90, 80]]
    assert "mm" in page.locator(".sel-region").inner_text()  # its size in mm (the CT has pixel spacing)

    # a polygon; select it and drag one vertex
    page.keyboard.press("p")
    for x, y in ((100, 100), (120, 100), (110, 120)):
        page.mouse.click(*_at(page, x, y))
    page.keyboard.press("Enter")
    _saved(page)
    polygon = _region(live, ids, "polygon")
    page.keyboard.press("v")
    page.mouse.click(*_at(page, 110, 106))
    _drag(page, _at(page, 110, 120), _at(page, 110, 125))
    _saved(page)
    points = live.api("GET", f"/annotations/{polygon['id']}", ids["token"])["geometry"]["points"]
    assert [[round(x) for x in p] for p in points] == [[100, 100], [120, 100], [110, 125]]
    shot(page, "regions-edited")

    # delete the box with the Delete key after selecting it on the canvas
    page.mouse.click(*_at(page, 60, 50))
    assert page.evaluate("window.hilum.active") == box["id"]
    page.keyboard.press("Delete")
    _saved(page)
    assert [a["geometry"]["type"] for a in _annotations(live, ids) if a["kind"] == "region"] == ["polygon"]


def test_hover_and_keyboard_on_links(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e hover", username="eli")
    login(page, live, "eli")
    _open_next_task(page, live, ids)
    page.wait_for_function("window.hilum.viewer.shown")
    nodule = page.locator(f"mark[data-top='{ids['span_id']}']").first

    # drawing while the span is selected links the two
    nodule.click()
    page.keyboard.press("b")
    _drag(page, _at(page, 30, 30), _at(page, 70, 60))
    _saved(page)
    region = _region(live, ids, "box")
    page.keyboard.press("Escape")
    page.keyboard.press("v")

    # hovering the region on the canvas highlights its span and the link; leaving clears it
    page.mouse.move(*_at(page, 50, 45))
    page.wait_for_function(f"document.querySelector(\"mark[data-top='{ids['span_id']}']\").classList.contains('hl')")
    assert "hl" in page.locator(".link-item[data-link]").get_attribute("class")
    shot(page, "hover-region-highlights-span")
    page.mouse.move(*_at(page, 120, 120))
    page.wait_for_function(f"!document.querySelector(\"mark[data-top='{ids['span_id']}']\").classList.contains('hl')")
    # …and hovering the span highlights the region on the canvas
    nodule.hover()
    assert page.evaluate(f"window.hilum.viewer.hover.has({region['id']})")

    # the link list by keyboard: focus highlights both ends, Enter selects the span, its × deletes the link
    page.mouse.move(*_at(page, 120, 120))
    item = page.locator(".link-item[data-link]")
    item.focus()
    assert "hl" in nodule.get_attribute("class") and page.evaluate("window.hilum.viewer.hover.size") == 2
    page.keyboard.press("Enter")
    assert page.evaluate("window.hilum.active") == ids["span_id"]
    region_item = page.locator(f".link-item[data-region='{region['id']}']")
    region_item.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("window.hilum.active") == region["id"]
    item.get_by_role("button", name=f"Delete link {item.get_attribute('data-link')}").focus()
    page.keyboard.press("Enter")
    _saved(page)
    assert [a for a in _annotations(live, ids) if a["kind"] == "link"] == []
    assert _region(live, ids, "box")["id"] == region["id"]  # the region itself stays
