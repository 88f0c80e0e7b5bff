// The annotation workspace: wires the text view, the image viewer, the side panel, the audio player, the save
// queue and the keyboard together, and moves from task to task (the next one prefetched).
import { api, ApiError, loadBundle } from "./api.js";
import { ranked, showConflict, SidePanel } from "./panels.js";
import { Store } from "./store.js";
import { assertion, TextView } from "./text.js";
import { TOOLS, Viewer } from "./viewer.js";
import { bindKeys, SHORTCUTS } from "./keys.js";

const PALETTE = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#a06cd5", "#2e86de", "#f08cae", "#c9803a"];

class Workspace {
  constructor(root) {
    this.root = root;
    const d = root.dataset;
    this.projectId = Number(d.project);
    this.user = d.user;
    this.canWrite = d.canWrite === "1";
    this.stage = d.stage;
    this.presets = JSON.parse(d.presets || "{}");
    this.active = null; // the annotation the keys act on
    this.selSpan = null;
    this.selRegion = null;
    this.colours = (label) => this.colourMap.get(label) || PALETTE[[...label].reduce((n, ch) => n + ch.charCodeAt(0), 0) % PALETTE.length];
    this.colourMap = new Map();
    this.panel = new SidePanel(this);
    this.prefetched = null;
  }

  async open(studyId, taskId, bundle) {
    const t0 = performance.now();
    this.studyId = studyId;
    this.taskId = taskId || null;
    this.setStatus_("Loading…");
    try {
      bundle = bundle || (await loadBundle(studyId, this.projectId));
    } catch (e) {
      this.setStatus_(`Could not load the study: ${e.message}`, "error");
      return;
    }
    this.bundle = bundle;
    const schema = bundle.project.label_schema || {};
    const names = (g) => (schema[g] || []).map((x) => (typeof x === "string" ? x : x.name));
    this.labels = { spans: names("spans"), regions: names("regions"), links: names("links") };
    for (const g of ["spans", "regions"]) (schema[g] || []).forEach((x, i) => {
      const name = typeof x === "string" ? x : x.name;
      if (!this.colourMap.has(name)) this.colourMap.set(name, (typeof x === "object" && x.color) || PALETTE[i % PALETTE.length]);
    });
    if (!this.labels.links.length) this.labels.links = ["shows"];
    this.store = new Store(studyId, this.user);
    this.store.addEventListener("change", () => this.refresh());
    this.store.addEventListener("status", () => this.saveStatus());
    this.text = new TextView(document.getElementById("doc"), this.store, this.colours);
    if (!this.viewer) this.viewer = new Viewer(this.root, this.store, this.colours, this.viewerHooks());
    else this.viewer.store = this.store;
    this.active = this.selSpan = this.selRegion = null;
    this.fillSelects();
    this.store.load(bundle.anns);
    this.docTabs();
    this.viewer.setStudy(bundle.study);
    this.thumbs();
    this.audio();
    document.getElementById("study-title").textContent =
      `Study #${studyId}${bundle.study.accession_number ? " · " + bundle.study.accession_number : ""}${bundle.study.modality ? " · " + bundle.study.modality : ""}`;
    document.getElementById("task-info").textContent = this.taskId ? `task #${this.taskId} · ${this.stage}` : "";
    document.getElementById("next-task").hidden = !this.taskId;
    if (this.store.restored) this.store.flush();
    this.saveStatus();
    this.root.dataset.ready = String(studyId);
    this.root.dataset.openMs = String(Math.round(performance.now() - t0));
    if (this.taskId) this.startTask();
  }

  // ------------------------------------------------------------------ building the page
  fillSelects() {
    const fill = (id, list) => {
      const el = document.getElementById(id);
      el.textContent = "";
      for (const l of list) el.append(new Option(l, l));
    };
    fill("new-span-label", this.labels.spans);
    fill("region-label", this.labels.regions);
    const preset = document.getElementById("preset");
    preset.textContent = "";
    preset.append(new Option("W/L: file", ""));
    for (const p of Object.keys(this.presets)) preset.append(new Option(p.replace("_", " "), p));
    preset.onchange = () => this.viewer.setWindow(preset.value ? { preset: preset.value } : null);
    const tools = document.getElementById("tools");
    tools.textContent = "";
    for (const [name, title, key] of TOOLS) {
      const b = document.createElement("button");
      Object.assign(b, { type: "button", textContent: title.split(" ")[0], title: `${title} (${key.toUpperCase()})` });
      b.setAttribute("role", "radio");
      b.dataset.tool = name;
      b.onclick = () => this.setTool(name);
      tools.append(b);
    }
    this.setTool(this.viewer.tool);
  }

