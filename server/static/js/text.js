// The report/transcript with its spans: coloured by label, assertion visible, selection → character offsets,
// and transcript words that light up as the dictation plays.
export const ASSERTIONS = ["present", "negated", "uncertain", "historical", "hypothetical", "family"];

export function assertion(ann) {
  const a = ann.attributes || {};
  if (a.assertion) return a.assertion;
  if (a.negated === true) return "negated";
  return "present";
}

// Word timings → character ranges in the text (given, or found in order).
export function alignWords(text, words) {
  const out = [];
  let cursor = 0;
  const lower = text.toLowerCase();
  for (const w of words || []) {
    if (Number.isInteger(w.char_start) && Number.isInteger(w.char_end)) { out.push({ ...w, s: w.char_start, e: w.char_end }); continue; }
    const token = String(w.word || "").trim().toLowerCase();
    if (!token) continue;
    const at = lower.indexOf(token, cursor);
    if (at < 0 || at - cursor > 200) continue;
    out.push({ ...w, s: at, e: at + token.length });
    cursor = at + token.length;
  }
  return out;
}

export class TextView {
  constructor(el, store, colours) {
    this.el = el;
    this.store = store;
    this.colours = colours;
    this.doc = null;
    this.words = [];
    this.selected = null;
    this.hover = new Set();
    this.playing = -1;
    this.caret = null; // [start, end] of the word under the keyboard caret (caret.js)
  }

  setDocument(doc) {
    this.doc = doc;
    this.caret = null;
    this.words = alignWords(doc.text, doc.words);
    this.render();
  }

  spans() {
    if (!this.doc) return [];
    return this.store.list("span").filter((a) => a.document_id === this.doc.id).sort((a, b) => a.start - b.start || b.end - a.end);
  }

  render() {
    const el = this.el;
    const keep = this.rendered === this.doc ? this.rawSelection() : null; // a save must not drop the user's selection
    el.textContent = "";
    this.rendered = this.doc;
    if (!this.doc) return;
    const text = this.doc.text;
    const spans = this.spans();
    const cuts = new Set([0, text.length]);
    for (const s of spans) { cuts.add(s.start); cuts.add(s.end); }
    for (const w of this.words) { cuts.add(w.s); cuts.add(w.e); }
    const points = [...cuts].filter((x) => x >= 0 && x <= text.length).sort((a, b) => a - b);
    const lastSegOf = new Map();
    const frag = document.createDocumentFragment();
    let wi = 0;
    for (let i = 0; i < points.length - 1; i++) {
      const [a, b] = [points[i], points[i + 1]];
      const cover = spans.filter((s) => s.start <= a && s.end >= b);
      while (wi < this.words.length && this.words[wi].e <= a) wi++;
      const word = wi < this.words.length && this.words[wi].s <= a && this.words[wi].e >= b ? wi : -1;
      const seg = document.createElement(cover.length ? "mark" : "span");
      seg.dataset.start = a;
      seg.textContent = text.slice(a, b);
      if (word >= 0) { seg.dataset.word = word; seg.classList.add("word"); }
      if (cover.length) {
        const top = cover.reduce((x, y) => (y.end - y.start < x.end - x.start ? y : x));
        seg.dataset.ids = cover.map((s) => s.id).join(" ");
        seg.dataset.top = top.id;
        seg.className += ` ent st-${top.status} as-${assertion(top)}`;
        if (cover.length > 1) seg.classList.add("nested");
        seg.style.setProperty("--c", this.colours(top.label));
        if (top._conflict) seg.classList.add("conflict");
        for (const s of cover) lastSegOf.set(s.id, seg);
      }
      frag.append(seg);
    }
    for (const s of spans) {
      const seg = lastSegOf.get(s.id);
      if (!seg) continue;
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.setAttribute("aria-hidden", "true");
      tag.dataset.tag = `${assertion(s) === "negated" ? "¬ " : ""}${s.label}${s.status === "proposed" ? "?" : ""}`;
      tag.style.setProperty("--c", this.colours(s.label));
      seg.after(tag);
    }
    el.append(frag);
    this.decorate();
    if (keep) this.setSelection(...keep);
  }

  segsOf(id) {
    return [...this.el.querySelectorAll("mark[data-ids]")].filter((m) => m.dataset.ids.split(" ").includes(String(id)));
  }

