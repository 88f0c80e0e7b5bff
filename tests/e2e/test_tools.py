"""Region tools, keyboard span creation, undo/redo, the dictation player, and "next task" from a prefetch."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import add_dictation, add_study, login, seed_study, shot
from tests.e2e.test_workspace import _annotations, _open_next_task, _saved

SELECT_TEXT = """([needle]) => {
  const doc = window.hilum.doc.text; const at = doc.indexOf(needle);
  const segs = [...document.querySelectorAll('#doc [data-start]')];
  const find = (off) => { const s = segs.filter((x) => +x.dataset.start <= off).at(-1);
    return [s.firstChild, off - +s.dataset.start]; };
  const r = document.createRange(); r.setStart(...find(at)); r.setEnd(...find(at + needle.length));
  getSelection().removeAllRanges(); getSelection().addRange(r);
  document.getElementById('doc').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""
TRANSCRIPT = "Spiculated nodule in the right upper lobe."
WORDS = [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.35, "prob": 0.9} for i, w in enumerate(TRANSCRIPT.split())]


def _audited(live: Any, ids: dict[str, Any], study_id: int) -> list[str]:
    """The annotator's audit events about one study, its documents and its frames."""
    detail = live.api("GET", f"/studies/{study_id}", ids["token"])
    targets = {("study", str(study_id))} | {("document", str(d["id"])) for d in detail["documents"]} | {
        ("frame", str(i["id"])) for s in detail["series"] for i in s["instances"]}
    events = live.api("GET", f"/audit?project_id={ids['project_id']}&actor=user:{ids['username']}&per_page=500",
                      ids["token"])["items"]
    return [e["action"] for e in events if (e["target_type"], str(e["target_id"])) in targets]


def test_tools_undo_audio_and_next_task(page: Any, live: Any) -> None:
    ids = seed_study(live, project_name="e2e tools", username="cal")
    transcript_id = add_dictation(live, ids, TRANSCRIPT, WORDS)
    second = add_study(live, ids, "MR_small.dcm", "MRI brain. No acute infarct.\n")
    login(page, live, "cal")
    _open_next_task(page, live, ids)

    # select text, press 2: a span with the second label; it stays selected
    page.evaluate(SELECT_TEXT, ["right upper lobe"])
    page.keyboard.press("Digit2")
    page.wait_for_selector("#doc mark.sel")
    assert page.locator("#doc mark.sel").first.inner_text() == "right upper lobe"

    canvas = page.locator("#canvas").bounding_box()
    cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    # polygon while the span is selected → region and link in one step
    page.keyboard.press("p")
    for dx, dy in ((-80, -80), (-20, -90), (-30, -30)):
        page.mouse.click(cx + dx, cy + dy)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    # a point, then a brush mask
    page.keyboard.press("o")
    page.mouse.click(cx + 100, cy + 100)
    page.keyboard.press("Escape")
    page.keyboard.press("f")
    page.mouse.move(cx + 40, cy - 100)
    page.mouse.down()
    page.mouse.move(cx + 120, cy - 60, steps=8)
    page.mouse.up()
    _saved(page)
    regions = {a["geometry"]["type"]: a for a in _annotations(live, ids) if a["kind"] == "region"}
    assert set(regions) == {"polygon", "point", "mask"}
    assert sum(regions["mask"]["geometry"]["rle"]) == 128 * 128 and regions["mask"]["geometry"]["rle"][1] > 0
    links = [a for a in _annotations(live, ids) if a["kind"] == "link"]
    assert [link["target_id"] for link in links] == [regions["polygon"]["id"]]

    # move the point with the select tool
    page.keyboard.press("v")
    page.mouse.move(cx + 100, cy + 100)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 60, steps=4)
    page.mouse.up()
    _saved(page)
    moved = live.api("GET", f"/annotations/{regions['point']['id']}", ids["token"])
    assert moved["geometry"]["points"] != regions["point"]["geometry"]["points"]

    # delete the mask, undo, redo
    page.locator(f".link-item[data-region='{regions['mask']['id']}']").click()
    page.keyboard.press("Delete")
    _saved(page)
    assert {a["geometry"]["type"] for a in _annotations(live, ids) if a["kind"] == "region"} == {"polygon", "point"}
    page.keyboard.press("Control+z")
    _saved(page)
    assert {a["geometry"]["type"] for a in _annotations(live, ids) if a["kind"] == "region"} == {
        "polygon", "point", "mask"}
    page.keyboard.press("Control+Shift+z")
    _saved(page)
    assert {a["geometry"]["type"] for a in _annotations(live, ids) if a["kind"] == "region"} == {"polygon", "point"}

    # the dictation: words light up with the playhead; clicking a word seeks
    page.get_by_role("tab", name="transcript v1").click()
    page.evaluate("() => { const a = document.getElementById('audio'); a.currentTime = 0.45; "
                  "a.dispatchEvent(new Event('timeupdate')); }")
    page.wait_for_selector("#doc .playing")
    assert page.locator("#doc .playing").first.inner_text() == "nodule"
    page.locator("#doc [data-word='3']").first.click()
    page.wait_for_function("Math.abs(document.getElementById('audio').currentTime - 1.2) < 0.05")
    assert page.evaluate("window.hilum.doc.id") == transcript_id
    shot(page, "workspace-transcript-audio")

    # done → the next task opens from the prefetch, in well under a second
    page.wait_for_function(f"window.hilum.tasks.prefetched && window.hilum.tasks.prefetched.studyId === {second}")
    assert [a for a in _audited(live, ids, second) if a.startswith("view.")] == []  # prefetched, not viewed
    assert {"prefetch.study", "prefetch.frame"} <= set(_audited(live, ids, second))
    page.keyboard.press("Shift+N")
    page.wait_for_selector(f"#ws[data-ready='{second}']")
    page.wait_for_function("window.hilum.viewer.shown && window.hilum.viewer.shown.naturalWidth === 64")
    page.evaluate("window.hilum.viewer.viewsSent")  # the prefetched first frame, shown: its view is reported
    assert {"view.study", "view.document", "view.frame"} <= set(_audited(live, ids, second))
    assert page.url.endswith(f"/studies/{second}?task={page.evaluate('window.hilum.taskId')}")
    assert int(page.get_attribute("#ws", "data-open-ms")) < 1000
    tasks = live.api("GET", f"/projects/{ids['project_id']}/tasks", ids["token"])["items"]
    assert {t["study_id"]: t["status"] for t in tasks}[ids["study_id"]] == "done"
