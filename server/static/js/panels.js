// The side panel (the selected span or region: label, status, assertion, concept candidates), the lists of
// links and regions, and the conflict dialog.
import { describe } from "./regions.js";
import { ASSERTIONS, assertion } from "./text.js";

const h = (tag, attrs = {}, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  return el;
};

export function ranked(concepts) {
  return [...(concepts || [])].sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
}

export function chosenConcept(ann) {
  const list = ranked(ann.concepts);
  const id = ann.attributes?.concept_id;
  return list.find((c) => c.id === id) || (id ? { id } : list[0]);
}

function labelSelect(id, labels, value, onchange, disabled) {
  const sel = h("select", { id, disabled, onchange: (e) => onchange(e.target.value) },
    labels.map((l) => h("option", { value: l, selected: l === value }, l)));
  if (value && !labels.includes(value)) sel.prepend(h("option", { value, selected: true }, value));
  return sel;
}

// List items act like buttons from the keyboard too (Enter or Space), without reaching the workspace's shortcuts.
const activate = (e) => {
  if (e.target !== e.currentTarget || (e.key !== "Enter" && e.key !== " ")) return;
  e.preventDefault();
  e.stopPropagation();
  e.currentTarget.click();
};

export class SidePanel {
  constructor(ws) { this.ws = ws; }

  render() {
    const { ws } = this;
    const body = document.getElementById("sel-body");
    body.textContent = "";
    const ann = ws.store.get(ws.active);
    if (!ann) { body.append(h("p", { class: "muted" }, "Click a span or a region; select text to add a span.")); }
    else if (ann.kind === "span") body.append(this.span(ann));
    else if (ann.kind === "region") body.append(this.region(ann));
    this.links();
    this.regions();
  }

  actions(ann) {
    const w = !this.ws.canWrite;
    return h("div", { class: "row" },
      h("button", { type: "button", id: "btn-accept", disabled: w || ann.status === "accepted", onclick: () => this.ws.edit.setStatus("accepted"), title: "Accept (A)" }, "Accept"),
      h("button", { type: "button", id: "btn-reject", class: "secondary", disabled: w || ann.status === "rejected", onclick: () => this.ws.edit.setStatus("rejected"), title: "Reject (R)" }, "Reject"),
      h("button", { type: "button", id: "btn-delete", class: "danger", disabled: w, onclick: () => this.ws.edit.deleteActive(), title: "Delete (Del)" }, "Delete"));
  }

  meta(ann) {
    return h("p", { class: "muted small" }, `#${ann.id} · `, h("span", { class: `badge st-${ann.status}` }, ann.status), ` · ${ann.source}`,
      ann._conflict ? h("strong", { class: "error" }, " · conflict") : null);
  }

  span(ann) {
    const { ws } = this;
    const cands = ranked(ann.concepts);
    const chosen = chosenConcept(ann);
    return h("div", { class: "sel-span" },
      h("blockquote", { class: "quote" }, ann.text ?? ws.docText(ann)),
      this.meta(ann),
      h("label", { for: "sel-label" }, "Label (1–9)"),
      labelSelect("sel-label", ws.labels.spans, ann.label, (v) => ws.store.update(ann.id, { label: v }), !ws.canWrite),
      h("label", { for: "sel-assertion" }, "Assertion (X toggles negated)"),
      h("select", { id: "sel-assertion", disabled: !ws.canWrite, onchange: (e) => ws.edit.setAssertion(e.target.value) },
        ASSERTIONS.map((a) => h("option", { value: a, selected: a === assertion(ann) }, a))),
      h("fieldset", { class: "cands" }, h("legend", {}, "Concept (Shift+1–9)"),
        cands.length ? cands.map((c, i) => h("label", { class: "cand" },
          h("input", { type: "radio", name: "concept", value: c.id, checked: chosen?.id === c.id, disabled: !ws.canWrite, onchange: () => ws.edit.chooseConcept(i) }),
          h("span", { class: "cid" }, `${c.ontology ? c.ontology + ":" : ""}${c.id}`), ` ${c.name || ""} `,
          c.score != null ? h("span", { class: "muted" }, Number(c.score).toFixed(2)) : null))
          : h("p", { class: "muted small" }, "No candidates.")),
      this.actions(ann));
  }

  region(ann) {
    const { ws } = this;
    const inst = ws.viewer.instances.find((i) => i.id === ann.instance_id);
    const mask = ann.geometry.type === "mask" ? ws.viewer.maskOf(ann) : null;
    return h("div", { class: "sel-region" },
      h("p", {}, h("strong", {}, ann.geometry.type), ` on image ${ws.viewer.instances.indexOf(inst) + 1}, frame ${ann.frame + 1}: `,
        describe(ann.geometry, inst?.pixel_spacing, mask, inst?.rows, inst?.columns)),
      this.meta(ann),
      h("label", { for: "sel-label" }, "Label (1–9)"),
      labelSelect("sel-label", ws.labels.regions, ann.label, (v) => ws.store.update(ann.id, { label: v }), !ws.canWrite),
      this.actions(ann));
  }

