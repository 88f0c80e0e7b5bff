// Annotations of one study: local state, a save queue (autosave, in order, retried), optimistic versions,
// conflicts that keep both sides, and undo/redo. Every change is applied locally first and then saved; what is
// not saved yet survives a reload (pending.js).
import { api } from "./api.js";
import { restorePending, savePending } from "./pending.js";

const FIELDS = ["kind", "label", "document_id", "start", "end", "instance_id", "frame", "geometry",
  "source_id", "target_id", "concepts", "attributes", "status"];
const pick = (obj, keys) => Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, structuredClone(obj[k])]));

export class Store extends EventTarget {
  constructor(studyId, user) {
    super();
    this.studyId = studyId;
    this.user = user;
    this.anns = new Map();
    this.alias = new Map(); // temporary or replaced id → current id
    this.versions = new Map(); // saved id → the version the server has
    this.queue = [];
    this.conflicts = [];
    this.undoStack = [];
    this.redoStack = [];
    this.busy = false;
    this.error = null;
    this.tmp = 0;
    this.retryMs = 0;
  }

  load(list) {
    this.anns.clear();
    this.versions.clear();
    for (const a of list) { this.anns.set(a.id, a); this.versions.set(a.id, a.version); }
    this.restorePending();
    this.changed();
  }

  resolve(id) {
    for (let hops = 0; this.alias.has(id) && hops < 100; hops++) id = this.alias.get(id);
    return id;
  }
  get(id) { return id == null ? undefined : this.anns.get(this.resolve(id)); }
  list(kind) { return [...this.anns.values()].filter((a) => !kind || a.kind === kind); }
  linksOf(id) {
    id = this.resolve(id);
    return this.list("link").filter((l) => this.resolve(l.source_id) === id || this.resolve(l.target_id) === id);
  }
  get pending() { return this.queue.length; }

  changed(detail = {}) { this.dispatchEvent(new CustomEvent("change", { detail })); }
  status() { this.dispatchEvent(new Event("status")); }

  // ------------------------------------------------------------------ user actions (undoable)
  create(payload) { return this.run({ op: "create", payload }).id; }
  update(id, changes) { this.run({ op: "update", id, changes }); }
  remove(id) { this.run({ op: "delete", id }); }

  run(action, stack = "undo") {
    const inverse = this.apply(action);
    if (stack === "undo") { this.undoStack.push(inverse); this.redoStack = []; } else this[`${stack}Stack`].push(inverse);
    this.changed();
    this.flush();
    return inverse.result || { id: inverse.id };
  }

  undo() { const a = this.undoStack.pop(); if (a) this.run(a, "redo"); }
  redo() {
    const a = this.redoStack.pop();
    if (!a) return;
    const redo = this.redoStack;
    this.redoStack = [];
    const inverse = this.apply(a);
    this.undoStack.push(inverse);
    this.redoStack = redo;
    this.changed();
    this.flush();
  }

  // Apply an action locally, queue its save, return its inverse.
  apply(action) {
    if (action.op === "group") {
      const made = [];
      const inv = action.items.map((x) => {
        if (x.op === "create") { // "$N" in a payload: the id that item N of this group created
          const payload = { ...x.payload };
          for (const k of ["source_id", "target_id"]) if (/^\$\d+$/.test(String(payload[k]))) payload[k] = made[Number(payload[k].slice(1))];
          x = { ...x, payload };
        }
        const r = this.apply(x);
        made.push(r.result?.id);
        return r;
      }).reverse();
      return { op: "group", items: inv, result: inv.at(-1)?.result };
    }
    if (action.op === "create") {
      const id = `t${++this.tmp}`;
      const ann = { ...structuredClone(action.payload), id, version: 0, source: `user:${this.user}` };
      ann.status ??= "accepted";
      ann.attributes ??= {};
      ann.concepts ??= [];
      this.anns.set(id, ann);
      if (action.replaces != null) this.alias.set(action.replaces, id);
      this.enqueue({ op: "create", id, payload: pick(ann, FIELDS) });
      return { op: "delete", id, result: { id } };
    }
    const ann = this.get(action.id);
    if (!ann) return { op: "group", items: [] };
    if (action.op === "update") {
      const before = pick(ann, Object.keys(action.changes));
      Object.assign(ann, structuredClone(action.changes));
      this.enqueue({ op: "update", id: ann.id, changes: structuredClone(action.changes) });
      return { op: "update", id: ann.id, changes: before };
    }
    // delete: the annotation and (on the server, by cascade) its links; the inverse recreates them all
    const links = ann.kind === "link" ? [] : this.linksOf(ann.id);
    for (const l of links) this.anns.delete(l.id);
    this.anns.delete(ann.id);
    this.enqueue({ op: "delete", id: ann.id });
    const recreate = { op: "create", payload: pick(ann, FIELDS), replaces: ann.id };
    const relinks = links.map((l) => ({ op: "create", payload: pick(l, FIELDS), replaces: l.id }));
    return { op: "group", items: [recreate, ...relinks] };
  }

  // ------------------------------------------------------------------ saving
  enqueue(job) {
    const last = this.queue.at(-1);
    if (job.op === "update" && last && !last.inflight && last.op === "update" && last.id === job.id) {
      Object.assign(last.changes, job.changes); // coalesce edits of the same annotation
    } else if (job.op === "delete" && typeof job.id === "string" && this.queue.some((j) => j.id === job.id && !j.inflight)) {
      this.queue = this.queue.filter((j) => j.id !== job.id); // never saved: nothing to delete on the server
    } else {
      this.queue.push(job);
    }
    this.persist();
  }

