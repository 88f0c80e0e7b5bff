// The image viewer: server-rendered frames on a canvas, window/level, zoom/pan, frame and slice scrolling,
// series thumbnails, and the region tools (box, polygon, point, brush mask; move, resize).
import { frameUrl } from "./api.js";
import * as R from "./regions.js";

export const TOOLS = [
  ["select", "Select / move", "v"], ["pan", "Pan", "h"], ["wl", "W/L window/level", "w"],
  ["box", "Box", "b"], ["polygon", "Polygon", "p"], ["point", "Point", "o"], ["brush", "Brush mask", "f"],
];

export class Viewer {
  constructor(root, store, colours, hooks) {
    Object.assign(this, { store, colours, hooks });
    this.canvas = root.querySelector("#canvas");
    this.ctx = this.canvas.getContext("2d");
    this.box = root.querySelector("#viewer");
    this.ov = Object.fromEntries(["tl", "tr", "bl", "br"].map((k) => [k, root.querySelector(`#ov-${k}`)]));
    this.instances = [];
    this.idx = 0;
    this.frame = 0;
    this.win = null; // null: the file's window; {preset} or {center, width}
    this.view = { zoom: 1, tx: 0, ty: 0 };
    this.tool = "select";
    this.cache = new Map();
    this.masks = new Map();
    this.selected = null;
    this.hover = new Set();
    this.draft = null;
    this.brush = 6;
    new ResizeObserver(() => this.resize()).observe(this.box);
    this.bindPointer();
  }

  setStudy(study) {
    this.series = study.series;
    this.instances = study.series.flatMap((s) => s.instances.map((i) => ({ ...i, series: s })));
    this.idx = 0;
    this.frame = 0;
    this.win = null;
    this.fit();
    this.load();
  }

  get inst() { return this.instances[this.idx]; }

  // ------------------------------------------------------------------ frames
  image(inst, frame, win = this.win) {
    const url = frameUrl(inst.id, frame, win);
    let entry = this.cache.get(url);
    if (!entry) {
      const img = new Image();
      entry = { img };
      img.src = url;
      entry.ready = img.decode().then(() => { entry.ok = true; }, () => { entry.failed = true; });
      this.cache.set(url, entry);
      if (this.cache.size > 300) this.cache.delete(this.cache.keys().next().value);
    }
    return entry;
  }

  load() {
    if (!this.inst) { this.draw(); return; }
    const entry = this.image(this.inst, this.frame);
    const key = `${this.inst.id}/${this.frame}`;
    this.want = key;
    entry.ready.then(() => {
      if (this.want !== key) return;
      if (entry.ok) this.shown = entry.img;
      this.error = entry.failed ? "This frame could not be rendered." : null;
      this.draw();
      this.prefetch();
    });
    this.draw();
  }

  prefetch() {
    const inst = this.inst;
    for (const f of [this.frame + 1, this.frame - 1]) if (f >= 0 && f < inst.frame_count) this.image(inst, f);
    for (const i of [this.idx + 1, this.idx - 1]) if (this.instances[i]) this.image(this.instances[i], 0);
  }

  goTo(instanceId, frame = 0) {
    const i = this.instances.findIndex((x) => x.id === instanceId);
    if (i < 0) return;
    if (i !== this.idx) { this.idx = i; this.fit(); }
    this.frame = Math.min(frame, this.inst.frame_count - 1);
    this.load();
    this.hooks.onNavigate?.();
  }

  step(delta) { // frames first, then slices (instances) of the series
    const inst = this.inst;
    if (!inst) return;
    if (inst.frame_count > 1) this.frame = Math.max(0, Math.min(inst.frame_count - 1, this.frame + delta));
    else this.slice(delta);
    this.load();
  }

  slice(delta) {
    const j = Math.max(0, Math.min(this.instances.length - 1, this.idx + delta));
    if (j !== this.idx) { this.idx = j; this.frame = 0; }
    this.load();
    this.hooks.onNavigate?.();
  }

