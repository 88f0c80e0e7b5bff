// The image viewer: server-rendered frames on a canvas, window/level, zoom/pan, frame and slice scrolling, and the
// regions on the shown frame. Painting lives in canvas.js, the pointer and the region tools in tools.js.
import { frameUrl, frameViewed } from "./api.js";
import { paint } from "./canvas.js";
import * as R from "./regions.js";
import { bindPointer, cancelDraft, finishPolygon } from "./tools.js";

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
    this.draft = null; // a region being drawn
    this.drag = null; // a pan, window/level, move or resize in progress
    this.brush = 6;
    new ResizeObserver(() => this.resize()).observe(this.box);
    bindPointer(this);
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
  // A frame's image, from the cache or loaded now. Loaded to be shown, it is read plainly (the server audits the
  // read as a view); read ahead (`prefetch`), it is marked so and audited as a prefetch, and reported as viewed
  // if and when it is shown (see `shownNow`).
  image(inst, frame, win = this.win, { prefetch = false } = {}) {
    const url = frameUrl(inst.id, frame, win);
    let entry = this.cache.get(url);
    if (!entry) {
      const img = new Image();
      entry = { img, instanceId: inst.id, frame, prefetch };
      img.src = frameUrl(inst.id, frame, win, prefetch);
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
      if (entry.ok) this.shownNow(entry);
      this.prefetch();
    });
    this.draw();
  }

  // A frame read ahead is on screen now: the audit's view of it, once per copy (tried again on the next showing
  // if the report does not get through).
  shownNow(entry) {
    if (!entry.prefetch) return;
    entry.prefetch = false;
    this.viewsSent = frameViewed(entry.instanceId, entry.frame).catch(() => { entry.prefetch = true; });
  }

  prefetch() {
    const inst = this.inst;
    const ahead = { prefetch: true };
    for (const f of [this.frame + 1, this.frame - 1]) if (f >= 0 && f < inst.frame_count) this.image(inst, f, this.win, ahead);
    for (const i of [this.idx + 1, this.idx - 1]) if (this.instances[i]) this.image(this.instances[i], 0, this.win, ahead);
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

  // ------------------------------------------------------------------ regions on the shown frame
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

  // ------------------------------------------------------------------ drawing and tools
  draw() {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = null; paint(this); });
  }

  finishPolygon() { finishPolygon(this); }

  cancelDraft() { return cancelDraft(this); }
}
