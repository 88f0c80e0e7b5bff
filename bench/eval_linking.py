"""Linking accuracy@1/@5 of gold PubTator mentions (BC5CDR, NCBI-disease development sets) to MeSH.

    .venv/bin/python bench/eval_linking.py ../shared/eval          # every corpus found below the folder
    .venv/bin/python bench/eval_linking.py ../shared/eval/bc5cdr   # one corpus

For each corpus with a training and a development PubTator file, three set-ups are measured on the development
mentions that have a gold id: (1) MeSH descriptor names only; (2) plus the training set's mention strings as
aliases of their gold ids (ids missing from the descriptor list, e.g. supplementary concepts and OMIM, become
concepts named by their training mentions); (3) as (2), with abbreviations found in the document (scispaCy's
AbbreviationDetector) replaced by their long form before lookup. A mention is right at k when one of its gold ids
(composite mentions have several) is among the first k concepts. Exits 0 with a note when the folder is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Mention:
    """One gold mention: its document, offsets, text and gold ids."""

    pmid: str
    start: int
    end: int
    text: str
    ids: tuple[str, ...]


def read_pubtator(path: Path) -> tuple[dict[str, str], list[Mention]]:
    """Documents (title + ' ' + abstract) and the mentions that carry at least one id."""
    texts: dict[str, list[str]] = defaultdict(list)
    mentions: list[Mention] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "|t|" in line[:20] or "|a|" in line[:20]:
            pmid, _kind, text = line.split("|", 2)
            texts[pmid].append(text)
            continue
        fields = line.split("\t")
        if len(fields) < 6:
            continue
        ids = tuple(i for i in fields[5].replace("+", "|").split("|") if i and i != "-1")
        if ids:
            mentions.append(Mention(fields[0], int(fields[1]), int(fields[2]), fields[3], ids))
    return {pmid: " ".join(parts) for pmid, parts in texts.items()}, mentions


def find_corpora(folder: Path) -> list[tuple[str, Path, Path]]:
    """(name, training file, development file) for each corpus below `folder`."""
    found = []
    for train in sorted(folder.rglob("*")):
        lowered = train.name.lower()
        if not train.is_file() or not ("train" in lowered and (".pubtator" in lowered or "corpus" in lowered)):
            continue
        dev = next(
            (p for p in train.parent.iterdir() if "develop" in p.name.lower() and p.suffix == train.suffix), None
        )
        if dev is not None:
            found.append((train.parent.name, train, dev))
    return found


def concepts_for(mesh: list, training: Iterable[Mention] | None) -> list:  # noqa: ANN001
    """MeSH concepts, plus the training mentions as aliases (and as new concepts for ids MeSH lacks)."""
    from ontologies.concept import Concept

    extra: dict[str, list[str]] = defaultdict(list)
    for mention in training or []:
        if len(mention.ids) == 1:  # composite mentions name several concepts at once: not an alias of one
            extra[mention.ids[0]].append(mention.text)
    result = []
    for concept in mesh:
        aliases = list(concept.aliases) + extra.pop(concept.concept_id, [])
        result.append(Concept.create(concept.concept_id, concept.canonical_name, aliases))
    for concept_id, names in sorted(extra.items()):
        result.append(Concept.create(concept_id, names[0], names[1:]))
    return result


def long_forms(texts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per document, short form → long form, from scispaCy's AbbreviationDetector over a blank English pipeline."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import spacy
        from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    nlp = spacy.blank("en")
    nlp.add_pipe("abbreviation_detector")
    found: dict[str, dict[str, str]] = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"\[W036\]", UserWarning)  # the detector's optional global matcher
        for pmid, doc in zip(texts, nlp.pipe(texts.values(), batch_size=64), strict=True):
            found[pmid] = {abbr.text: abbr._.long_form.text for abbr in doc._.abbreviations}
    return found


def accuracy(generator, mentions: list[Mention], queries: list[str]) -> tuple[float, float]:  # noqa: ANN001
    """accuracy@1 and @5 of the ranked candidates for `queries` (one per mention)."""
    at1 = at5 = 0
    for start in range(0, len(queries), 512):
        batch = generator.rank(queries[start : start + 512], k=30, limit=5)
        for mention, ranked in zip(mentions[start : start + 512], batch, strict=True):
            ids = [candidate.concept_id for candidate in ranked]
            at1 += bool(ids) and ids[0] in mention.ids
            at5 += any(i in mention.ids for i in ids)
    return at1 / len(mentions), at5 / len(mentions)


def evaluate(name: str, train: Path, dev: Path, mesh: list, workdir: Path) -> None:  # noqa: ANN001
    """Print the three set-ups for one corpus."""
    from ontologies.kb import write_kb
    from ontologies.linker import load_generator

    _train_texts, train_mentions = read_pubtator(train)
    dev_texts, dev_mentions = read_pubtator(dev)
    plain = [m.text for m in dev_mentions]
    abbreviations = long_forms(dev_texts)
    expanded = [abbreviations.get(m.pmid, {}).get(m.text, m.text) for m in dev_mentions]
    print(f"{name}: {len(dev_mentions)} development mentions with ids, {len(train_mentions)} training mentions")
    for label, training, queries in [
        ("MeSH names only", None, plain),
        ("+ training mentions as aliases", train_mentions, plain),
        ("+ abbreviations resolved", train_mentions, expanded),
    ]:
        folder = workdir / f"{name}-{'train' if training else 'names'}"  # set-ups 2 and 3 share one index
        if not folder.exists():
            started = time.monotonic()
            count, aliases = write_kb(concepts_for(mesh, training), folder)
            print(f"  built {count} concepts / {aliases} aliases in {time.monotonic() - started:.0f} s")
        at1, at5 = accuracy(load_generator(folder), dev_mentions, queries)
        print(f"  {label:34s} acc@1 {at1:.3f}  acc@5 {at5:.3f}")


def main() -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir", type=Path)
    args = parser.parse_args()
    if not args.corpus_dir.is_dir():
        print(f"skipped: {args.corpus_dir} does not exist")
        return 0
    corpora = find_corpora(args.corpus_dir)
    if not corpora:
        print(f"skipped: no training + development PubTator pair below {args.corpus_dir}")
        return 0
    from ontologies.packaged import MeshLoader

    mesh = list(MeshLoader().concepts())
    with tempfile.TemporaryDirectory(prefix="hilum-linking-") as tmp:
        for name, train, dev in corpora:
            evaluate(name, train, dev, mesh, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
