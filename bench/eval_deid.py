"""Evaluate Hilum's text de-identification against vanilla Presidio, in the same run.

    .venv/bin/python bench/eval_deid.py ../shared/eval/deid-nursing-dev \
        [--synth ../shared/eval/presidio-synth-pii] [--iu ../shared/eval/iu-cxr-dev/reports.csv] [--limit N]

Scoring (../shared/eval/README.md): a gold span is caught when every letter and digit in it lies inside some
predicted span (any label); recall = caught / gold, per PHI type; a prediction is a true positive when it
overlaps a gold span; precision = true-positive predictions / predictions; F2 weighs recall 4x. Vanilla
Presidio = `AnalyzerEngine` with its default recognizers and default threshold over the same spaCy model.
A path that does not exist is skipped with a message.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

Spans = list[tuple[int, int]]
Analyzer = Callable[[str], Spans]
# presidio-synth types that are HIPAA Safe Harbor identifiers (ORGANIZATION, TITLE, NRP are not; AGE there
# is any age, so it is reported but left out of the overall figure).
SYNTH_PHI = {
    "PERSON", "STREET_ADDRESS", "GPE", "CREDIT_CARD", "DATE_TIME", "PHONE_NUMBER", "EMAIL_ADDRESS",
    "ZIP_CODE",
    "DOMAIN_NAME", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "US_DRIVER_LICENSE",
}  # fmt: skip


def read_nursing(
    folder: Path,
) -> tuple[dict[tuple[str, str], str], list[tuple[tuple[str, str], int, int, str]]]:
    """Notes keyed by (patient, note) and gold spans `(key, start, end, type)` (PhysioNet deid)."""
    raw = (folder / "id.text").read_text(encoding="utf-8")
    notes = {
        (m[1], m[2]): m[3]
        for m in re.finditer(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", raw, re.S)
    }
    gold = []
    for line in (folder / "id-phi.phrase").read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 5)
        if len(parts) >= 5:
            gold.append(((parts[0], parts[1]), int(parts[2]), int(parts[3]), parts[4]))
    return notes, gold


def caught(text: str, start: int, end: int, covered: bytearray) -> bool:
    """Every letter/digit of text[start:end] lies in a predicted span."""
    return all(covered[i] for i in range(start, end) if text[i].isalnum())


def coverage(text: str, spans: Spans) -> bytearray:
    """A per-character mask of predicted spans."""
    mask = bytearray(len(text) + 1)
    for s, e in spans:
        mask[s:e] = b"\x01" * (e - s)
    return mask


def score_docs(docs: Iterable[tuple[str, list[tuple[int, int, str]]]], analyzers: dict[str, Analyzer]) -> dict:
    """Recall per type, precision, F2 and notes/s of each analyzer over (text, gold spans) documents. The
    analyzers take turns on every document (the order alternating), so that a change in machine load
    between them does not skew the throughput comparison."""
    names = list(analyzers)
    found = {n: Counter() for n in names}
    total: Counter = Counter()
    tp = dict.fromkeys(names, 0)
    npred = dict.fromkeys(names, 0)
    elapsed = dict.fromkeys(names, 0.0)
    ndocs = 0
    for text, gold in docs:
        for kind in (k for _, _, k in gold):
            total[kind] += 1
        for name in names if ndocs % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            pred = analyzers[name](text)
            elapsed[name] += time.perf_counter() - t0
            mask = coverage(text, pred)
            for s, e, kind in gold:
                found[name][kind] += caught(text, s, e, mask)
            npred[name] += len(pred)
            tp[name] += sum(1 for ps, pe in pred if any(ps < e and s < pe for s, e, _ in gold))
        ndocs += 1
    results = {}
    for name in names:
        recall = sum(found[name].values()) / max(1, sum(total.values()))
        precision = tp[name] / max(1, npred[name])
        f2 = 5 * precision * recall / max(1e-9, 4 * precision + recall)
        per_type = {k: (found[name][k], total[k]) for k in sorted(total)}
        results[name] = {"recall": recall, "precision": precision, "f2": f2, "per_type": per_type,
                         "docs_per_s": ndocs / max(elapsed[name], 1e-9), "predictions": npred[name]}  # fmt: skip
    return results


def make_analyzers() -> dict[str, Analyzer]:
    """Hilum's configured engine and vanilla Presidio over the same spaCy model package."""
    from presidio_analyzer import AnalyzerEngine

    from annotators.deid import analyze
    from annotators.deid.config import load_config
    from annotators.deid.engine import load_spacy, spacy_nlp_engine

    config = load_config()
    vanilla = AnalyzerEngine(nlp_engine=spacy_nlp_engine(load_spacy(config.spacy_model), "en"))
    analyze("warm up")
    vanilla.analyze(text="warm up", language="en")
    return {
        "hilum": lambda text: [(s.start, s.end) for s in analyze(text)],
        "presidio": lambda text: [(r.start, r.end) for r in vanilla.analyze(text=text, language="en")],
    }