  resolveIds(body) {
    for (const k of ["source_id", "target_id"]) if (k in body) body[k] = this.resolve(body[k]);
    return body;
  }

  async send(job) {
    const id = this.resolve(job.id);
    if (job.op === "create") {
      const body = this.resolveIds({ ...job.payload });
      if ([body.source_id, body.target_id].some((x) => typeof x === "string")) throw new Error("unsaved end");
      const saved = await api("POST", `/studies/${this.studyId}/annotations`, body);
      const local = this.anns.get(id);
      this.alias.delete(saved.id); // a database may hand out a deleted row's id again: it is this one now
      this.alias.set(id, saved.id);
      this.versions.set(saved.id, saved.version);
      this.anns.delete(id);
      if (local) this.anns.set(saved.id, { ...saved, ...pick(local, FIELDS), id: saved.id, version: saved.version });
      for (const l of this.list("link")) { l.source_id = this.resolve(l.source_id); l.target_id = this.resolve(l.target_id); }
      return;
    }
    if (typeof id === "string") throw new Error("unsaved annotation"); // its create is still ahead in the queue
    const version = this.versions.get(id);
    if (job.op === "update") {
      const saved = await api("PATCH", `/annotations/${id}`, { ...this.resolveIds({ ...job.changes }), version });
      this.versions.set(id, saved.version);
      const local = this.anns.get(id);
      if (local) local.version = saved.version;
      if (local && !("status" in job.changes)) local.status = saved.status;
      return;
    }
    await api("DELETE", `/annotations/${id}?version=${version}`);
    this.versions.delete(id);
  }

  async flush() {
    if (this.busy) return;
    this.busy = true;
    this.status();
    while (this.queue.length) {
      const job = this.queue[0];
      job.inflight = true;
      try {
        await this.send(job);
        this.queue.shift();
        this.retryMs = 0;
        this.error = null;
      } catch (e) {
        job.inflight = false;
        if (e.status === 409 && e.body?.current) {
          this.queue.shift();
          this.conflict(job, e.body.current);
        } else if (e.status === 404 && job.op !== "create") { // someone else deleted it first
          this.queue.shift();
          if (job.op === "update") this.conflict(job, { deleted: true, id: this.resolve(job.id), kind: this.get(job.id)?.kind });
          else this.versions.delete(this.resolve(job.id)); // deleted on both sides: nothing to choose
        } else if (e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408) {
          this.queue.shift();
          this.error = `Not saved: ${e.message}`;
          this.revertFailed(job);
        } else {
          this.error = e.status === 401 ? "Your session ended: log in again in another tab; your changes are kept."
            : "Offline: your changes are kept and will be saved when the server answers.";
          this.retryMs = Math.min(Math.max(this.retryMs * 2, 1000), 15000);
          setTimeout(() => this.flush(), this.retryMs);
          break;
        }
      }
      this.persist();
      this.status();
    }
    this.busy = false;
    this.persist();
    this.status();
    this.changed({ saved: true });
  }

  revertFailed(job) {
    if (job.op === "create") { this.anns.delete(this.resolve(job.id)); this.changed(); }
  }

  // ------------------------------------------------------------------ conflicts: both sides kept until chosen
  conflict(job, current) {
    const id = this.resolve(job.id);
    const mine = job.op === "update" ? { ...job.changes } : { deleted: true };
    for (const j of this.queue.filter((x) => this.resolve(x.id) === id)) {
      if (j.op === "update") Object.assign(mine, j.changes);
      else if (j.op === "delete") mine.deleted = true;
    }
    this.queue = this.queue.filter((x) => this.resolve(x.id) !== id);
    const existing = this.conflicts.find((c) => c.id === id);
    if (existing) { Object.assign(existing.mine, mine); existing.theirs = current; } else this.conflicts.push({ id, mine, theirs: current });
    const ann = this.anns.get(id);
    if (ann) ann._conflict = true;
    this.changed({ conflict: id });
  }

  resolveConflict(choice) {
    const c = this.conflicts.shift();
    if (!c) return;
    const { id, mine, theirs } = c;
    if (theirs.deleted) { this.settleDeleted(id, choice !== "theirs"); return; }
    this.versions.set(id, theirs.version);
    const local = this.anns.get(id);
    if (choice === "mine") {
      const base = { ...theirs, ...(local ? pick(local, FIELDS) : {}), version: theirs.version };
      if (mine.deleted) { this.anns.delete(id); this.queue.push({ op: "delete", id }); } else {
        this.anns.set(id, base);
        this.queue.push({ op: "update", id, changes: mine });
      }
    } else {
      this.anns.set(id, { ...theirs });
      if (choice === "both" && !mine.deleted && theirs.kind !== "link") {
        const copy = { ...pick(theirs, FIELDS), ...mine };
        delete copy.status;
        this.create(copy);
      }
    }
    this.persist();
    this.changed();
    this.flush();
  }

  // Someone else deleted an annotation this session changed: keep = create it again with the changes and its
  // saved links (one undo step); else let it and its links go, as they went on the server.
  settleDeleted(id, keep) {
    const local = this.anns.get(id);
    const links = local && local.kind !== "link" ? this.linksOf(id).filter((l) => typeof l.id === "number") : [];
    for (const a of [local, ...links]) if (a) this.anns.delete(a.id);
    this.versions.delete(id);
    if (keep && local) {
      const again = (a) => ({ op: "create", payload: pick(a, FIELDS), replaces: a.id });
      this.run({ op: "group", items: [again(local), ...links.map(again)] });
      return;
    }
    this.persist();
    this.changed();
    this.flush();
  }

  // unsaved work survives a reload (pending.js)
  persist() { savePending(this); }
  restorePending() { restorePending(this); }
}