  setTool(name) {
    this.viewer.cancelDraft();
    this.viewer.tool = name;
    for (const b of document.querySelectorAll("#tools button")) b.setAttribute("aria-checked", String(b.dataset.tool === name));
    this.root.dataset.tool = name;
  }

  docTabs() {
    const tabs = document.getElementById("doc-tabs");
    tabs.textContent = "";
    const docs = this.bundle.docs;
    if (!docs.length) { document.getElementById("doc").textContent = "No report is paired with this study."; return; }
    docs.forEach((d, i) => {
      const b = document.createElement("button");
      Object.assign(b, { type: "button", textContent: `${d.kind} v${d.version}` });
      b.setAttribute("role", "tab");
      b.onclick = () => this.showDoc(i);
      tabs.append(b);
    });
    this.showDoc(0);
  }

  showDoc(i) {
    this.doc = this.bundle.docs[i];
    [...document.querySelectorAll("#doc-tabs button")].forEach((b, j) => b.setAttribute("aria-selected", String(i === j)));
    this.text.setDocument(this.doc);
    this.text.select(this.selSpan, false);
  }

  docText(ann) {
    const doc = this.bundle.docs.find((d) => d.id === ann.document_id);
    return doc ? doc.text.slice(ann.start, ann.end) : "";
  }

  thumbs() {
    const box = document.getElementById("thumbs");
    box.textContent = "";
    for (const s of this.bundle.study.series) {
      const first = s.instances[0];
      if (!first) continue;
      const b = document.createElement("button");
      b.type = "button";
      b.className = "thumb";
      b.setAttribute("role", "option");
      b.dataset.series = s.id;
      b.title = `Series ${s.number ?? ""} ${s.description || ""}`;
      const img = new Image(64, 64);
      img.alt = "";
      img.loading = "lazy";
      img.src = `/api/v1/instances/${first.id}/frames/0.png`;
      const cap = document.createElement("span");
      cap.textContent = `${s.modality || ""} ${s.number ?? ""} · ${s.instances.length} im${first.frame_count > 1 ? ` · ${first.frame_count} fr` : ""}`;
      b.append(img, cap);
      b.onclick = () => this.viewer.goTo(first.id, 0);
      box.append(b);
    }
    this.markThumb();
  }

  markThumb() {
    const sid = this.viewer.inst?.series.id;
    for (const b of document.querySelectorAll(".thumb")) b.setAttribute("aria-selected", String(Number(b.dataset.series) === sid));
  }

  audio() {
    const box = document.getElementById("audio-box");
    const audio = document.getElementById("audio");
    const rec = this.bundle.study.recordings[0];
    box.hidden = !rec;
    if (!rec) { audio.removeAttribute("src"); return; }
    audio.src = `/api/v1/recordings/${rec.id}/audio`;
    const tick = () => {
      const t = audio.currentTime;
      const i = this.text.words.findIndex((w) => w.start <= t && t < w.end);
      this.text.setPlaying(i);
      if (!audio.paused) requestAnimationFrame(tick);
    };
    audio.onplay = tick;
    audio.ontimeupdate = tick;
    audio.onseeked = tick;
  }

  viewerHooks() {
    return {
      canWrite: this.canWrite,
      onSelect: (id) => this.select(id),
      onCreateRegion: (payload) => this.createRegion(payload),
      onChangeGeometry: (id, geometry) => this.store.update(id, { geometry }),
      onNavigate: () => { this.markThumb(); this.panel.render(); },
      defaultWindow: () => (this.viewer.win?.preset ? { center: this.presets[this.viewer.win.preset][0], width: this.presets[this.viewer.win.preset][1] } : null),
      onWindow: () => { document.getElementById("preset").value = ""; },
    };
  }

  // ------------------------------------------------------------------ state → screen
  refresh() {
    const r = (id) => (id == null ? null : this.store.resolve(id));
    [this.active, this.selSpan, this.selRegion] = [r(this.active), r(this.selSpan), r(this.selRegion)];
    this.viewer.selected = this.selRegion;
    this.text.render();
    this.text.select(this.selSpan, false);
    this.viewer.draw();
    this.panel.render();
    showConflict(this);
  }