def report(title: str, results: dict[str, dict], overall_types: set[str] | None = None) -> None:
    """Print per-type recall and the summary figures, one column per analyzer."""
    names = list(results)
    print(f"\n== {title}")
    print(f"{'type':<20}{'n':>6}" + "".join(f"{n:>12}" for n in names))
    first = results[names[0]]["per_type"]
    for kind, (_, n) in first.items():
        print(f"{kind:<20}{n:>6}" + "".join(f"{results[a]['per_type'][kind][0] / n:>12.3f}" for a in names))
    rows: list[tuple[str, Callable[[dict], float]]] = [
        ("recall", lambda r: r["recall"]), ("precision", lambda r: r["precision"]), ("F2", lambda r: r["f2"]),
        ("notes/s", lambda r: r["docs_per_s"]),
    ]  # fmt: skip
    if overall_types:

        def phi_recall(r: dict) -> float:
            hit = sum(v[0] for k, v in r["per_type"].items() if k in overall_types)
            return hit / max(1, sum(v[1] for k, v in r["per_type"].items() if k in overall_types))

        rows.insert(0, ("recall (HIPAA types)", phi_recall))
    for label, fn in rows:
        print(f"{label:<26}" + "".join(f"{fn(results[a]):>12.3f}" for a in names))
    if len(names) == 2:
        a, b = names
        print(f"{'throughput ratio':<26}{results[a]['docs_per_s'] / results[b]['docs_per_s']:>12.2f}x")


def eval_nursing(folder: Path, analyzers: dict[str, Analyzer], limit: int | None) -> None:
    """The PhysioNet nursing notes: recall per PHI type, precision, F2, notes/s."""
    notes, gold = read_nursing(folder)
    by_note: dict[tuple[str, str], list[tuple[int, int, str]]] = {k: [] for k in notes}
    for key, s, e, kind in gold:
        by_note[key].append((s, e, kind))
    docs = [(notes[k], by_note[k]) for k in list(notes)[:limit]]
    results = score_docs(docs, analyzers)
    names = {"HCPName", "PTName", "RelativeProxyName", "PTNameInitial"}
    report(f"deid-nursing-dev: {len(docs)} notes, {sum(len(g) for _, g in docs)} gold spans", results)
    for name, r in results.items():
        hit = sum(v[0] for k, v in r["per_type"].items() if k in names)
        n = sum(v[1] for k, v in r["per_type"].items() if k in names)
        print(f"names recall {name}: {hit / max(1, n):.3f} ({hit}/{n})")


def eval_synth(folder: Path, analyzers: dict[str, Analyzer], limit: int | None) -> None:
    """presidio-research synthetic sentences: recall per PII type (precision is not meaningful there)."""
    rows = json.loads((folder / "synth_dataset_v2.json").read_text(encoding="utf-8"))[:limit]
    docs = [
        (r["full_text"], [(s["start_position"], s["end_position"], s["entity_type"]) for s in r["spans"]]) for r in rows
    ]
    results = score_docs(docs, analyzers)
    report(f"presidio-synth-pii: {len(docs)} sentences", results, SYNTH_PHI)


def eval_iu(path: Path, analyzers: dict[str, Analyzer], limit: int | None) -> None:
    """IU chest X-ray reports, PHI already masked as XXXX: predictions off the masks are false positives."""
    with path.open(encoding="utf-8", newline="") as fh:
        reports = list(csv.DictReader(fh))[:limit]
    texts = [
        "\n".join(f"{f.upper()}: {r[f]}" for f in ("indication", "comparison", "findings", "impression") if r[f])
        for r in reports
    ]
    print(f"\n== iu-cxr-dev: {len(texts)} XXXX-masked reports (false positives = predictions off the masks)")
    for name, fn in analyzers.items():
        fps, with_fp, examples = 0, 0, Counter()
        for text in texts:
            masks = [(m.start(), m.end()) for m in re.finditer(r"X{2,}", text)]
            bad = [(s, e) for s, e in fn(text) if not any(s < me and ms < e for ms, me in masks)]
            fps += len(bad)
            with_fp += bool(bad)
            examples.update(text[s:e] for s, e in bad)
        print(
            f"{name:<10} false positives {fps} ({fps / max(1, len(texts)):.2f}/report), "
            f"reports with any {with_fp}/{len(texts)}; most common: {examples.most_common(8)}"
        )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="deid-nursing-dev folder (id.text, id-phi.phrase)")
    parser.add_argument("--synth", type=Path, help="presidio-synth-pii folder")
    parser.add_argument("--iu", type=Path, help="iu-cxr-dev/reports.csv")
    parser.add_argument("--limit", type=int, help="only the first N documents of each set")
    args = parser.parse_args(argv)
    todo = [(p, fn) for p, fn in ((args.data_dir, eval_nursing), (args.synth, eval_synth), (args.iu, eval_iu)) if p]
    present = [(p, fn) for p, fn in todo if p.exists()]
    for p, _ in todo:
        if not p.exists():
            print(f"skipped: {p} does not exist")
    if not present:
        return 0
    analyzers = make_analyzers()
    for path, fn in present:
        fn(path, analyzers, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
