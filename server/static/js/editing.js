// What the annotator does to annotations, from the keys, the buttons and the viewer: add or re-extent a span
// from the text selection, create a region (linked to the selected span), link, accept / reject, assertion,
// concept, label, delete, and stepping through the spans. Every change goes through the store (undoable).
import { ranked } from "./panels.js";
import { assertion } from "./text.js";

export class Editor {
  constructor(ws) { this.ws = ws; }

  get store() { return this.ws.store; }
  get active() { return this.store.get(this.ws.active); }

  addSpan(label) {
    const { ws } = this;
    const sel = ws.text.selection();
    if (!sel || !ws.canWrite) return false;
    label = label || document.getElementById("new-span-label").value;
    const id = this.store.create({ kind: "span", label, document_id: ws.doc.id, start: sel.start, end: sel.end, text: sel.text });
    this.clearTextSelection();
    ws.select(id);
    return true;
  }

  reextent() { // "edit": the selected span takes the current text selection's extent
    const { ws } = this;
    const sel = ws.text.selection();
    const ann = this.store.get(ws.selSpan);
    if (!sel || !ann || !ws.canWrite) return false;
    this.store.update(ann.id, { start: sel.start, end: sel.end, text: sel.text });
    this.clearTextSelection();
    return true;
  }

  clearTextSelection() {
    window.getSelection().removeAllRanges();
    document.getElementById("new-span").hidden = true;
  }

  offerSpan() { // the "New span" bar, while there is text selected to make one from
    const { ws } = this;
    document.getElementById("new-span").hidden = !ws.text.selection() || !ws.canWrite;
    document.getElementById("new-span-extent").hidden = ws.selSpan == null;
  }

  createRegion(payload) {
    const { ws } = this;
    if (!ws.canWrite) return;
    payload.label = document.getElementById("region-label").value || ws.labels.regions[0];
    const span = this.store.get(ws.selSpan);
    if (span && span.status !== "rejected") { // drawing while a span is selected links the two, as one undo step
      const link = { kind: "link", label: ws.labels.links[0], source_id: span.id, target_id: "$0" };
      ws.select(this.store.run({ op: "group", items: [{ op: "create", payload }, { op: "create", payload: link }] }).id);
    } else {
      ws.select(this.store.create(payload));
    }
  }

  link() {
    const { ws } = this;
    const span = this.store.get(ws.selSpan);
    const region = this.store.get(ws.selRegion);
    if (!span || !region || !ws.canWrite) { ws.setStatus_("Select a span and a region first, then press L.", "error"); return; }
    if (this.store.linksOf(span.id).some((l) => this.store.resolve(l.target_id) === region.id)) return;
    this.store.create({ kind: "link", label: ws.labels.links[0], source_id: span.id, target_id: region.id });
    ws.select(span.id);
  }

  setStatus(status) { const a = this.active; if (a && this.ws.canWrite) this.store.update(a.id, { status }); }

  setAssertion(value) {
    const a = this.active;
    if (a?.kind === "span" && this.ws.canWrite) this.store.update(a.id, { attributes: { ...a.attributes, assertion: value } });
  }

  toggleNegated() {
    const a = this.active;
    if (a?.kind === "span") this.setAssertion(assertion(a) === "negated" ? "present" : "negated");
  }

  chooseConcept(i) {
    const a = this.active;
    const c = a?.kind === "span" ? ranked(a.concepts)[i] : null;
    if (c && this.ws.canWrite) this.store.update(a.id, { attributes: { ...a.attributes, concept_id: c.id } });
  }

  setLabel(i) {
    const a = this.active;
    const list = a?.kind === "region" ? this.ws.labels.regions : this.ws.labels.spans;
    if (a && list[i] && this.ws.canWrite) this.store.update(a.id, { label: list[i] });
  }

  deleteActive() {
    const { ws } = this;
    const a = this.active;
    if (!a || !ws.canWrite) return;
    this.store.remove(a.id);
    if (a.id === ws.selSpan) ws.selSpan = null;
    if (a.id === ws.selRegion) ws.selRegion = null;
    ws.select(null);
  }

  stepSpan(delta) {
    const { ws } = this;
    const spans = ws.text.spans();
    if (!spans.length) return;
    const i = spans.findIndex((s) => s.id === ws.selSpan);
    ws.select(spans[(i + delta + spans.length) % spans.length].id);
  }
}
