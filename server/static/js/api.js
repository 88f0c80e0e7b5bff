// The JSON API as the browser sees it: the session cookie plus the page's CSRF token on every request.
const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json", "X-CSRF-Token": CSRF } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch("/api/v1" + path, opts);
  } catch (e) {
    throw new ApiError(0, { error: "network", message: "The server could not be reached." });
  }
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data || { error: `http_${r.status}`, message: r.statusText });
  return data;
}

// Every item of a paginated list.
export async function all(path) {
  const items = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let page = 1; ; page++) {
    const d = await api("GET", `${path}${sep}per_page=500&page=${page}`);
    items.push(...d.items);
    if (page >= d.pages) return items;
  }
}

// A study with everything the workspace shows: detail, documents with text/words, annotations, project. Given
// what prefetchBundle read ahead (`ahead`), it reads the rest in one round trip: the documents it listed are
// fetched alongside the study's detail (read again: this read, not the prefetch, is the view) and its annotations.
export async function loadBundle(studyId, projectId, ahead = null) {
  const docsOf = (study) => Promise.all(study.documents.map((d) => api("GET", `/documents/${d.id}`)));
  const [study, anns, project, early] = await Promise.all([
    api("GET", `/studies/${studyId}`),
    all(`/studies/${studyId}/annotations`),
    ahead ? ahead.project : api("GET", `/projects/${projectId}`),
    ahead ? docsOf(ahead.study).catch(() => null) : null,
  ]);
  const ids = (docs) => docs.map((d) => d.id).join(" ");
  const docs = early && ids(early) === ids(study.documents) ? early : await docsOf(study);
  return { study, docs, anns, project };
}

// What the next task needs read before it is opened, marked as a prefetch (the server audits it as one, not as
// a view): the study's detail (its documents and first frame) and the project.
export async function prefetchBundle(studyId, projectId) {
  const [study, project] = await Promise.all([
    api("GET", `/studies/${studyId}?prefetch=1`),
    api("GET", `/projects/${projectId}`),
  ]);
  return { study, project };
}

// A frame's URL. `prefetch`: read ahead, not shown yet; the server audits it as `prefetch.frame`, and the viewer
// reports the frame with frameViewed when it shows it.
export function frameUrl(instanceId, frame, win, prefetch = false) {
  const q = new URLSearchParams();
  if (win?.preset) q.set("preset", win.preset);
  else if (win && win.center != null) { q.set("center", Math.round(win.center)); q.set("width", Math.max(1, Math.round(win.width))); }
  if (prefetch) q.set("prefetch", "1");
  const qs = q.toString();
  return `/api/v1/instances/${instanceId}/frames/${frame}.png${qs ? "?" + qs : ""}`;
}

// The audit's `view.frame` for a frame shown from a prefetched copy (no content comes back).
export function frameViewed(instanceId, frame) {
  return api("POST", `/instances/${instanceId}/frames/${frame}/views`);
}