  // selection, hover and playing-word classes, and the caret's word, without re-rendering the text
  decorate() {
    for (const m of this.el.querySelectorAll(".sel, .hl")) m.classList.remove("sel", "hl");
    if (this.selected != null) for (const m of this.segsOf(this.selected)) m.classList.add("sel");
    for (const id of this.hover) for (const m of this.segsOf(id)) m.classList.add("hl");
    const range = this.caret && this.rangeOf(...this.caret);
    if (globalThis.Highlight && CSS.highlights) CSS.highlights.set("hilum-caret", range ? new Highlight(range) : new Highlight());
  }

  setCaret(start, end) {
    this.caret = [start, end];
    this.decorate();
    const seg = [...this.el.querySelectorAll("[data-start]")].filter((x) => Number(x.dataset.start) <= start).at(-1);
    seg?.scrollIntoView({ block: "nearest" });
  }

  select(id, scroll = true) {
    this.selected = id;
    this.decorate();
    const first = id != null ? this.segsOf(id)[0] : null;
    if (first && scroll) first.scrollIntoView({ block: "nearest" });
  }

  setHover(ids) { this.hover = new Set(ids); this.decorate(); }

  setPlaying(index) {
    if (index === this.playing) return;
    for (const m of this.el.querySelectorAll(".playing")) m.classList.remove("playing");
    this.playing = index;
    if (index < 0) return;
    const segs = this.el.querySelectorAll(`[data-word="${index}"]`);
    for (const m of segs) m.classList.add("playing");
    segs[0]?.scrollIntoView({ block: "nearest" });
  }

  wordAt(node) {
    const seg = node?.nodeType === 1 ? node.closest("[data-word]") : node?.parentElement?.closest("[data-word]");
    return seg ? this.words[Number(seg.dataset.word)] : null;
  }

  spanAt(node) {
    const seg = node?.nodeType === 1 ? node.closest("mark[data-top]") : node?.parentElement?.closest("mark[data-top]");
    return seg ? this.store.get(isNaN(seg.dataset.top) ? seg.dataset.top : Number(seg.dataset.top)) : null;
  }

  // The current text selection as character offsets in the document (trimmed), or null.
  selection() {
    const raw = this.rawSelection();
    if (!raw) return null;
    let [start, end] = raw;
    if (start > end) [start, end] = [end, start];
    const text = this.doc.text;
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    return end > start ? { start, end, text: text.slice(start, end) } : null;
  }

  // The selection's [start, end] character offsets as selected (untrimmed), if it lies in this document.
  rawSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount || !this.doc) return null;
    const r = sel.getRangeAt(0);
    if (!this.el.contains(r.commonAncestorContainer)) return null;
    const [start, end] = [this.offset(r.startContainer, r.startOffset), this.offset(r.endContainer, r.endOffset)];
    return start == null || end == null ? null : [start, end];
  }

  setSelection(start, end) {
    const range = this.rangeOf(start, end);
    if (!range) return;
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }

  // A DOM range over the document's characters [start, end), or null.
  rangeOf(start, end) {
    const segs = [...this.el.querySelectorAll("[data-start]")];
    const at = (off) => {
      const seg = segs.filter((x) => Number(x.dataset.start) <= off).at(-1);
      return seg?.firstChild ? [seg.firstChild, Math.min(off - Number(seg.dataset.start), seg.textContent.length)] : null;
    };
    const [a, b] = [at(start), at(end)];
    if (!a || !b) return null;
    const range = document.createRange();
    range.setStart(...a);
    range.setEnd(...b);
    return range;
  }

  offset(node, off) {
    if (node.nodeType === 3) {
      const seg = node.parentElement.closest("[data-start]");
      if (!seg) return this.offsetAfterTag(node.parentElement);
      return Number(seg.dataset.start) + off;
    }
    if (node === this.el) {
      const kids = [...this.el.children];
      for (let i = off; i < kids.length; i++) if (kids[i].dataset.start != null) return Number(kids[i].dataset.start);
      return this.doc.text.length;
    }
    const seg = node.closest?.("[data-start]");
    if (seg) return Number(seg.dataset.start) + (off > 0 ? seg.textContent.length : 0);
    return this.offsetAfterTag(node);
  }

  offsetAfterTag(el) {
    let n = el?.nextElementSibling;
    while (n && n.dataset.start == null) n = n.nextElementSibling;
    return n ? Number(n.dataset.start) : this.doc.text.length;
  }
}
