// Working through a task queue: mark the task in progress, prefetch the next one while the annotator works, and on
// "done" move to it without a page load.
//
// A prefetch reads only what lets the next study open in one round trip (its detail, with `?prefetch=1`, and the
// project) and its first frame (also `?prefetch=1`, decoded into the viewer's cache): the server audits those as
// prefetches. The report text and the annotations are read when the study opens, and the first frame, shown from
// the viewer's cache, is then reported as viewed, so the audit log's views are the studies that were opened.
import { api, ApiError, prefetchBundle } from "./api.js";

export class TaskFlow {
  constructor(ws) {
    this.ws = ws;
    this.task = null;
    this.prefetched = null; // {studyId, study, project}
  }

  get path() { return `/projects/${this.ws.projectId}/tasks`; }

  async start() {
    const { ws } = this;
    try {
      const task = (await api("GET", `${this.path}?assignee=me&stage=${ws.stage}&per_page=500`)).items.find((t) => t.id === ws.taskId);
      this.task = task;
      if (task?.status === "open") this.task = await api("PATCH", `/tasks/${task.id}`, { status: "in_progress", version: task.version });
    } catch { /* the task still works; status changes are best effort */ }
    this.prefetchNext();
  }

  async prefetchNext() {
    const { ws } = this;
    try {
      const mine = await api("GET", `${this.path}?assignee=me&stage=${ws.stage}&per_page=50`);
      let next = mine.items.find((t) => t.id !== ws.taskId && t.status !== "done");
      if (!next) next = (await api("GET", `${this.path}?assignee=none&stage=${ws.stage}&status=open&per_page=1`)).items[0];
      if (!next) return;
      const ahead = await prefetchBundle(next.study_id, ws.projectId);
      const first = ahead.study.series[0]?.instances[0];
      if (first && ws.viewer) await ws.viewer.image(first, 0, null, { prefetch: true }).ready;
      this.prefetched = { studyId: next.study_id, ...ahead };
    } catch { this.prefetched = null; }
  }

  async next() {
    const { ws } = this;
    if (!ws.taskId) return;
    const store = ws.store;
    if (store.pending || store.conflicts.length) {
      ws.setStatus_("Waiting for your changes to be saved before moving on…", "busy");
      await store.flush();
      if (store.pending || store.conflicts.length) return;
    }
    try {
      if (this.task) await api("PATCH", `/tasks/${this.task.id}`, { status: "done", version: this.task.version });
      const { task } = await api("POST", `${this.path}/next?stage=${ws.stage}`);
      if (!task) { location.href = `/projects/${ws.projectId}?message=${encodeURIComponent(`No ${ws.stage} tasks left.`)}`; return; }
      const ahead = this.prefetched?.studyId === task.study_id ? this.prefetched : null;
      this.prefetched = null;
      this.task = null;
      history.pushState({}, "", `/studies/${task.study_id}?task=${task.id}`);
      await ws.open(task.study_id, task.id, ahead);
    } catch (e) {
      ws.setStatus_(e instanceof ApiError ? e.message : "Could not open the next task.", "error");
    }
  }
}
