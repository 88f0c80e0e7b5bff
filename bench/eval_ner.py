"""NER strict mention F1 per label and MeSH linking accuracy@1/@5 on PubTator development sets.

    .venv/bin/python bench/eval_ner.py ../shared/eval/bc5cdr
    .venv/bin/python bench/eval_ner.py ../shared/eval/ncbi-disease
    .venv/bin/python bench/eval_ner.py ../shared/eval            # every corpus below the folder

NER: a predicted mention counts when its offsets and label equal a gold mention's (strict). Labels are Hilum's:
BC5CDR Chemical → CHEMICAL, Disease → FINDING; every NCBI-disease class → FINDING (NCBI does not annotate
chemicals, so CHEMICAL is not scored there). Two rows per corpus: the shipped statistical model alone
(`hilum_statistical_ner`), and the whole pipeline's entities (model + ontology matcher combined).
Linking: every gold mention with an id is linked by the pipeline's `hilum_linker` restricted to MeSH
(abbreviations resolved by `hilum_abbreviations` first); right at k when a gold id (spaces stripped: a few ids
carry one) is among the first k.
Exits 0 with a note when the folder is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine, table  # noqa: E402


def corpora_below(folder: Path) -> list[tuple[str, Path]]:
    """(name, development file) for each PubTator corpus at or below `folder`."""
    from annotators.text.corpora import find_pubtator_pair

    found = []
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        pair = find_pubtator_pair(candidate)
        if pair is not None:
            found.append((candidate.name, pair[1]))
    return found


def prf(tp: int, npred: int, ngold: int) -> tuple[float, float, float]:
    p = tp / npred if npred else 0.0
    r = tp / ngold if ngold else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def score_ner(gold: list[set[tuple[int, int, str]]], pred: list[set[tuple[int, int, str]]], labels: list[str]):  # noqa: ANN201
    rows = []
    for label in [*labels, "ALL"]:
        tp = npred = ngold = 0
        for g, p in zip(gold, pred, strict=True):
            g = {m for m in g if label in ("ALL", m[2])}
            p = {m for m in p if m[2] in labels and label in ("ALL", m[2])}
            tp, npred, ngold = tp + len(g & p), npred + len(p), ngold + len(g)
        rows.append((label, ngold, *prf(tp, npred, ngold)))
    return rows


def evaluate(name: str, dev: Path) -> None:
    """Print NER and linking figures for one corpus."""
    from annotators.text.corpora import read_pubtator
    from annotators.text.pipeline import build, get_pipeline, load_config, validate

    docs = read_pubtator(dev)
    labels = sorted({m.label for d in docs for m in d.mentions})
    gold = [{(m.start, m.end, m.label) for m in d.mentions} for d in docs]
    nlp = get_pipeline()
    started = time.monotonic()
    model_pred, pipe_pred = [], []
    for doc in nlp.pipe((d.text for d in docs), batch_size=32):
        model_pred.append({(s.start_char, s.end_char, s.label_) for s in doc.spans.get("hilum_ner", [])})
        pipe_pred.append({(e.start_char, e.end_char, e.label_) for e in doc.ents})
    seconds = time.monotonic() - started
    words = sum(len(d.text.split()) for d in docs)
    print(f"\n{name}: {len(docs)} development documents, {sum(map(len, gold))} gold mentions "
          f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(m[2] for g in gold for m in g).items()))}); "
          f"pipeline {words / seconds:,.0f} words/s")  # fmt: skip
    rows = [["source", "label", "gold", "P", "R", "F1"]]
    for source, pred in (("statistical model", model_pred), ("whole pipeline", pipe_pred)):
        for label, ngold, p, r, f in score_ner(gold, pred, labels):
            rows.append([source, label, str(ngold), f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"])
    print(table(rows))

    # linking of gold mentions: abbreviations, then the linker restricted to MeSH
    base = load_config()
    settings = {k: v for k, v in base.settings.get("hilum_linker", {}).items() if k != "ontologies"}
    settings["ontologies"] = {label: ["mesh"] for label in labels}
    components = ["hilum_sentences", "hilum_abbreviations", "hilum_measurements", "hilum_entities", "hilum_linker"]
    linker_nlp = build(validate({"components": components, "settings": {"hilum_linker": settings}}))
    from spacy.tokens import Span

    at1 = at5 = total = 0
    per_label: Counter[str] = Counter()
    per_label_ok: Counter[str] = Counter()
    texts = (d.text for d in docs)
    prepared = linker_nlp.pipe(texts, disable=["hilum_measurements", "hilum_entities", "hilum_linker"])
    for item, doc in zip(docs, prepared, strict=True):
        ents = []
        for m in item.mentions:
            if m.ids:
                span = doc.char_span(m.start, m.end, m.label, alignment_mode="expand")
                if span is not None:
                    ents.append((span, m))
        linker = linker_nlp.get_pipe("hilum_linker")
        spans = [Span(doc, s.start, s.end, s.label_) for s, _ in ents]
        doc.spans["gold"] = spans
        linker.link_spans(spans)
        for (_span, mention), linked in zip(ents, spans, strict=True):
            ids = [c.concept_id for c in linked._.hilum_concepts or [] if c.ontology == "mesh"]
            gold_ids = {i.strip() for i in mention.ids}  # a few corpus ids carry stray spaces (` D008661`)
            total += 1
            per_label[mention.label] += 1
            ok1 = bool(ids) and ids[0] in gold_ids
            at1 += ok1
            per_label_ok[mention.label] += ok1
            at5 += any(i in gold_ids for i in ids[:5])
    print(f"linking (MeSH, abbreviations resolved): {total} gold mentions with ids: acc@1 {at1 / total:.3f}  "
          f"acc@5 {at5 / total:.3f}  (" + ", ".join(f"{k} acc@1 {per_label_ok[k] / v:.3f}" for k, v in
                                                  sorted(per_label.items())) + ")")  # fmt: skip


def main() -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a PubTator corpus folder (or a folder of them)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: {args.corpus} does not exist")
        return 0
    corpora = corpora_below(args.corpus)
    if not corpora:
        print(f"skipped: no PubTator training + development pair at or below {args.corpus}")
        return 0
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from annotators.text.shipped import model_version

    print(f"hilum_ner@{model_version()}; {machine()}")
    for name, dev in corpora:
        evaluate(name, dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
