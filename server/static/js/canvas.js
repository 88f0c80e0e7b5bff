// Painting the viewer's canvas: the frame, its regions (selected and hovered ones emphasised, handles on the
// selected one), the region being drawn, and the corner overlays (position, window, zoom, pixel spacing, cursor).
import * as R from "./regions.js";

export function paint(v) {
  const { ctx, canvas } = v;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const inst = v.inst;
  if (!inst) { overlays(v); return; }
  const s = v.scale();
  const [ox, oy] = v.origin();
  ctx.setTransform(s, 0, 0, s, ox, oy);
  ctx.imageSmoothingEnabled = s < 1;
  if (v.shown && shownFor(v.shown, inst)) ctx.drawImage(v.shown, 0, 0, inst.columns, inst.rows);
  for (const a of v.regions()) paintRegion(v, a, s);
  if (v.draft) paintDraft(v, s);
  overlays(v);
}

const shownFor = (img, inst) => img.naturalWidth === inst.columns && img.naturalHeight === inst.rows;

function paintRegion(v, a, s) {
  const { ctx, dpr } = v;
  const colour = v.colours(a.label);
  const active = a.id === v.selected || v.hover.has(a.id);
  const g = v.drag?.id === a.id && v.drag.preview ? v.drag.preview : a.geometry;
  ctx.lineWidth = (active ? 3 : 1.6) / s * dpr;
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  if (g.type === "mask") {
    paintMask(v, a.id === v.drag?.id && v.drag.mask ? v.drag.mask : v.maskOf(a), colour, active ? 0.55 : 0.35);
    return;
  }
  const pts = g.points;
  ctx.setLineDash(a.status === "proposed" ? [4 / s, 3 / s] : []);
  ctx.beginPath();
  if (g.type === "point") {
    ctx.arc(pts[0][0], pts[0][1], 4 / s * dpr, 0, Math.PI * 2);
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
  if (a.id === v.selected && g.type !== "point") {
    const hs = 4 / s * dpr;
    for (const [x, y] of g.type === "box" ? R.corners(pts) : pts) ctx.fillRect(x - hs, y - hs, hs * 2, hs * 2);
  }
  if (active) {
    const [x0, y0] = R.boxOf(pts);
    ctx.font = `${12 / s * dpr}px system-ui`;
    ctx.fillText(a.label, x0, y0 - 4 / s);
  }
}

function paintMask(v, mask, colour, alpha) {
  const inst = v.inst;
  if (!v.maskCanvas || v.maskCanvas.width !== inst.columns || v.maskCanvas.height !== inst.rows) {
    v.maskCanvas = new OffscreenCanvas(inst.columns, inst.rows);
  }
  const mc = v.maskCanvas.getContext("2d");
  const img = mc.createImageData(inst.columns, inst.rows);
  mc.fillStyle = colour;
  mc.fillRect(0, 0, 1, 1);
  const [r, g, b] = mc.getImageData(0, 0, 1, 1).data;
  for (let i = 0; i < mask.length; i++) if (mask[i]) img.data.set([r, g, b, 255], i * 4);
  mc.putImageData(img, 0, 0);
  v.ctx.globalAlpha = alpha;
  v.ctx.drawImage(v.maskCanvas, 0, 0);
  v.ctx.globalAlpha = 1;
}

function paintDraft(v, s) {
  const { ctx, draft } = v;
  ctx.strokeStyle = "#ffd24a";
  ctx.lineWidth = 1.5 / s * v.dpr;
  if (draft.type === "mask") { paintMask(v, draft.mask, "#ffd24a", 0.5); return; }
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

function overlays(v) {
  const inst = v.inst;
  if (!inst) { v.ov.tl.textContent = "No images in this study."; return; }
  const sp = inst.pixel_spacing;
  const w = v.win?.preset || (v.win ? `C ${Math.round(v.win.center)} W ${Math.round(v.win.width)}` : "file window");
  v.ov.tl.textContent = `${inst.series.modality || ""} series ${inst.series.number ?? ""} · image ${v.idx + 1}/${v.instances.length}` +
    (inst.frame_count > 1 ? ` · frame ${v.frame + 1}/${inst.frame_count}` : "");
  v.ov.tr.textContent = `${w} · zoom ${Math.round(v.scale() / v.dpr * 100)}%`;
  v.ov.bl.textContent = `${inst.columns}×${inst.rows} px · ` + (sp ? `${sp[1].toFixed(3)} × ${sp[0].toFixed(3)} mm/px` : "no pixel spacing (sizes in px)");
  v.ov.br.textContent = v.error || v.cursorText || "";
}
