// Keyboard shortcuts (one table, shown in the help dialog) and the text pane's mouse handling. With the report
// focused, the arrow keys move its word caret (caret.js); elsewhere they step through frames and images.

const inReport = (e) => !!e.target.closest?.("#doc");
const arrow = (e, ...names) => names.some((n) => e.key === `Arrow${n}`);
// keys that act with Ctrl too: undo/redo, and the word caret's moves in the report
const withCtrl = (e) => ["z", "Z", "y"].includes(e.key) || (inReport(e) && (arrow(e, "Left", "Right", "Up", "Down") || ["Home", "End"].includes(e.key)));

// [keys shown, description, test(event) → bool, action(ws, event)]
export const SHORTCUTS = [
  ["← → or Ctrl+← → (report focused)", "Word caret: select the previous / next word; with Shift, extend the selection by a word",
    (e) => inReport(e) && arrow(e, "Left", "Right"), (ws, e) => ws.caret.word(arrow(e, "Left") ? -1 : 1, e.shiftKey)],
  ["↑ ↓ (report focused)", "Word caret: the nearest word on the line above / below; with Shift, extend the selection",
    (e) => inReport(e) && arrow(e, "Up", "Down"), (ws, e) => ws.caret.line(arrow(e, "Up") ? -1 : 1, e.shiftKey)],
  ["Home / End (report focused)", "Word caret: first / last word of the line (Ctrl: of the document); with Shift, extend",
    (e) => inReport(e) && (e.key === "Home" || e.key === "End"), (ws, e) => ws.caret.edge(e.key === "Home" ? -1 : 1, e.shiftKey, e.ctrlKey || e.metaKey)],
  ["N or Enter", "Add a span from the selected text (label from the New span list)", (e) => e.key === "n" || e.key === "Enter", (ws) => ws.edit.addSpan()],
  ["1–9", "With text selected: add a span with that label; else set the selection's label", (e) => /^Digit[1-9]$/.test(e.code) && !e.shiftKey,
    (ws, e) => { const i = Number(e.code.slice(5)) - 1; if (!ws.edit.addSpan(ws.labels.spans[i])) ws.edit.setLabel(i); }],
  ["E", "Edit: the selected span takes the selected text's extent", (e) => e.key === "e", (ws) => ws.edit.reextent()],
  ["A", "Accept the selected span or region", (e) => e.key === "a", (ws) => ws.edit.setStatus("accepted")],
  ["R", "Reject the selected span or region", (e) => e.key === "r", (ws) => ws.edit.setStatus("rejected")],
  ["X", "Toggle negated / present", (e) => e.key === "x", (ws) => ws.edit.toggleNegated()],
  ["Shift+1–9", "Choose concept candidate 1–9", (e) => /^Digit[1-9]$/.test(e.code) && e.shiftKey, (ws, e) => ws.edit.chooseConcept(Number(e.code.slice(5)) - 1)],
  ["J / K", "Next / previous span", (e) => e.key === "j" || e.key === "k", (ws, e) => ws.edit.stepSpan(e.key === "j" ? 1 : -1)],
  ["L", "Link the selected span and region", (e) => e.key === "l", (ws) => ws.edit.link()],
  ["Delete", "Delete the selected annotation (its links go with it)", (e) => e.key === "Delete" || (e.key === "Backspace" && !e.target.closest?.("#canvas")), (ws) => ws.edit.deleteActive()],
  ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo", (e) => (e.ctrlKey || e.metaKey) && (e.key.toLowerCase() === "z" || e.key === "y"),
    (ws, e) => (e.shiftKey || e.key === "y" ? ws.store.redo() : ws.store.undo())],
  ["V H W", "Tools: select/move, pan, window/level", (e) => "vhw".includes(e.key) && e.key.length === 1, (ws, e) => ws.setTool({ v: "select", h: "pan", w: "wl" }[e.key])],
  ["B P O F", "Tools: box, polygon, point, brush mask (Shift-drag erases)", (e) => "bpof".includes(e.key) && e.key.length === 1,
    (ws, e) => ws.setTool({ b: "box", p: "polygon", o: "point", f: "brush" }[e.key])],
  ["[ / ]", "Brush smaller / larger", (e) => e.key === "[" || e.key === "]", (ws, e) => {
    const el = document.getElementById("brush-size");
    el.value = Number(el.value) + (e.key === "]" ? 1 : -1);
    ws.viewer.brush = Number(el.value);
  }],
  ["↑ ↓ / wheel", "Previous / next frame (or slice)", (e) => e.key === "ArrowUp" || e.key === "ArrowDown", (ws, e) => ws.viewer.step(e.key === "ArrowDown" ? 1 : -1)],
  ["← →", "Previous / next image in the study", (e) => e.key === "ArrowLeft" || e.key === "ArrowRight", (ws, e) => ws.viewer.slice(e.key === "ArrowRight" ? 1 : -1)],
  ["+ − 0", "Zoom in, out, fit", (e) => ["+", "=", "-", "0"].includes(e.key),
    (ws, e) => (e.key === "0" ? ws.viewer.fit() : ws.viewer.zoomBy(e.key === "-" ? 1 / 1.25 : 1.25))],
  ["Shift+W", "Next window preset", (e) => e.key === "W", (ws) => {
    const sel = document.getElementById("preset");
    sel.selectedIndex = (sel.selectedIndex + 1) % sel.options.length;
    sel.dispatchEvent(new Event("change"));
  }],
  ["Space", "Play / pause the dictation", (e) => e.key === " ", () => {
    const a = document.getElementById("audio");
    if (a.src) (a.paused ? a.play() : a.pause());
  }],
  ["Escape", "Cancel drawing, else clear the text selection, else the selected annotation", (e) => e.key === "Escape", (ws) => {
    if (ws.viewer.cancelDraft()) return;
    if (ws.text.selection()) ws.edit.clearTextSelection();
    else { ws.selSpan = ws.selRegion = null; ws.select(null); }
  }],
  ["Shift+N", "Mark the task done and open the next one", (e) => e.key === "N", (ws) => ws.tasks.next()],
  ["?", "Show these shortcuts", (e) => e.key === "?", () => document.getElementById("help").showModal()],
];

