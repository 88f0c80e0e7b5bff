// Building the workspace page for a study: the label and window lists, the tool buttons, the document tabs, the
// series thumbnails, and the dictation player that lights up transcript words as it plays.
import { TOOLS } from "./tools.js";

export function fillSelects(ws) {
  const fill = (id, list) => {
    const el = document.getElementById(id);
    el.textContent = "";
    for (const l of list) el.append(new Option(l, l));
  };
  fill("new-span-label", ws.labels.spans);
  fill("region-label", ws.labels.regions);
  const preset = document.getElementById("preset");
  preset.textContent = "";
  preset.append(new Option("W/L: file", ""));
  for (const p of Object.keys(ws.presets)) preset.append(new Option(p.replace("_", " "), p));
  preset.onchange = () => ws.viewer.setWindow(preset.value ? { preset: preset.value } : null);
  const tools = document.getElementById("tools");
  tools.textContent = "";
  for (const [name, title, key] of TOOLS) {
    const b = document.createElement("button");
    Object.assign(b, { type: "button", textContent: title.split(" ")[0], title: `${title} (${key.toUpperCase()})` });
    b.setAttribute("role", "radio");
    b.setAttribute("aria-keyshortcuts", key.toUpperCase());
    b.dataset.tool = name;
    b.onclick = () => ws.setTool(name);
    tools.append(b);
  }
  ws.setTool(ws.viewer.tool);
}

export function docTabs(ws) {
  const tabs = document.getElementById("doc-tabs");
  tabs.textContent = "";
  const docs = ws.bundle.docs;
  if (!docs.length) { document.getElementById("doc").textContent = "No report is paired with this study."; return; }
  docs.forEach((d, i) => {
    const b = document.createElement("button");
    Object.assign(b, { type: "button", textContent: `${d.kind} v${d.version}` });
    b.setAttribute("role", "tab");
    b.onclick = () => showDoc(ws, i);
    tabs.append(b);
  });
  showDoc(ws, 0);
}

export function showDoc(ws, i) {
  ws.doc = ws.bundle.docs[i];
  [...document.querySelectorAll("#doc-tabs button")].forEach((b, j) => b.setAttribute("aria-selected", String(i === j)));
  ws.text.setDocument(ws.doc);
  ws.text.select(ws.selSpan, false);
}

export function thumbs(ws) {
  const box = document.getElementById("thumbs");
  box.textContent = "";
  for (const s of ws.bundle.study.series) {
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
    b.onclick = () => ws.viewer.goTo(first.id, 0);
    box.append(b);
  }
  markThumb(ws);
}

export function markThumb(ws) {
  const sid = ws.viewer.inst?.series.id;
  for (const b of document.querySelectorAll(".thumb")) b.setAttribute("aria-selected", String(Number(b.dataset.series) === sid));
}

export function audioPlayer(ws) {
  const box = document.getElementById("audio-box");
  const audio = document.getElementById("audio");
  const rec = ws.bundle.study.recordings[0];
  box.hidden = !rec;
  if (!rec) { audio.removeAttribute("src"); return; }
  audio.src = `/api/v1/recordings/${rec.id}/audio`;
  const tick = () => {
    const t = audio.currentTime;
    const i = ws.text.words.findIndex((w) => w.start <= t && t < w.end);
    ws.text.setPlaying(i);
    if (!audio.paused) requestAnimationFrame(tick);
  };
  audio.onplay = tick;
  audio.ontimeupdate = tick;
  audio.onseeked = tick;
}