  setWindow(win) { this.win = win; this.load(); }

  // ------------------------------------------------------------------ geometry of the view
  resize() {
    const r = this.box.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    this.canvas.style.width = `${r.width}px`;
    this.canvas.style.height = `${r.height}px`;
    this.dpr = dpr;
    this.draw();
  }

  fit() { this.view = { zoom: 1, tx: 0, ty: 0 }; this.draw(); }

  scale() {
    const inst = this.inst;
    if (!inst) return 1;
    const fit = Math.min(this.canvas.width / inst.columns, this.canvas.height / inst.rows);
    return fit * this.view.zoom;
  }

  origin() {
    const s = this.scale();
    const inst = this.inst;
    return [(this.canvas.width - inst.columns * s) / 2 + this.view.tx, (this.canvas.height - inst.rows * s) / 2 + this.view.ty];
  }

  toImage(ev) {
    const r = this.canvas.getBoundingClientRect();
    const [ox, oy] = this.origin();
    const s = this.scale();
    return [((ev.clientX - r.left) * this.dpr - ox) / s, ((ev.clientY - r.top) * this.dpr - oy) / s];
  }

  zoomBy(f, at) {
    const s0 = this.scale();
    const [ox, oy] = this.origin();
    this.view.zoom = Math.max(0.25, Math.min(32, this.view.zoom * f));
    if (at) { // keep the image point under the cursor fixed
      const s1 = this.scale();
      const [px, py] = [(at[0] * s0) + ox, (at[1] * s0) + oy];
      const [nx, ny] = this.origin();
      this.view.tx += px - (at[0] * s1 + nx);
      this.view.ty += py - (at[1] * s1 + ny);
    }
    this.draw();
  }

  regions() {
    const inst = this.inst;
    return inst ? this.store.list("region").filter((a) => a.instance_id === inst.id && a.frame === this.frame) : [];
  }

  maskOf(ann) {
    const key = JSON.stringify(ann.geometry.rle).length + ":" + ann.id;
    const hit = this.masks.get(ann.id);
    if (hit && hit.key === key && hit.rle === ann.geometry.rle) return hit.mask;
    const inst = this.instances.find((i) => i.id === ann.instance_id);
    const mask = R.decodeRle(ann.geometry.rle, inst.rows, inst.columns);
    this.masks.set(ann.id, { key, rle: ann.geometry.rle, mask });
    return mask;
  }

  regionAt(x, y) {
    const tol = 6 / this.scale() * this.dpr;
    const list = this.regions().reverse();
    const sel = list.find((a) => a.id === this.selected);
    const ordered = sel ? [sel, ...list.filter((a) => a !== sel)] : list;
    return ordered.find((a) => R.hits(a.geometry, x, y, tol, a.geometry.type === "mask" ? this.maskOf(a) : null, this.inst.columns));
  }

