"""Report-level recall and precision of present findings against the MeSH column of the IU chest X-ray reports.

    .venv/bin/python bench/eval_iu.py ../shared/eval/iu-cxr-dev/reports.csv [--show 5]

Each report is annotated as `INDICATION: ...\\nCOMPARISON: ...\\nFINDINGS: ...\\nIMPRESSION: ...`. Predicted
findings are the FINDING and DEVICE entities of the findings and impression sections whose assertion is not negated,
hypothetical, family or uncertain: the IU coders leave findings a report only suspects ("possibly atelectasis or
scarring") uncoded, so the main row does not count them as present. The row that counts uncertain findings too (the
main row until issue 3's round 2) is printed next, then one counting `present` only. Gold: the headings of the MeSH
column (`Opacity/lung/base/left` → `opacity`; `normal` and `No Indexing` are no finding); the lexicon's statements
of normality (type NORMAL: `normal chest`, `clear lungs`, ...) are not findings. An entity's names are every name of
its best radiology-lexicon concept and of that concept's broader concepts (`pleural thickening` is a `thickening`),
the MeSH descriptors the lexicon maps them to, and its best MeSH concept when it scores at least 0.8; the names of
the anatomy attached to it as its location count too (`Pulmonary Artery/enlarged`). Per report, a gold heading is
recalled when some predicted entity has it among its names — or, for a heading that is an anatomy of the radiology
lexicon (`Lung/hypoinflation`, `Aorta/tortuous`: the IU coders put the finding in the first modifier when MeSH has
no heading for it; a side, `left`/`right`/`bilateral`, is skipped: `Diaphragm/left/elevated` → `elevated`), when a
name contains that modifier as a whole word — and a predicted entity is correct when it matches a gold heading so;
both are summed over reports (micro-averaged). A last row matches headings only (no modifier rule), with the main
row's assertions.
Exits 0 with a note when the file is absent.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine  # noqa: E402

NOT_PRESENT = {"negated", "hypothetical", "family", "uncertain"}
OLD_NOT_PRESENT = {"negated", "hypothetical", "family"}  # the main row's until issue 3's round 2
NO_FINDING = {"normal", "no indexing"}
SIDES = {"left", "right", "bilateral"}
MESH_MIN_SCORE = 0.8


def report_text(row: dict[str, str]) -> str:
    parts = [("INDICATION", row.get("indication")), ("COMPARISON", row.get("comparison")),
             ("FINDINGS", row.get("findings")), ("IMPRESSION", row.get("impression"))]  # fmt: skip
    return "\n".join(f"{name}: {value.strip()}" for name, value in parts if value and value.strip())


def gold_terms(mesh: str, anatomy: set[str]) -> dict[str, set[str]]:
    """Heading → the modifiers that name its finding: when the heading is an anatomy (`Lung/hypoinflation`,
    `Aorta/tortuous`), its first modifier that is not a side; otherwise none."""
    terms: dict[str, set[str]] = {}
    for term in mesh.split(";"):
        parts = [p.strip().lower() for p in term.split("/") if p.strip()]
        if not parts or parts[0] in NO_FINDING:
            continue
        modifiers = terms.setdefault(parts[0], set())
        named = [p for p in parts[1:] if p not in SIDES]
        if parts[0] in anatomy and named:
            modifiers.add(named[0])
    return terms


def names_match(heading: str, modifiers: set[str], names: set[str]) -> bool:
    """The heading matches a name exactly; a modifier also as a whole word of a name (`tortuous aorta`)."""
    return heading in names or any(m in names or any(m in n.split() for n in names) for m in modifiers)


class Namer:
    """All names of an entity's concepts (see the module docstring)."""

    def __init__(self) -> None:
        from ontologies.lexicon import RadiologyLexiconLoader
        from ontologies.packaged import MeshLoader

        loader = RadiologyLexiconLoader()
        self.lexicon = {c.concept_id: {c.canonical_name.lower(), *(a.lower() for a in c.aliases)}
                        for c in loader.concepts()}  # fmt: skip
        mesh_names = {c.concept_id: c.canonical_name.lower() for c in MeshLoader().concepts()}
        anatomy_ids = {c.concept_id for c in loader.concepts() if c.types[:1] == ("ANATOMY",)}
        mapping = loader.mesh_mapping()
        self.anatomy = {n for i in anatomy_ids for n in self.lexicon[i]}  # the lexicon's anatomy names
        self.anatomy |= {mesh_names[mapping[i]] for i in anatomy_ids if mapping.get(i) in mesh_names}
        self.lexicon_mesh = {k: mesh_names[v] for k, v in loader.mesh_mapping().items() if v in mesh_names}
        self.broader = loader.broader()
        self.normal = {c.concept_id for c in loader.concepts() if "NORMAL" in c.types}

    def names(self, ent: Any) -> set[str]:
        found: set[str] = set()
        concepts = ent._.hilum_concepts or []
        radiology = next((c for c in concepts if c.ontology == "radiology"), None)
        mesh = next((c for c in concepts if c.ontology == "mesh"), None)
        if radiology is not None:
            for concept_id in (radiology.concept_id, *self.broader.get(radiology.concept_id, ())):
                found |= self.lexicon.get(concept_id, set())
                if concept_id in self.lexicon_mesh:
                    found.add(self.lexicon_mesh[concept_id])
        if mesh is not None and mesh.score >= MESH_MIN_SCORE:
            found.add(mesh.name.lower())
        return found


