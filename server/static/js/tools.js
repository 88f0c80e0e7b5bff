// Pointer input on the viewer's canvas: the region tools (box, polygon, point, brush mask), select / move /
// resize, pan, window/level drag, wheel for frames (Ctrl+wheel zooms), and hovering a region.
import * as R from "./regions.js";

// [name, title, key]
export const TOOLS = [
  ["select", "Select / move", "v"], ["pan", "Pan", "h"], ["wl", "W/L window/level", "w"],
  ["box", "Box", "b"], ["polygon", "Polygon", "p"], ["point", "Point", "o"], ["brush", "Brush mask", "f"],
];

export function bindPointer(v) {
  const c = v.canvas;
  c.addEventListener("contextmenu", (e) => e.preventDefault());
  const wheel = { left: 0, last: -Infinity, dir: 0 };
  c.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) v.zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, v.toImage(e));
    else wheelFrames(v, wheel, e);
  }, { passive: false });
  c.addEventListener("pointerdown", (e) => down(v, e));
  c.addEventListener("pointermove", (e) => move(v, e));
  c.addEventListener("pointerup", () => up(v));
  c.addEventListener("pointerleave", () => hoverRegion(v, null));
  c.addEventListener("dblclick", () => finishPolygon(v));
}

// One frame per wheel notch (100 px), however the browser splits it into events (a trackpad sends many small
// ones; a loaded browser may deliver one notch as several): the first event of a gesture steps at once, the
// rest of the gesture steps once per further 100 px.
const NOTCH = 100;
function wheelFrames(v, wheel, e) {
  const px = e.deltaY * (e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1);
  if (!px) return;
  const dir = Math.sign(px);
  if (e.timeStamp - wheel.last > 250 || dir !== wheel.dir) {
    wheel.left = px - dir * NOTCH; // a new gesture (or a turn): step now, count this notch as used
    v.step(dir);
  } else {
    wheel.left += px;
    while (Math.abs(wheel.left) >= NOTCH) { v.step(dir); wheel.left -= dir * NOTCH; }
  }
  wheel.last = e.timeStamp;
  wheel.dir = dir;
}

export function finishPolygon(v) {
  const d = v.draft;
  if (d?.type !== "polygon") return;
  v.draft = null;
  if (d.points.length >= 3) commit(v, { type: "polygon", points: d.points });
  v.draw();
}

export function cancelDraft(v) { const had = !!v.draft; v.draft = null; v.draw(); return had; }

const onFrame = (v, ann) => ann?.kind === "region" && ann.instance_id === v.inst.id && ann.frame === v.frame;

function down(v, e) {
  if (!v.inst) return;
  v.canvas.focus();
  v.canvas.setPointerCapture(e.pointerId);
  const p = v.toImage(e);
  const start = { x: e.clientX, y: e.clientY, p };
  if (e.button === 2 || (e.button === 0 && v.tool === "wl")) { v.drag = { mode: "wl", ...start, win: currentWindow(v) }; return; }
  if (e.button === 1 || (e.button === 0 && v.tool === "pan")) { v.drag = { mode: "pan", ...start, view: { ...v.view } }; return; }
  if (e.button !== 0 || !v.hooks.canWrite) { if (e.button === 0) pick(v, p); return; }
  const inside = (q) => [Math.max(0, Math.min(v.inst.columns, q[0])), Math.max(0, Math.min(v.inst.rows, q[1]))];
  if (v.tool === "box") v.draft = { type: "box", points: [inside(p), inside(p)] };
  else if (v.tool === "point") commit(v, { type: "point", points: [inside(p).map(R.round)] });
  else if (v.tool === "polygon") {
    const d = v.draft?.type === "polygon" ? v.draft : (v.draft = { type: "polygon", points: [] });
    const first = d.points[0];
    if (first && d.points.length > 2 && Math.hypot(first[0] - p[0], first[1] - p[1]) * v.scale() / v.dpr < 8) finishPolygon(v);
    else d.points.push(inside(p).map(R.round));
  } else if (v.tool === "brush") {
    const sel = v.store.get(v.selected);
    const base = sel?.geometry?.type === "mask" && onFrame(v, sel) ? sel : null;
    const mask = base ? v.maskOf(base).slice() : new Uint8Array(v.inst.rows * v.inst.columns);
    v.draft = { type: "mask", mask, base: base?.id, last: p, erase: e.shiftKey };
    R.paint(mask, v.inst.rows, v.inst.columns, p[0], p[1], v.brush, e.shiftKey ? 0 : 1);
  } else selectOrGrab(v, p, start);
  v.draw();
}

