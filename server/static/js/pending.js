// Unsaved work survives a reload: a store's save queue, the versions it edits, the annotations it creates and
// the conflicts still waiting for a choice, kept in localStorage per study and read back when the study opens.
const keyOf = (store) => `hilum.pending.${store.studyId}`;

export function savePending(store) {
  try {
    if (!store.queue.length && !store.conflicts.length) { localStorage.removeItem(keyOf(store)); return; }
    const versions = {};
    for (const j of store.queue) { const id = store.resolve(j.id); if (store.versions.has(id)) versions[id] = store.versions.get(id); }
    const anns = store.queue.filter((j) => j.op === "create").map((j) => store.get(j.id));
    for (const c of store.conflicts) if (c.theirs.deleted) anns.push(store.anns.get(c.id), ...store.linksOf(c.id)); // gone from the server
    const conflicts = store.conflicts;
    localStorage.setItem(keyOf(store), JSON.stringify({ queue: store.queue.map(({ inflight, ...j }) => j), versions, anns: anns.filter(Boolean), conflicts, tmp: store.tmp }));
  } catch { /* storage full or disabled: the queue still lives in memory */ }
}

export function restorePending(store) {
  let saved;
  try { saved = JSON.parse(localStorage.getItem(keyOf(store)) || "null"); } catch { saved = null; }
  if (!saved?.queue?.length && !saved?.conflicts?.length) return;
  store.tmp = Math.max(store.tmp, saved.tmp || 0);
  for (const a of saved.anns || []) store.anns.set(a.id, a);
  for (const c of saved.conflicts || []) { // still waiting for the user's choice: the local side is "mine"
    const ann = store.anns.get(c.id);
    if (c.mine.deleted) store.anns.delete(c.id);
    else if (ann) Object.assign(ann, c.mine, { _conflict: true });
    store.conflicts.push(c);
  }
  for (const [id, v] of Object.entries(saved.versions || {})) store.versions.set(Number(id), v);
  for (const j of saved.queue) {
    const ann = store.get(j.id);
    if (j.op === "update" && ann) Object.assign(ann, j.changes);
    if (j.op === "delete") store.anns.delete(store.resolve(j.id));
    store.queue.push(j);
  }
  store.restored = store.queue.length + store.conflicts.length;
}
