"""The annotation workspace in a real browser: log in, open the next task, accept an entity, draw a box on the
DICOM frame, link the two, reload and see it all persisted; then a concurrent edit that must not lose work."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import login, seed_study, shot


def _open_next_task(page: Any, live: Any, ids: dict[str, Any]) -> None:
    page.goto(f"{live.url}/projects/{ids['project_id']}")
    page.get_by_role("button", name="Next annotate task").click()
    page.wait_for_url(f"**/studies/{ids['study_id']}?task=*")
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")


def _saved(page: Any) -> None:
    page.wait_for_function("window.hilum.store && !window.hilum.store.pending && !window.hilum.store.busy")


def _annotations(live: Any, ids: dict[str, Any]) -> list[dict[str, Any]]:
    return live.api("GET", f"/studies/{ids['study_id']}/annotations", ids["token"])["items"]


def test_annotate_link_and_reload(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e chest", username="ann")
    login(page, live, "ann")
    _open_next_task(page, live, ids)

    # the proposed entity is coloured, the negated one looks different, the frame is on the canvas
    nodule = page.locator(f"mark[data-top='{ids['span_id']}']").first
    assert "st-proposed" in nodule.get_attribute("class")
    assert "as-negated" in page.locator(f"mark[data-top='{ids['negated_id']}']").first.get_attribute("class")
    page.wait_for_function("window.hilum.viewer.shown && window.hilum.viewer.shown.naturalWidth === 128")
    assert "mm/px" in page.locator("#ov-bl").inner_text()

    # accept it by keyboard, choose the top-ranked concept candidate
    nodule.click()
    page.keyboard.press("a")
    page.keyboard.press("Shift+Digit1")
    _saved(page)

    # draw a box on the frame with the box tool, then link it to the span with L
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    box = page.locator("#canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 60, cy - 40)
    page.mouse.down()
    page.mouse.move(cx + 20, cy + 30, steps=5)
    page.mouse.up()
    nodule.click()
    page.keyboard.press("l")
    _saved(page)
    assert page.locator(".link-item[data-link]").count() == 1
    shot(page, "workspace-1366x768")

    # hovering the link highlights both sides
    page.locator(".link-item[data-link]").hover()
    assert "hl" in nodule.get_attribute("class")
    assert page.evaluate("window.hilum.viewer.hover.size") == 2

    anns = _annotations(live, ids)
    span = next(a for a in anns if a["id"] == ids["span_id"])
    assert span["status"] == "accepted" and span["attributes"]["concept_id"] == "D055613"
    region = next(a for a in anns if a["kind"] == "region")
    assert region["geometry"]["type"] == "box" and region["instance_id"] == ids["instance_id"]
    link = next(a for a in anns if a["kind"] == "link")
    assert (link["source_id"], link["target_id"]) == (span["id"], region["id"])

    page.reload()
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")
    assert "st-accepted" in page.locator(f"mark[data-top='{ids['span_id']}']").first.get_attribute("class")
    assert page.locator(".link-item[data-link]").count() == 1
    assert page.locator(".link-item[data-region]").count() == 1
    page.locator(f"mark[data-top='{ids['span_id']}']").first.click()
    assert page.locator("#sel-body input[value='D055613']").is_checked()


def test_concurrent_edit_keeps_both_sides(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e conflict", username="bea")
    login(page, live, "bea")
    page.goto(f"{live.url}/studies/{ids['study_id']}")
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")

    # someone else changes the span after the page loaded it
    live.api("PATCH", f"/annotations/{ids['span_id']}", ids["token"], json={"label": "ANATOMY", "version": 1})

    page.locator(f"mark[data-top='{ids['span_id']}']").first.click()
    page.keyboard.press("r")  # reject: saved with the stale version → 409
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    assert "changed elsewhere" in dialog.inner_text()
    assert dialog.locator("td.mine").first.inner_text() == "rejected"
    assert "ANATOMY" in dialog.locator("td.theirs").nth(1).inner_text()  # their label is shown too
    assert "Conflict" in page.locator("#save-status").inner_text()
    server_side = live.api("GET", f"/annotations/{ids['span_id']}", ids["token"])
    assert server_side["label"] == "ANATOMY" and server_side["status"] == "edited"  # theirs is intact
    shot(page, "conflict")

    dialog.get_by_role("button", name="Keep mine").click()
    _saved(page)
    final = live.api("GET", f"/annotations/{ids['span_id']}", ids["token"])
    assert final["status"] == "rejected" and final["label"] == "ANATOMY"  # both edits survive
    assert page.get_by_role("alertdialog").is_hidden()


def test_deleted_elsewhere_keeps_my_change_across_a_reload(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e deleted", username="hal")
    login(page, live, "hal")
    page.goto(f"{live.url}/studies/{ids['study_id']}")
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")
    start = live.api("GET", f"/annotations/{ids['span_id']}", ids["token"])["start"]

    # someone else deletes the span; this session then marks it negated → the save finds it gone
    live.api("DELETE", f"/annotations/{ids['span_id']}?version=1", ids["token"])
    page.locator(f"mark[data-top='{ids['span_id']}']").first.click()
    page.keyboard.press("x")
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    assert "deleted" in dialog.inner_text() and "(deleted)" in dialog.locator("td.theirs").first.inner_text()
    assert dialog.get_by_role("button", name="Keep both").is_hidden()
    shot(page, "conflict-deleted-elsewhere")

    # the choice survives a reload: nothing is lost until the user makes it
    page.once("dialog", lambda d: d.accept())  # "leave the page?" (unsaved choice)
    page.reload()
    page.wait_for_selector(f"#ws[data-ready='{ids['study_id']}']")
    dialog.wait_for()
    dialog.get_by_role("button", name="Keep mine").click()
    _saved(page)
    spans = [a for a in _annotations(live, ids) if a["kind"] == "span" and a["start"] == start]
    assert len(spans) == 1 and spans[0]["id"] != ids["span_id"]
    assert spans[0]["attributes"]["assertion"] == "negated" and spans[0]["end"] - start == 17
    assert page.get_by_role("alertdialog").is_hidden()
    assert page.locator(f"mark[data-top='{spans[0]['id']}'].as-negated").count() == 1