function selectOrGrab(v, p, start) {
  const sel = v.store.get(v.selected);
  const tol = 7 / v.scale() * v.dpr;
  if (onFrame(v, sel)) {
    const h = R.handleAt(sel.geometry, p[0], p[1], tol);
    if (h >= 0) { v.drag = { mode: "resize", id: sel.id, handle: h, ...start }; return; }
  }
  const hit = v.regionAt(p[0], p[1]);
  v.hooks.onSelect(hit ? hit.id : null);
  v.drag = hit ? { mode: "move", id: hit.id, ...start } : { mode: "pan", ...start, view: { ...v.view } };
}

function pick(v, p) { const hit = v.regionAt(p[0], p[1]); v.hooks.onSelect(hit ? hit.id : null); }

function hoverRegion(v, id) {
  if (id === (v.hoverRegion ?? null)) return;
  v.hoverRegion = id;
  v.hooks.onHoverRegion?.(id);
}

function move(v, e) {
  if (!v.inst) return;
  const p = v.toImage(e);
  const sp = v.inst.pixel_spacing;
  v.cursorText = p[0] >= 0 && p[1] >= 0 && p[0] < v.inst.columns && p[1] < v.inst.rows
    ? `x ${Math.floor(p[0])} y ${Math.floor(p[1])}` + (sp ? ` · ${(p[0] * sp[1]).toFixed(1)}, ${(p[1] * sp[0]).toFixed(1)} mm` : "") : "";
  const d = v.drag;
  const dx = (e.clientX - (d?.x ?? 0)) * v.dpr;
  const dy = (e.clientY - (d?.y ?? 0)) * v.dpr;
  if (!d && !v.draft) hoverRegion(v, v.regionAt(p[0], p[1])?.id ?? null);
  if (d?.mode === "wl") {
    const w = Math.max(1, d.win.width + dx * 2);
    v.pendingWin = { center: d.win.center - dy * 2, width: w };
    clearTimeout(v.wlTimer);
    v.wlTimer = setTimeout(() => { v.setWindow(v.pendingWin); v.hooks.onWindow?.(v.win); }, 40);
  } else if (d?.mode === "pan") {
    v.view.tx = d.view.tx + dx;
    v.view.ty = d.view.ty + dy;
  } else if (d?.mode === "move" || d?.mode === "resize") {
    const ann = v.store.get(d.id);
    if (!ann) return;
    const [ix, iy] = [(dx / v.scale()), (dy / v.scale())];
    if (ann.geometry.type === "mask") {
      d.mask = R.shiftMask(v.maskOf(ann), v.inst.rows, v.inst.columns, Math.round(ix), Math.round(iy));
      d.preview = ann.geometry;
    } else {
      d.preview = d.mode === "move" ? R.moved(ann.geometry, ix, iy, v.inst.columns, v.inst.rows)
        : R.resized(ann.geometry, d.handle, p[0], p[1], v.inst.columns, v.inst.rows);
    }
    d.moved = Math.hypot(dx, dy) > 2;
  } else if (v.draft?.type === "box" && e.buttons) {
    v.draft.points[1] = [Math.max(0, Math.min(v.inst.columns, p[0])), Math.max(0, Math.min(v.inst.rows, p[1]))];
  } else if (v.draft?.type === "polygon") {
    v.draft.cursor = p;
  } else if (v.draft?.type === "mask" && e.buttons) {
    R.paintLine(v.draft.mask, v.inst.rows, v.inst.columns, v.draft.last, p, v.brush, v.draft.erase ? 0 : 1);
    v.draft.last = p;
  }
  v.draw();
}

function up(v) {
  const d = v.drag;
  v.drag = null;
  const ann = d && v.store.get(d.id);
  if (ann && (d.mode === "move" || d.mode === "resize") && d.moved) {
    const geometry = ann.geometry.type === "mask" ? { type: "mask", rle: R.encodeRle(d.mask) } : d.preview;
    v.hooks.onChangeGeometry(ann.id, geometry);
  }
  if (v.draft?.type === "box") {
    const [x0, y0, x1, y1] = R.boxOf(v.draft.points);
    v.draft = null;
    if ((x1 - x0) * v.scale() > 4 && (y1 - y0) * v.scale() > 4) commit(v, { type: "box", points: [[x0, y0], [x1, y1]].map((q) => q.map(R.round)) });
  } else if (v.draft?.type === "mask") {
    const { mask, base } = v.draft;
    v.draft = null;
    const geometry = { type: "mask", rle: R.encodeRle(mask) };
    if (base) v.hooks.onChangeGeometry(base, geometry);
    else if (mask.some((x) => x)) commit(v, geometry);
  }
  v.draw();
}

function commit(v, geometry) {
  v.hooks.onCreateRegion({ kind: "region", instance_id: v.inst.id, frame: v.frame, geometry });
}

function currentWindow(v) {
  if (v.win?.center != null) return v.win;
  return { center: 40, width: 400, ...(v.hooks.defaultWindow?.(v.win) || {}) };
}
