// Selecting report text by keyboard: a word caret. With the report focused, ← → move it a word (a run of letters
// and digits such as "2.3" or "right", or one punctuation mark) and select that word, ↑ ↓ go to the nearest word
// on the line above or below, Home / End to the line's first or last word (Ctrl: the document's); Shift extends
// the selection instead. The selection is the page's own text selection, so N, 1–9 and E act on it as on one
// made with the mouse. The word under the caret is marked on screen, and a live region reads the selection out.
const WORD = /[\p{L}\p{N}]+(?:[.,'’/-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;
const MAX_SAID = 80;

const lineStart = (text, off) => text.lastIndexOf("\n", off - 1) + 1;

export class TextCaret {
  constructor(ws) {
    this.ws = ws;
    this.doc = null;
    this.words = []; // [start, end) character offsets
    this.anchor = this.focus = -1; // word indices; -1: no caret yet
    this.made = null; // the [start, end] this caret last selected
    this.span = null; // the span selected when it did
  }

  word(delta, extend) { if (this.sync(delta)) this.moveTo(this.focus + delta, extend); }

  line(delta, extend) {
    if (!this.sync(delta)) return;
    const { words } = this;
    const text = this.doc.text;
    const here = lineStart(text, words[this.focus][0]);
    const column = words[this.focus][0] - here;
    let i = this.focus;
    while (i >= 0 && i < words.length && lineStart(text, words[i][0]) === here) i += delta;
    if (i < 0 || i >= words.length) { this.moveTo(delta < 0 ? 0 : words.length - 1, extend); return; }
    const there = lineStart(text, words[i][0]);
    let best = i;
    for (let j = i; j >= 0 && j < words.length && lineStart(text, words[j][0]) === there; j += delta) {
      if (Math.abs(words[j][0] - there - column) < Math.abs(words[best][0] - there - column)) best = j;
    }
    this.moveTo(best, extend);
  }

  edge(delta, extend, whole) { // the first (-1) or last (+1) word of the line, or of the document
    if (!this.sync(delta)) return;
    const { words } = this;
    if (whole) { this.moveTo(delta < 0 ? 0 : words.length - 1, extend); return; }
    const text = this.doc.text;
    const here = lineStart(text, words[this.focus][0]);
    let i = this.focus;
    while (i + delta >= 0 && i + delta < words.length && lineStart(text, words[i + delta][0]) === here) i += delta;
    this.moveTo(i, extend);
  }

  // The words of the shown document, and where the caret stands: the text selection if the user made one since,
  // else the words of a span selected since (J / K, a click), else the caret's last place. False (and the caret
  // put on the first word, or the last for a move back) when there was no caret yet: the first key only places it.
  sync(delta) {
    const { ws } = this;
    if (!ws.doc || !ws.text) return false;
    if (ws.doc !== this.doc) {
      this.doc = ws.doc;
      this.words = [...ws.doc.text.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length]);
      this.anchor = this.focus = -1;
      this.made = null;
    }
    if (!this.words.length) return false;
    const raw = ws.text.rawSelection();
    if (raw && String(raw) !== String(this.made)) { // a selection made with the mouse: the caret takes it
      const [a, b] = raw[0] <= raw[1] ? raw : [raw[1], raw[0]];
      const first = this.words.findIndex(([, e]) => e > a);
      const last = this.words.findLastIndex(([s]) => s < b);
      if (first >= 0 && last >= first) { this.anchor = first; this.focus = last; return true; }
    }
    const span = ws.store.get(ws.selSpan);
    if (span && span.id !== ws.store.get(this.span)?.id && span.document_id === ws.doc.id) {
      const first = this.words.findIndex(([, e]) => e > span.start);
      const last = this.words.findLastIndex(([s]) => s < span.end);
      if (first >= 0 && last >= first) { this.anchor = first; this.focus = last; return true; }
    }
    if (this.focus >= 0) return true;
    this.moveTo(delta < 0 ? this.words.length - 1 : 0, false);
    return false;
  }

  moveTo(i, extend) {
    const { ws, words } = this;
    this.focus = Math.max(0, Math.min(words.length - 1, i));
    if (!extend) this.anchor = this.focus;
    const [lo, hi] = [Math.min(this.anchor, this.focus), Math.max(this.anchor, this.focus)];
    const [start, end] = [words[lo][0], words[hi][1]];
    ws.text.setSelection(start, end);
    this.made = [start, end];
    this.span = ws.selSpan;
    ws.text.setCaret(...words[this.focus]);
    ws.edit.offerSpan();
    this.say(start, end, hi - lo + 1);
  }

  say(start, end, count) {
    const { ws } = this;
    let text = this.doc.text.slice(start, end).replace(/\s+/g, " ");
    if (text.length > MAX_SAID) text = `${text.slice(0, MAX_SAID)}…`;
    const inside = ws.text.spans().filter((s) => s.start <= start && s.end >= end).map((s) => s.label);
    const label = document.getElementById("new-span-label").value;
    document.getElementById("caret-status").textContent = `“${text}” selected${count > 1 ? ` (${count} words)` : ""}` +
      (inside.length ? `, inside a ${inside.at(-1)} span` : "") + (ws.canWrite && label ? `. N adds a ${label} span.` : ".");
  }
}