  // ------------------------------------------------------------------ drawing
  draw() {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = null; this.paint(); });
  }

  paint() {
    const { ctx, canvas } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const inst = this.inst;
    if (!inst) { this.overlays(); return; }
    const s = this.scale();
    const [ox, oy] = this.origin();
    ctx.setTransform(s, 0, 0, s, ox, oy);
    ctx.imageSmoothingEnabled = s < 1;
    if (this.shown && this.shownFor(inst)) ctx.drawImage(this.shown, 0, 0, inst.columns, inst.rows);
    for (const a of this.regions()) this.paintRegion(a, s);
    if (this.draft) this.paintDraft(s);
    this.overlays();
  }

  shownFor(inst) { return this.shown.naturalWidth === inst.columns && this.shown.naturalHeight === inst.rows; }

  paintRegion(a, s) {
    const { ctx } = this;
    const colour = this.colours(a.label);
    const active = a.id === this.selected || this.hover.has(a.id);
    const g = this.drag?.id === a.id && this.drag.preview ? this.drag.preview : a.geometry;
    ctx.lineWidth = (active ? 3 : 1.6) / s * this.dpr;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    if (g.type === "mask") {
      this.paintMask(a.id === this.drag?.id && this.drag.mask ? this.drag.mask : this.maskOf(a), colour, active ? 0.55 : 0.35);
      return;
    }
    const pts = g.points;
    ctx.setLineDash(a.status === "proposed" ? [4 / s, 3 / s] : []);
    ctx.beginPath();
    if (g.type === "point") {
      ctx.arc(pts[0][0], pts[0][1], 4 / s * this.dpr, 0, Math.PI * 2);
      ctx.globalAlpha = 0.8;
      ctx.fill();
      ctx.globalAlpha = 1;
    } else if (g.type === "box") {
      const [x0, y0, x1, y1] = R.boxOf(pts);
      ctx.rect(x0, y0, x1 - x0, y1 - y0);
    } else {
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (g.type === "polygon") ctx.closePath();
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (a.id === this.selected && g.type !== "point") {
      const hs = 4 / s * this.dpr;
      for (const [x, y] of g.type === "box" ? R.corners(pts) : pts) ctx.fillRect(x - hs, y - hs, hs * 2, hs * 2);
    }
    if (active) {
      const [x0, y0] = R.boxOf(pts);
      ctx.font = `${12 / s * this.dpr}px system-ui`;
      ctx.fillText(a.label, x0, y0 - 4 / s);
    }
  }

  paintMask(mask, colour, alpha) {
    const inst = this.inst;
    if (!this.maskCanvas || this.maskCanvas.width !== inst.columns || this.maskCanvas.height !== inst.rows) {
      this.maskCanvas = new OffscreenCanvas(inst.columns, inst.rows);
    }
    const mc = this.maskCanvas.getContext("2d");
    const img = mc.createImageData(inst.columns, inst.rows);
    mc.fillStyle = colour;
    mc.fillRect(0, 0, 1, 1);
    const [r, g, b] = mc.getImageData(0, 0, 1, 1).data;
    for (let i = 0; i < mask.length; i++) if (mask[i]) img.data.set([r, g, b, 255], i * 4);
    mc.putImageData(img, 0, 0);
    this.ctx.globalAlpha = alpha;
    this.ctx.drawImage(this.maskCanvas, 0, 0);
    this.ctx.globalAlpha = 1;
  }

  paintDraft(s) {
    const { ctx, draft } = this;
    ctx.strokeStyle = "#ffd24a";
    ctx.lineWidth = 1.5 / s * this.dpr;
    if (draft.type === "mask") { this.paintMask(draft.mask, "#ffd24a", 0.5); return; }
    ctx.beginPath();
    if (draft.type === "box") {
      const [x0, y0, x1, y1] = R.boxOf(draft.points);
      ctx.rect(x0, y0, x1 - x0, y1 - y0);
    } else {
      draft.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (draft.cursor) ctx.lineTo(...draft.cursor);
    }
    ctx.stroke();
  }

  overlays() {
    const inst = this.inst;
    if (!inst) { this.ov.tl.textContent = "No images in this study."; return; }
    const sp = inst.pixel_spacing;
    const w = this.win?.preset || (this.win ? `C ${Math.round(this.win.center)} W ${Math.round(this.win.width)}` : "file window");
    this.ov.tl.textContent = `${inst.series.modality || ""} series ${inst.series.number ?? ""} · image ${this.idx + 1}/${this.instances.length}` +
      (inst.frame_count > 1 ? ` · frame ${this.frame + 1}/${inst.frame_count}` : "");
    this.ov.tr.textContent = `${w} · zoom ${Math.round(this.scale() / this.dpr * 100)}%`;
    this.ov.bl.textContent = `${inst.columns}×${inst.rows} px · ` + (sp ? `${sp[1].toFixed(3)} × ${sp[0].toFixed(3)} mm/px` : "no pixel spacing (sizes in px)");
    this.ov.br.textContent = this.error || this.cursorText || "";
  }

  // ------------------------------------------------------------------ pointer input
  bindPointer() {
    const c = this.canvas;
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) this.zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, this.toImage(e));
      else this.step(e.deltaY > 0 ? 1 : -1);
    }, { passive: false });
    c.addEventListener("pointerdown", (e) => this.down(e));
    c.addEventListener("pointermove", (e) => this.move(e));
    c.addEventListener("pointerup", (e) => this.up(e));
    c.addEventListener("dblclick", () => this.finishPolygon());
  }

  down(e) {
    if (!this.inst) return;
    this.canvas.focus();
    this.canvas.setPointerCapture(e.pointerId);
    const p = this.toImage(e);
    const start = { x: e.clientX, y: e.clientY, p };
    if (e.button === 2 || (e.button === 0 && this.tool === "wl")) { this.drag = { mode: "wl", ...start, win: this.currentWindow() }; return; }
    if (e.button === 1 || (e.button === 0 && this.tool === "pan")) { this.drag = { mode: "pan", ...start, view: { ...this.view } }; return; }
    if (e.button !== 0 || !this.hooks.canWrite) { if (e.button === 0) this.pick(p); return; }
    const inside = (q) => [Math.max(0, Math.min(this.inst.columns, q[0])), Math.max(0, Math.min(this.inst.rows, q[1]))];
    if (this.tool === "box") this.draft = { type: "box", points: [inside(p), inside(p)] };
    else if (this.tool === "point") this.commit({ type: "point", points: [inside(p).map(R.round)] });
    else if (this.tool === "polygon") {
      const d = this.draft?.type === "polygon" ? this.draft : (this.draft = { type: "polygon", points: [] });
      const first = d.points[0];
      if (first && d.points.length > 2 && Math.hypot(first[0] - p[0], first[1] - p[1]) * this.scale() / this.dpr < 8) this.finishPolygon();
      else d.points.push(inside(p).map(R.round));
    } else if (this.tool === "brush") {
      const sel = this.store.get(this.selected);
      const base = sel?.geometry?.type === "mask" && sel.instance_id === this.inst.id && sel.frame === this.frame ? sel : null;
      const mask = base ? this.maskOf(base).slice() : new Uint8Array(this.inst.rows * this.inst.columns);
      this.draft = { type: "mask", mask, base: base?.id, last: p, erase: e.shiftKey };
      R.paint(mask, this.inst.rows, this.inst.columns, p[0], p[1], this.brush, e.shiftKey ? 0 : 1);
    } else this.selectOrGrab(p, start);
    this.draw();
  }

  selectOrGrab(p, start) {
    const sel = this.store.get(this.selected);
    const tol = 7 / this.scale() * this.dpr;
    if (sel && sel.kind === "region" && sel.instance_id === this.inst.id) {
      const h = R.handleAt(sel.geometry, p[0], p[1], tol);
      if (h >= 0) { this.drag = { mode: "resize", id: sel.id, handle: h, ...start }; return; }
    }
    const hit = this.regionAt(p[0], p[1]);
    this.hooks.onSelect(hit ? hit.id : null);
    this.drag = hit ? { mode: "move", id: hit.id, ...start } : { mode: "pan", ...start, view: { ...this.view } };
  }

  pick(p) { const hit = this.regionAt(p[0], p[1]); this.hooks.onSelect(hit ? hit.id : null); }

  move(e) {
    if (!this.inst) return;
    const p = this.toImage(e);
    const sp = this.inst.pixel_spacing;
    this.cursorText = p[0] >= 0 && p[1] >= 0 && p[0] < this.inst.columns && p[1] < this.inst.rows
      ? `x ${Math.floor(p[0])} y ${Math.floor(p[1])}` + (sp ? ` · ${(p[0] * sp[1]).toFixed(1)}, ${(p[1] * sp[0]).toFixed(1)} mm` : "") : "";
    const d = this.drag;
    const dx = (e.clientX - (d?.x ?? 0)) * this.dpr;
    const dy = (e.clientY - (d?.y ?? 0)) * this.dpr;
    if (d?.mode === "wl") {
      const w = Math.max(1, d.win.width + dx * 2);
      this.pendingWin = { center: d.win.center - dy * 2, width: w };
      clearTimeout(this.wlTimer);
      this.wlTimer = setTimeout(() => { this.setWindow(this.pendingWin); this.hooks.onWindow?.(this.win); }, 40);
    } else if (d?.mode === "pan") {
      this.view.tx = d.view.tx + dx;
      this.view.ty = d.view.ty + dy;
    } else if (d?.mode === "move" || d?.mode === "resize") {
      const ann = this.store.get(d.id);
      if (!ann) return;
      const [ix, iy] = [(dx / this.scale()), (dy / this.scale())];
      if (ann.geometry.type === "mask") {
        d.mask = R.shiftMask(this.maskOf(ann), this.inst.rows, this.inst.columns, Math.round(ix), Math.round(iy));
        d.preview = ann.geometry;
      } else {
        d.preview = d.mode === "move" ? R.moved(ann.geometry, ix, iy, this.inst.columns, this.inst.rows)
          : R.resized(ann.geometry, d.handle, p[0], p[1], this.inst.columns, this.inst.rows);
      }
      d.moved = Math.hypot(dx, dy) > 2;
    } else if (this.draft?.type === "box" && e.buttons) {
      this.draft.points[1] = [Math.max(0, Math.min(this.inst.columns, p[0])), Math.max(0, Math.min(this.inst.rows, p[1]))];
    } else if (this.draft?.type === "polygon") {
      this.draft.cursor = p;
    } else if (this.draft?.type === "mask" && e.buttons) {
      R.paintLine(this.draft.mask, this.inst.rows, this.inst.columns, this.draft.last, p, this.brush, this.draft.erase ? 0 : 1);
      this.draft.last = p;
    }
    this.draw();
  }

  up() {
    const d = this.drag;
    this.drag = null;
    if (d && (d.mode === "move" || d.mode === "resize") && d.moved) {
      const ann = this.store.get(d.id);
      const geometry = ann.geometry.type === "mask" ? { type: "mask", rle: R.encodeRle(d.mask) } : d.preview;
      this.hooks.onChangeGeometry(ann.id, geometry);
    }
    if (this.draft?.type === "box") {
      const [x0, y0, x1, y1] = R.boxOf(this.draft.points);
      this.draft = null;
      if ((x1 - x0) * this.scale() > 4 && (y1 - y0) * this.scale() > 4) this.commit({ type: "box", points: [[x0, y0], [x1, y1]].map((q) => q.map(R.round)) });
    } else if (this.draft?.type === "mask") {
      const { mask, base } = this.draft;
      this.draft = null;
      const geometry = { type: "mask", rle: R.encodeRle(mask) };
      if (base) this.hooks.onChangeGeometry(base, geometry);
      else if (mask.some((v) => v)) this.commit(geometry);
    }
    this.draw();
  }

  finishPolygon() {
    const d = this.draft;
    if (d?.type !== "polygon") return;
    this.draft = null;
    if (d.points.length >= 3) this.commit({ type: "polygon", points: d.points });
    this.draw();
  }

  cancelDraft() { const had = !!this.draft; this.draft = null; this.draw(); return had; }

  commit(geometry) {
    this.hooks.onCreateRegion({ kind: "region", instance_id: this.inst.id, frame: this.frame, geometry });
  }

  currentWindow() {
    if (this.win?.center != null) return this.win;
    return { center: 40, width: 400, ...(this.hooks.defaultWindow?.(this.win) || {}) };
  }
}