def predicted(doc: Any, namer: Namer, excluded: set[str]) -> list[set[str]]:
    """Names of each predicted finding (with its location's names) of the findings and impression sections."""
    anatomy = [e for e in doc.ents if e.label_ == "ANATOMY"]
    out = []
    for ent in doc.ents:
        if ent.label_ not in ("FINDING", "DEVICE") or ent._.hilum_section not in ("findings", "impression"):
            continue
        if ent._.hilum_assertion in excluded or ent.kb_id_ in namer.normal:
            continue
        names = namer.names(ent)
        for location in ent._.hilum_location or []:
            near = [a for a in anatomy if a.text == location and a.sent.start == ent.sent.start]
            for a in near[:1]:
                names |= namer.names(a)
        out.append(names)
    return out


def main() -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path)
    parser.add_argument("--show", type=int, default=0, help="print the most frequent misses and false alarms")
    args = parser.parse_args()
    if not args.reports.is_file():
        print(f"skipped: {args.reports} does not exist")
        return 0
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from annotators.text.pipeline import get_pipeline

    with open(args.reports, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    nlp = get_pipeline()
    namer = Namer()
    texts = [report_text(r) for r in rows]
    started = time.monotonic()
    docs = list(nlp.pipe(texts, batch_size=32))
    seconds = time.monotonic() - started
    print(f"{len(rows)} reports in {seconds:.1f} s; {machine()}")
    variants = [
        ("not negated/hypoth./family/uncertain", NOT_PRESENT, namer.anatomy),
        ("uncertain counted too (old main row)", OLD_NOT_PRESENT, namer.anatomy),
        ("present only", NOT_PRESENT | {"historical"}, namer.anatomy),
        ("main row's, headings only", NOT_PRESENT, set()),
    ]
    for label, excluded, anatomy in variants:
        tp_gold = n_gold = tp_pred = n_pred = 0
        missed: Counter[str] = Counter()
        alarms: Counter[str] = Counter()
        for row, doc in zip(rows, docs, strict=True):
            gold = gold_terms(row["MeSH"], anatomy)
            found = predicted(doc, namer, excluded)
            for heading, modifiers in gold.items():
                hit = any(names_match(heading, modifiers, names) for names in found)
                tp_gold += hit
                if not hit:
                    missed[heading] += 1
            n_gold += len(gold)
            for names in found:
                n_pred += 1
                if any(names_match(h, m, names) for h, m in gold.items()):
                    tp_pred += 1
                else:
                    alarms[min(names) if names else "(unlinked)"] += 1
        recall = tp_gold / n_gold if n_gold else 0.0
        precision = tp_pred / n_pred if n_pred else 0.0
        print(f"{label:37s} recall {recall:.3f} ({tp_gold}/{n_gold} gold headings)  "
              f"precision {precision:.3f} ({tp_pred}/{n_pred} predicted findings)")  # fmt: skip
        if args.show:
            print("  most missed:", ", ".join(f"{k} {v}" for k, v in missed.most_common(args.show)))
            print("  most false alarms:", ", ".join(f"{k} {v}" for k, v in alarms.most_common(args.show)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
