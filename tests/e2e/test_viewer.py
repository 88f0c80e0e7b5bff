"""The image viewer in a real browser: window presets and right-drag window/level (re-rendered by the server),
Ctrl+wheel zoom, the pan tool and fit, and frame scrolling by wheel and keys on a multi-frame study."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import add_study, login, seed_study, shot

SHOWN = ("window.hilum.viewer && window.hilum.viewer.shown && window.hilum.viewer.shown.complete"
         " && window.hilum.viewer.shown.src")


def _centre(page: Any) -> tuple[float, float]:
    box = page.locator("#canvas").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_window_zoom_pan_and_frames(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e viewer", username="ivy")
    cine = add_study(live, ids, "examples_ybr_color.dcm", "US: cine loop.\n")  # 30 frames
    login(page, live, "ivy")
    page.goto(f"{live.url}/studies/{ids['study_id']}")
    page.wait_for_function(SHOWN)
    cx, cy = _centre(page)

    page.get_by_label("Window preset").select_option("lung")
    page.wait_for_function(f"({SHOWN}).includes('preset=lung')")
    assert "lung" in page.locator("#ov-tr").inner_text()
    page.mouse.move(cx, cy)
    page.mouse.down(button="right")
    page.mouse.move(cx + 40, cy - 30, steps=4)
    page.mouse.up(button="right")
    page.wait_for_function(f"({SHOWN}).includes('center=')")
    assert page.locator("#preset").input_value() == ""  # a dragged window is no preset
    assert "C " in page.locator("#ov-tr").inner_text()

    page.mouse.move(cx, cy)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    page.wait_for_function("window.hilum.viewer.view.zoom > 1")
    page.keyboard.press("h")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 50, cy - 20, steps=3)
    page.mouse.up()
    assert page.evaluate("window.hilum.viewer.view.tx") < 0
    shot(page, "viewer-window-zoom-pan")
    page.keyboard.press("0")
    assert page.evaluate("[window.hilum.viewer.view.zoom, window.hilum.viewer.view.tx]") == [1, 0]

    page.goto(f"{live.url}/studies/{cine}")
    page.wait_for_function(SHOWN)
    assert "frame 1/30" in page.locator("#ov-tl").inner_text()
    page.mouse.move(*_centre(page))
    page.mouse.wheel(0, 100)
    page.wait_for_function("window.hilum.viewer.frame === 1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"window.hilum.viewer.frame === 2 && ({SHOWN}).includes('/frames/2.png')")
    assert "frame 3/30" in page.locator("#ov-tl").inner_text()
    # one wheel notch that arrives as several events (a trackpad, a busy browser) is one frame, not three
    page.evaluate("""() => { const c = window.hilum.viewer.canvas;
        for (const d of [40, 30, 30]) c.dispatchEvent(new WheelEvent("wheel", {deltaY: d, cancelable: true})); }""")
    assert page.evaluate("window.hilum.viewer.frame") == 3


def _frame_events(live: Any, instance_id: int) -> list[tuple[str, int]]:
    import json

    from server import db
    from server.models import AuditEvent

    with live.app.app_context():
        rows = db.session().query(AuditEvent).filter_by(target_type="frame", target_id=str(instance_id))
        return [(e.action, json.loads(e.details)["frame"]) for e in rows.order_by(AuditEvent.seq)]


def test_frames_shown_are_views_frames_read_ahead_are_prefetches(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e frame audit", username="otto")
    cine = add_study(live, ids, "examples_ybr_color.dcm", "US: cine loop.\n")  # 30 frames
    instance_id = live.api("GET", f"/studies/{cine}", ids["token"])["series"][0]["instances"][0]["id"]
    login(page, live, "otto")
    page.goto(f"{live.url}/studies/{cine}")
    page.wait_for_function(SHOWN)
    assert "/frames/0.png" in page.evaluate(SHOWN)
    page.locator("#canvas").focus()
    for frame in (1, 2):  # scroll to frame 3, waiting for each frame to be on screen
        page.keyboard.press("ArrowDown")
        page.wait_for_function(f"window.hilum.viewer.frame === {frame} && ({SHOWN}).includes('/frames/{frame}.png')")
    page.wait_for_function("window.hilum.viewer.viewsSent && [...window.hilum.viewer.cache.values()]"
                           ".some((e) => e.frame === 3 && (e.ok || e.failed))")
    page.evaluate("window.hilum.viewer.viewsSent")  # the last view report has landed
    events = _frame_events(live, instance_id)
    views = sorted(f for action, f in events if action == "view.frame")
    prefetched = {f for action, f in events if action == "prefetch.frame"}
    assert set(views) == {0, 1, 2} and views.count(1) == views.count(2) == 1, events
    assert {1, 2, 3} <= prefetched and 3 not in views, events
    assert set(action for action, _ in events) == {"view.frame", "prefetch.frame"}
