// The annotation workspace: opens a study and wires the text view, the image viewer, the side panel, the audio
// player, the save queue and the keyboard together. What the annotator does lives in editing.js, building the page
// in page.js, moving from task to task (the next one prefetched) in tasks.js.
import { loadBundle } from "./api.js";
import { TextCaret } from "./caret.js";
import { Editor } from "./editing.js";
import { bindKeys, SHORTCUTS } from "./keys.js";
import * as page from "./page.js";
import { showConflict, SidePanel } from "./panels.js";
import { Store } from "./store.js";
import { TaskFlow } from "./tasks.js";
import { TextView } from "./text.js";
import { Viewer } from "./viewer.js";

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
    this.edit = new Editor(this);
    this.caret = new TextCaret(this);
    this.tasks = new TaskFlow(this);
  }

  // `ahead`: what the task flow prefetched for this study, if anything
  async open(studyId, taskId, ahead = null) {
    const t0 = performance.now();
    this.studyId = studyId;
    this.taskId = taskId || null;
    this.setStatus_("Loading…");
    const first = ahead?.study.series[0]?.instances[0];
    if (first && this.viewer) this.viewer.image(first, 0, null); // opening: its first frame (unless prefetched) loads alongside the reads
    let bundle;
    try {
      bundle = await loadBundle(studyId, this.projectId, ahead);
    } catch (e) {
      this.setStatus_(`Could not load the study: ${e.message}`, "error");
      return;
    }
    this.bundle = bundle;
    this.schema(bundle.project.label_schema || {});
    this.store = new Store(studyId, this.user);
    this.store.addEventListener("change", () => this.refresh());
    this.store.addEventListener("status", () => this.saveStatus());
    this.text = new TextView(document.getElementById("doc"), this.store, this.colours);
    if (!this.viewer) this.viewer = new Viewer(this.root, this.store, this.colours, this.viewerHooks());
    else this.viewer.store = this.store;
    this.active = this.selSpan = this.selRegion = null;
    page.fillSelects(this);
    this.store.load(bundle.anns);
    page.docTabs(this);
    this.viewer.setStudy(bundle.study);
    page.thumbs(this);
    page.audioPlayer(this);
    document.getElementById("study-title").textContent =
      `Study #${studyId}${bundle.study.accession_number ? " · " + bundle.study.accession_number : ""}${bundle.study.modality ? " · " + bundle.study.modality : ""}`;
    document.getElementById("task-info").textContent = this.taskId ? `task #${this.taskId} · ${this.stage}` : "";
    document.getElementById("next-task").hidden = !this.taskId;
    if (this.store.restored) this.store.flush();
    this.saveStatus();
    this.root.dataset.ready = String(studyId);
    this.root.dataset.openMs = String(Math.round(performance.now() - t0));
    if (this.taskId) this.tasks.start();
  }

  schema(schema) { // label lists and colours from the project's label schema
    const names = (g) => (schema[g] || []).map((x) => (typeof x === "string" ? x : x.name));
    this.labels = { spans: names("spans"), regions: names("regions"), links: names("links") };
    for (const g of ["spans", "regions"]) (schema[g] || []).forEach((x, i) => {
      const name = typeof x === "string" ? x : x.name;
      if (!this.colourMap.has(name)) this.colourMap.set(name, (typeof x === "object" && x.color) || PALETTE[i % PALETTE.length]);
    });
    if (!this.labels.links.length) this.labels.links = ["shows"];
  }

  setTool(name) {
    this.viewer.cancelDraft();
    this.viewer.tool = name;
    for (const b of document.querySelectorAll("#tools button")) b.setAttribute("aria-checked", String(b.dataset.tool === name));
    this.root.dataset.tool = name;
  }

  docText(ann) {
    const doc = this.bundle.docs.find((d) => d.id === ann.document_id);
    return doc ? doc.text.slice(ann.start, ann.end) : "";
  }

  viewerHooks() {
    const preset = () => this.viewer.win?.preset;
    return {
      canWrite: this.canWrite,
      onSelect: (id) => this.select(id),
      onCreateRegion: (payload) => this.edit.createRegion(payload),
      onChangeGeometry: (id, geometry) => this.store.update(id, { geometry }),
      onHoverRegion: (id) => this.hoverIds(id == null ? (this.active ? [this.active] : []) : this.withLinked(id)),
      onNavigate: () => { page.markThumb(this); this.panel.render(); },
      defaultWindow: () => (preset() ? { center: this.presets[preset()][0], width: this.presets[preset()][1] } : null),
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
        if (i >= 0) page.showDoc(this, i);
      }
    }
    if (ann?.kind === "region") this.selRegion = ann.id;
    if (!ann) { this.selRegion = null; }
    this.text.select(this.selSpan);
    this.viewer.selected = this.selRegion;
    this.viewer.draw();
    this.panel.render();
    this.hoverIds(ann ? this.withLinked(ann.id) : []);
  }

  withLinked(id) { // an annotation and the other ends of its links
    return [id, ...this.store.linksOf(id).flatMap((l) => [l.source_id, l.target_id])];
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
}

const root = document.getElementById("ws");
const ws = new Workspace(root);
window.hilum = ws; // for the browser tests and the console
bindKeys(ws, SHORTCUTS);
ws.open(Number(root.dataset.study), Number(root.dataset.task) || null);
addEventListener("popstate", () => location.reload());
addEventListener("beforeunload", (e) => { if (ws.store?.pending || ws.store?.conflicts.length) e.preventDefault(); });
