// Region geometry in image pixel coordinates: hit tests, handles, moves, masks as run lengths, mm sizes.

// Masks: run lengths over rows × columns in row-major order, starting with a run of background (0).
export function decodeRle(rle, rows, cols) {
  const out = new Uint8Array(rows * cols);
  let i = 0;
  let v = 0;
  for (const n of rle) { if (v) out.fill(1, i, i + n); i += n; v ^= 1; }
  return out;
}

export function encodeRle(mask) {
  const rle = [];
  let v = 0;
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === v) run++;
    else { rle.push(run); v = mask[i]; run = 1; }
  }
  rle.push(run);
  return rle;
}

export function paint(mask, rows, cols, x, y, radius, value) {
  const r2 = radius * radius;
  for (let j = Math.max(0, Math.floor(y - radius)); j <= Math.min(rows - 1, Math.ceil(y + radius)); j++) {
    for (let i = Math.max(0, Math.floor(x - radius)); i <= Math.min(cols - 1, Math.ceil(x + radius)); i++) {
      if ((i + 0.5 - x) ** 2 + (j + 0.5 - y) ** 2 <= r2) mask[j * cols + i] = value;
    }
  }
}

export function paintLine(mask, rows, cols, a, b, radius, value) {
  const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / Math.max(radius / 2, 0.5)));
  for (let k = 0; k <= steps; k++) {
    paint(mask, rows, cols, a[0] + ((b[0] - a[0]) * k) / steps, a[1] + ((b[1] - a[1]) * k) / steps, radius, value);
  }
}

export function shiftMask(mask, rows, cols, dx, dy) {
  const out = new Uint8Array(mask.length);
  for (let j = 0; j < rows; j++) {
    const sj = j - dy;
    if (sj < 0 || sj >= rows) continue;
    for (let i = 0; i < cols; i++) {
      const si = i - dx;
      if (si >= 0 && si < cols) out[j * cols + i] = mask[sj * cols + si];
    }
  }
  return out;
}

export function maskBounds(mask, rows, cols) {
  let [x0, y0, x1, y1] = [cols, rows, -1, -1];
  for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) if (mask[j * cols + i]) {
    x0 = Math.min(x0, i); x1 = Math.max(x1, i); y0 = Math.min(y0, j); y1 = Math.max(y1, j);
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

function inPolygon(pts, x, y) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function boxOf(points) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

// Does image point (x, y) hit the region? `tol` is in image pixels; `mask` is the decoded mask, if any.
export function hits(geom, x, y, tol, mask, cols) {
  if (geom.type === "mask") return !!mask && x >= 0 && y >= 0 && mask[Math.floor(y) * cols + Math.floor(x)] === 1;
  const pts = geom.points;
  if (geom.type === "point") return Math.hypot(pts[0][0] - x, pts[0][1] - y) <= tol * 1.5;
  if (geom.type === "box") {
    const [x0, y0, x1, y1] = boxOf(pts);
    return x >= x0 - tol && x <= x1 + tol && y >= y0 - tol && y <= y1 + tol;
  }
  if (geom.type === "polygon") return inPolygon(pts, x, y) || pts.some((p) => Math.hypot(p[0] - x, p[1] - y) <= tol);
  return pts.some((p) => Math.hypot(p[0] - x, p[1] - y) <= tol);
}

// Index of the handle (box corner or polygon vertex) under (x, y), or -1.
export function handleAt(geom, x, y, tol) {
  if (geom.type === "mask" || geom.type === "point") return -1;
  const pts = geom.type === "box" ? corners(geom.points) : geom.points;
  return pts.findIndex((p) => Math.hypot(p[0] - x, p[1] - y) <= tol);
}

export function corners(points) {
  const [x0, y0, x1, y1] = boxOf(points);
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export function moved(geom, dx, dy, cols, rows) {
  if (geom.type === "mask") return geom; // masks move through shiftMask
  const [x0, y0, x1, y1] = boxOf(geom.points);
  const ddx = clamp(dx, -x0, cols - x1);
  const ddy = clamp(dy, -y0, rows - y1);
  return { type: geom.type, points: geom.points.map(([x, y]) => [round(x + ddx), round(y + ddy)]) };
}

export function resized(geom, handle, x, y, cols, rows) {
  x = clamp(x, 0, cols);
  y = clamp(y, 0, rows);
  if (geom.type === "box") {
    const c = corners(geom.points);
    const opposite = c[(handle + 2) % 4];
    return { type: "box", points: [[round(Math.min(x, opposite[0])), round(Math.min(y, opposite[1]))],
      [round(Math.max(x, opposite[0])), round(Math.max(y, opposite[1]))]] };
  }
  const points = geom.points.map((p, i) => (i === handle ? [round(x), round(y)] : p));
  return { type: geom.type, points };
}

export const round = (v) => Math.round(v * 10) / 10;

// "23.1 × 18.0 mm" style description, using pixel spacing [row, column] in mm when known.
export function describe(geom, spacing, mask, rows, cols) {
  const [sr, sc] = spacing || [null, null];
  const mm = (v) => v.toFixed(1);
  if (geom.type === "point") return `(${geom.points[0].map((v) => Math.round(v)).join(", ")})`;
  if (geom.type === "mask") {
    const area = mask ? mask.reduce((n, v) => n + v, 0) : 0;
    return sr ? `${mm(area * sr * sc)} mm²` : `${area} px`;
  }
  const [x0, y0, x1, y1] = boxOf(geom.points);
  const [w, h] = [x1 - x0, y1 - y0];
  return sr ? `${mm(w * sc)} × ${mm(h * sr)} mm` : `${Math.round(w)} × ${Math.round(h)} px`;
}