  saveStatus() {
    const s = this.store;
    if (s.conflicts.length) this.setStatus_(`Conflict: ${s.conflicts.length} change(s) need your choice`, "error");
    else if (s.error && s.pending) this.setStatus_(`${s.error} (${s.pending} unsaved)`, "error");
    else if (s.error) this.setStatus_(s.error, "error");
    else if (s.pending) this.setStatus_(`Saving ${s.pending}…`, "busy");
    else this.setStatus_("All changes saved", "ok");
    document.getElementById("undo").disabled = !s.undoStack.length;
    document.getElementById("redo").disabled = !s.redoStack.length;
  }

  setStatus_(text, kind = "") {
    const el = document.getElementById("save-status");
    el.textContent = text;
    el.dataset.kind = kind;
  }

  select(id) {
    const ann = this.store.get(id);
    this.active = ann ? ann.id : null;
    if (ann?.kind === "span") {
      this.selSpan = ann.id;
      if (this.doc?.id !== ann.document_id) {
        const i = this.bundle.docs.findIndex((d) => d.id === ann.document_id);
        if (i >= 0) this.showDoc(i);
      }
    }
    if (ann?.kind === "region") this.selRegion = ann.id;
    if (!ann) { this.selRegion = null; }
    this.text.select(this.selSpan);
    this.viewer.selected = this.selRegion;
    this.viewer.draw();
    this.panel.render();
    this.hoverIds(ann ? [ann.id, ...this.store.linksOf(ann.id).flatMap((l) => [l.source_id, l.target_id])] : []);
  }

  hoverIds(ids) {
    const set = new Set(ids.map((i) => this.store.resolve(i)));
    this.text.setHover([...set]);
    this.viewer.hover = set;
    this.viewer.draw();
    for (const li of document.querySelectorAll(".link-item[data-link]")) {
      const l = this.store.get(isNaN(li.dataset.link) ? li.dataset.link : Number(li.dataset.link));
      li.classList.toggle("hl", !!l && set.has(this.store.resolve(l.source_id)) && set.has(this.store.resolve(l.target_id)));
    }
  }

  hoverLink(link) {
    if (!link) { this.hoverIds(this.active ? [this.active] : []); return; }
    const region = this.store.get(link.target_id);
    if (region && this.viewer.inst?.id !== region.instance_id) this.viewer.goTo(region.instance_id, region.frame);
    this.hoverIds([link.source_id, link.target_id]);
  }

  // ------------------------------------------------------------------ editing
  addSpan(label) {
    const sel = this.text.selection();
    if (!sel || !this.canWrite) return false;
    label = label || document.getElementById("new-span-label").value;
    const id = this.store.create({ kind: "span", label, document_id: this.doc.id, start: sel.start, end: sel.end, text: sel.text });
    window.getSelection().removeAllRanges();
    document.getElementById("new-span").hidden = true;
    this.select(id);
    return true;
  }

  reextent() { // "edit": the selected span takes the current text selection's extent
    const sel = this.text.selection();
    const ann = this.store.get(this.selSpan);
    if (!sel || !ann || !this.canWrite) return false;
    this.store.update(ann.id, { start: sel.start, end: sel.end, text: sel.text });
    window.getSelection().removeAllRanges();
    document.getElementById("new-span").hidden = true;
    return true;
  }

  createRegion(payload) {
    if (!this.canWrite) return;
    payload.label = document.getElementById("region-label").value || this.labels.regions[0];
    const span = this.store.get(this.selSpan);
    if (span && span.status !== "rejected") { // drawing while a span is selected links the two, as one undo step
      const link = { kind: "link", label: this.labels.links[0], source_id: span.id, target_id: "$0" };
      this.select(this.store.run({ op: "group", items: [{ op: "create", payload }, { op: "create", payload: link }] }).id);
    } else {
      this.select(this.store.create(payload));
    }
  }

  link() {
    const span = this.store.get(this.selSpan);
    const region = this.store.get(this.selRegion);
    if (!span || !region || !this.canWrite) { this.setStatus_("Select a span and a region first, then press L.", "error"); return; }
    if (this.store.linksOf(span.id).some((l) => this.store.resolve(l.target_id) === region.id)) return;
    this.store.create({ kind: "link", label: this.labels.links[0], source_id: span.id, target_id: region.id });
    this.select(span.id);
  }