function typing(e) {
  const t = e.target;
  return t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName));
}

export function bindKeys(ws, table) {
  document.addEventListener("keydown", (e) => {
    if (typing(e) || e.altKey || !ws.store || e.target.closest?.("dialog[open]")) return; // a modal keeps its keys
    if (e.key === "Enter" && ws.viewer.draft?.type === "polygon") { ws.viewer.finishPolygon(); e.preventDefault(); return; }
    if (e.key === "Enter" && e.target.closest?.("button, a, [role=tab], .link-item")) return;
    if (e.key === " " && e.target.closest?.("button, a")) return;
    if ((e.ctrlKey || e.metaKey) && !withCtrl(e)) return;
    const hit = table.find(([, , test]) => test(e));
    if (!hit) return;
    e.preventDefault();
    hit[3](ws, e);
  });

  const help = document.getElementById("help-table");
  for (const [keys, what] of table) {
    const tr = help.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = keys;
    tr.append(th);
    tr.insertCell().textContent = what;
  }
  document.getElementById("help-btn").onclick = () => document.getElementById("help").showModal();
  document.getElementById("undo").onclick = () => ws.store.undo();
  document.getElementById("redo").onclick = () => ws.store.redo();
  document.getElementById("next-task").onclick = () => ws.tasks.next();
  document.getElementById("link-btn").onclick = () => ws.edit.link();
  document.getElementById("new-span-add").onclick = () => ws.edit.addSpan();
  document.getElementById("new-span-extent").onclick = () => ws.edit.reextent();
  document.getElementById("brush-size").oninput = (e) => { ws.viewer.brush = Number(e.target.value); };
  document.getElementById("zoom-in").onclick = () => ws.viewer.zoomBy(1.25);
  document.getElementById("zoom-out").onclick = () => ws.viewer.zoomBy(1 / 1.25);
  document.getElementById("zoom-fit").onclick = () => ws.viewer.fit();
  for (const choice of ["mine", "theirs", "both"]) {
    document.getElementById(`conflict-${choice}`).onclick = () => ws.store.resolveConflict(choice);
  }

  const doc = document.getElementById("doc");
  doc.addEventListener("mouseup", () => setTimeout(() => ws.edit.offerSpan()));
  doc.addEventListener("click", (e) => {
    if (ws.text.selection()) return;
    const span = ws.text.spanAt(e.target);
    if (span) ws.select(span.id);
    const word = ws.text.wordAt(e.target);
    const audio = document.getElementById("audio");
    if (word && audio.src) { audio.currentTime = word.start; audio.play().catch(() => {}); }
  });
  doc.addEventListener("mouseover", (e) => {
    const span = ws.text.spanAt(e.target);
    if (span) ws.hoverIds([span.id, ...ws.store.linksOf(span.id).flatMap((l) => [l.target_id, l.source_id])]);
  });
  doc.addEventListener("mouseleave", () => ws.hoverIds(ws.active ? [ws.active] : []));
}