  links() {
    const { ws } = this;
    const ul = document.getElementById("links");
    ul.textContent = "";
    const links = ws.store.list("link");
    if (!links.length) ul.append(h("li", { class: "muted small" }, "Select a span and a region, then press L."));
    for (const l of links) {
      const span = ws.store.get(l.source_id);
      const region = ws.store.get(l.target_id);
      if (!span || !region) continue;
      const enter = () => ws.hoverLink(l);
      ul.append(h("li", { class: "link-item", "data-link": l.id, tabindex: 0, onmouseenter: enter, onfocus: enter, onkeydown: activate,
        onmouseleave: () => ws.hoverLink(null), onblur: () => ws.hoverLink(null),
        onclick: () => { ws.select(span.id); ws.viewer.goTo(region.instance_id, region.frame); } },
      h("span", { class: "swatch", style: `--c:${ws.colours(span.label)}` }), `“${(span.text ?? ws.docText(span)).slice(0, 40)}”`,
      h("span", { class: "muted" }, ` ${l.label} → `), `${region.label} ${region.geometry.type}`,
      h("button", { type: "button", class: "small danger", "aria-label": `Delete link ${l.id}`, disabled: !ws.canWrite,
        onclick: (e) => { e.stopPropagation(); ws.store.remove(l.id); } }, "×")));
    }
  }

  regions() {
    const { ws } = this;
    const ul = document.getElementById("regions");
    ul.textContent = "";
    const list = ws.store.list("region");
    if (!list.length) ul.append(h("li", { class: "muted small" }, "Draw with B (box), P (polygon), O (point), F (brush)."));
    for (const r of list) {
      const idx = ws.viewer.instances.findIndex((i) => i.id === r.instance_id);
      ul.append(h("li", { class: `link-item${r.id === ws.active ? " current" : ""}`, tabindex: 0, "data-region": r.id,
        onclick: () => { ws.viewer.goTo(r.instance_id, r.frame); ws.select(r.id); },
        onmouseenter: () => ws.hoverIds(ws.withLinked(r.id)), onfocus: () => ws.hoverIds(ws.withLinked(r.id)),
        onmouseleave: () => ws.hoverIds([]), onblur: () => ws.hoverIds([]), onkeydown: activate },
      h("span", { class: "swatch", style: `--c:${ws.colours(r.label)}` }), `${r.label} ${r.geometry.type}`,
      h("span", { class: "muted" }, ` image ${idx + 1} · frame ${r.frame + 1}`)));
    }
  }
}

export function showConflict(ws) {
  const box = document.getElementById("conflict");
  const c = ws.store.conflicts[0];
  box.hidden = !c;
  if (!c) return;
  const fmt = (v) => (v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v).slice(0, 120) : String(v));
  document.getElementById("conflict-h").textContent = `Someone else ${c.theirs.deleted ? "deleted" : "changed"} this annotation`;
  document.getElementById("conflict-msg").textContent = c.theirs.deleted
    ? `Someone else deleted ${c.theirs.kind || "annotation"} #${c.id} while you were changing it. Keep mine restores it with your changes (as a new annotation, with its links); keep theirs lets it go.`
    : c.mine.deleted
    ? `You deleted ${c.theirs.kind} #${c.id}, but ${c.theirs.source === "user:" + ws.user ? "another session" : "someone else"} changed it first (now version ${c.theirs.version}). Nothing is lost until you choose.`
    : `Your change to ${c.theirs.kind} #${c.id} was not saved because it was changed elsewhere (now version ${c.theirs.version}). Nothing is lost until you choose.`;
  const rows = document.getElementById("conflict-rows");
  rows.textContent = "";
  const local = ws.store.get(c.id) || {};
  const differs = ["label", "status", "start", "end", "geometry", "attributes", "concepts", "frame"]
    .filter((k) => k in c.theirs && JSON.stringify(c.theirs[k]) !== JSON.stringify(local[k]));
  const keys = c.mine.deleted ? ["label", "status"] : [...new Set([...Object.keys(c.mine), ...differs])];
  const theirs = (k) => (c.theirs.deleted ? "(deleted)" : fmt(c.theirs[k]));
  for (const k of keys) rows.append(h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "mine" }, c.mine.deleted ? "(deleted)" : k in c.mine ? fmt(c.mine[k]) : `${fmt(c.theirs[k])} (unchanged by you)`), h("td", { class: "theirs" }, theirs(k))));
  document.getElementById("conflict-both").hidden = !!c.mine.deleted || !!c.theirs.deleted || c.theirs.kind === "link";
  document.getElementById("conflict-mine").focus();
}