  setStatus(status) { const a = this.store.get(this.active); if (a && this.canWrite) this.store.update(a.id, { status }); }

  setAssertion(value) {
    const a = this.store.get(this.active);
    if (a?.kind === "span" && this.canWrite) this.store.update(a.id, { attributes: { ...a.attributes, assertion: value } });
  }

  toggleNegated() {
    const a = this.store.get(this.active);
    if (a?.kind === "span") this.setAssertion(assertion(a) === "negated" ? "present" : "negated");
  }

  chooseConcept(i) {
    const a = this.store.get(this.active);
    const c = a?.kind === "span" ? ranked(a.concepts)[i] : null;
    if (c && this.canWrite) this.store.update(a.id, { attributes: { ...a.attributes, concept_id: c.id } });
  }

  setLabel(i) {
    const a = this.store.get(this.active);
    const list = a?.kind === "region" ? this.labels.regions : this.labels.spans;
    if (a && list[i] && this.canWrite) this.store.update(a.id, { label: list[i] });
  }

  deleteActive() {
    const a = this.store.get(this.active);
    if (!a || !this.canWrite) return;
    this.store.remove(a.id);
    if (a.id === this.selSpan) this.selSpan = null;
    if (a.id === this.selRegion) this.selRegion = null;
    this.select(null);
  }

  stepSpan(delta) {
    const spans = this.text.spans();
    if (!spans.length) return;
    const i = spans.findIndex((s) => s.id === this.selSpan);
    this.select(spans[(i + delta + spans.length) % spans.length].id);
  }

  // ------------------------------------------------------------------ tasks: start, finish, next (prefetched)
  async startTask() {
    try {
      const task = (await api("GET", `/projects/${this.projectId}/tasks?assignee=me&stage=${this.stage}&per_page=500`)).items.find((t) => t.id === this.taskId);
      this.task = task;
      if (task?.status === "open") this.task = await api("PATCH", `/tasks/${task.id}`, { status: "in_progress", version: task.version });
    } catch { /* the task still works; status changes are best effort */ }
    this.prefetchNext();
  }

  async prefetchNext() {
    try {
      const mine = await api("GET", `/projects/${this.projectId}/tasks?assignee=me&stage=${this.stage}&per_page=50`);
      let next = mine.items.find((t) => t.id !== this.taskId && t.status !== "done");
      if (!next) next = (await api("GET", `/projects/${this.projectId}/tasks?assignee=none&stage=${this.stage}&status=open&per_page=1`)).items[0];
      if (!next) return;
      const bundle = await loadBundle(next.study_id, this.projectId);
      this.prefetched = { studyId: next.study_id, bundle };
      const first = bundle.study.series[0]?.instances[0];
      if (first) this.viewer.image({ ...first }, 0, null);
    } catch { this.prefetched = null; }
  }

  async nextTask() {
    if (!this.taskId) return;
    if (this.store.pending || this.store.conflicts.length) {
      this.setStatus_("Waiting for your changes to be saved before moving on…", "busy");
      await this.store.flush();
      if (this.store.pending || this.store.conflicts.length) return;
    }
    try {
      if (this.task) await api("PATCH", `/tasks/${this.task.id}`, { status: "done", version: this.task.version });
      const { task } = await api("POST", `/projects/${this.projectId}/tasks/next?stage=${this.stage}`);
      if (!task) { location.href = `/projects/${this.projectId}?message=${encodeURIComponent(`No ${this.stage} tasks left.`)}`; return; }
      const pre = this.prefetched?.studyId === task.study_id ? this.prefetched.bundle : null;
      this.prefetched = null;
      history.pushState({}, "", `/studies/${task.study_id}?task=${task.id}`);
      await this.open(task.study_id, task.id, pre);
    } catch (e) {
      this.setStatus_(e instanceof ApiError ? e.message : "Could not open the next task.", "error");
    }
  }
}

const root = document.getElementById("ws");
const ws = new Workspace(root);
window.hilum = ws; // for the browser tests and the console
bindKeys(ws, SHORTCUTS);
ws.open(Number(root.dataset.study), Number(root.dataset.task) || null);
addEventListener("popstate", () => location.reload());
addEventListener("beforeunload", (e) => { if (ws.store?.pending || ws.store?.conflicts.length) e.preventDefault(); });
