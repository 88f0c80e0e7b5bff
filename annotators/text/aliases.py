"""Extra aliases for an ontology, learnt from the training split of linked corpora, and the knowledge base that
adds them to the ontology's own names.

MeSH descriptor names alone miss most of the ways papers and reports name a concept (`breast cancer` for
Breast Neoplasms). `hilum train aliases` collects the mention strings of training corpora (PubTator: BC5CDR,
NCBI-disease) by their gold id into `data/<ontology>_aliases.json`, with the labels each id was given (CHEMICAL,
FINDING: a prior the linker ranks by) and how often each mention string (lower case) was linked to each id,
composite mentions included (`links`: the linker's string prior, `annotators.text.rerank`); the linker's
`aliases` setting names that file, and `load_generator` builds (once, cached beside the ontology's own build,
keyed by the ontology and the aliases table) a knowledge base of the ontology's concepts plus those aliases — ids
the ontology lacks (MeSH supplementary concepts, OMIM) become concepts named by their mentions. Only training
splits feed it: development sets measure it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from annotators.text.corpora import read_pubtator
from annotators.text.errors import PipelineConfigError

DATA_DIR = Path(__file__).parent / "data"


def collect(paths: Sequence[Path], ontology: str = "mesh") -> dict[str, Any]:
    """The aliases document of the mentions in `paths` that name exactly one id, with the labels (and how
    often) each id was given in them: the linker's prior on which concepts a CHEMICAL or a FINDING names; and
    how often each mention string was linked to each id (every id of a composite mention counts)."""
    aliases: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    links: dict[str, Counter[str]] = defaultdict(Counter)
    for path in paths:
        for doc in read_pubtator(path):
            for mention in doc.mentions:
                text = " ".join(mention.text.split())
                ids = [i.strip() for i in mention.ids if i.strip()]  # a few corpus ids carry stray spaces
                if len(ids) == 1 and text:
                    aliases[ids[0]].add(text)
                for concept_id in ids:
                    labels[concept_id][mention.label] += 1
                    if text:
                        links[text.lower()][concept_id] += 1
    return {
        "ontology": ontology,
        "sources": [path.name for path in paths],
        "aliases": {concept_id: sorted(names) for concept_id, names in sorted(aliases.items())},
        "labels": {concept_id: dict(sorted(counts.items())) for concept_id, counts in sorted(labels.items())},
        "links": {text: dict(sorted(counts.items())) for text, counts in sorted(links.items())},
    }


def read_aliases(path: Path) -> dict[str, list[str]]:
    """The `aliases` table of an aliases file (relative names are looked up in `annotators/text/data`)."""
    path = path if path.is_absolute() else DATA_DIR / path
    try:
        table = json.loads(path.read_text(encoding="utf-8"))["aliases"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipelineConfigError(f"cannot read the aliases file {path}: {exc}") from exc
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise PipelineConfigError(f"{path}: 'aliases' must map concept ids to lists of strings")
    return table


def _counts(path: Path, key: str, what: str) -> dict[str, dict[str, int]]:
    """A table of counts (string → string → int) of an aliases file; empty when the file has none."""
    path = path if path.is_absolute() else DATA_DIR / path
    try:
        table = json.loads(path.read_text(encoding="utf-8")).get(key, {})
    except (OSError, ValueError, AttributeError) as exc:
        raise PipelineConfigError(f"cannot read the aliases file {path}: {exc}") from exc
    if not isinstance(table, dict) or not all(
        isinstance(v, dict) and all(isinstance(n, int) for n in v.values()) for v in table.values()
    ):
        raise PipelineConfigError(f"{path}: {key!r} must map {what}")
    return table


def read_labels(path: Path) -> dict[str, dict[str, int]]:
    """The `labels` table of an aliases file (concept id → label → mentions); empty when the file has none."""
    return _counts(path, "labels", "concept ids to label counts")


def read_links(path: Path) -> dict[str, dict[str, int]]:
    """The `links` table of an aliases file (mention string, lower case → concept id → training mentions);
    empty when the file has none (files written before it existed)."""
    return _counts(path, "links", "mention strings to concept id counts")


def load_generator(name: str, aliases_file: str, build_missing: bool) -> Any:
    """A candidate generator over ontology `name` plus the aliases of `aliases_file` (built once, cached)."""
    from ontologies import kb
    from ontologies.concept import Concept
    from ontologies.linker import load_generator as load_folder
    from ontologies.registry import get_loader

    table = read_aliases(Path(aliases_file))
    loader = get_loader(name)
    digest = hashlib.sha256(
        (loader.fingerprint() + json.dumps(table, sort_keys=True) + kb._builder_key()).encode()
    ).hexdigest()[:16]
    folder = kb.cache_dir() / f"{name}+aliases-{digest}"
    if not (folder / kb.INDEX_FILE).is_file():
        if not build_missing:
            raise PipelineConfigError(f"the knowledge base {folder.name} is not built")
        extra = {k: list(v) for k, v in table.items()}
        concepts = []
        for concept in loader.concepts():
            added = extra.pop(concept.concept_id, [])
            names = [*concept.aliases, *added]  # types and definition kept: a typed ontology's linker filters by type
            concepts.append(
                Concept.create(concept.concept_id, concept.canonical_name, names, concept.types, concept.definition)
            )
        concepts += [Concept.create(i, names[0], names[1:]) for i, names in sorted(extra.items()) if names]
        staging = folder.with_name(f".{folder.name}.building-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            kb.write_kb(concepts, staging)
            staging.rename(folder)
        except OSError:  # another process finished the same build first
            if not (folder / kb.INDEX_FILE).is_file():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return load_folder(folder)


def entity_linker(  # noqa: ANN201
    name: str, threshold: float, top_k: int, neighbours: int, build_missing: bool, aliases: str | None
):
    """scispaCy's `EntityLinker` over ontology `name`, plus the aliases of the file `aliases` when one is given
    (`filter_for_definitions` off: the built knowledge bases mostly lack definitions)."""
    from ontologies import kb
    from ontologies.concept import OntologyError

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Importing 'parser\.split_arg_string'", DeprecationWarning)
        from scispacy.linking import EntityLinker
    try:
        if aliases:
            generator = load_generator(name, aliases, build_missing)
        else:
            if build_missing:
                kb.build(name)
            generator = kb.load_candidate_generator(name)
    except OntologyError as exc:
        raise PipelineConfigError(f"linking to {name!r}: {exc}") from exc
    return EntityLinker(
        candidate_generator=generator,
        resolve_abbreviations=True,
        k=neighbours,
        threshold=threshold,
        filter_for_definitions=False,
        max_entities_per_mention=top_k,
    )


def lower_aliases(kb: Any) -> dict[str, set[str]]:
    """A knowledge base's names and aliases in lower case → the concept ids that have them (the linker's exact
    lookup beside the approximate index)."""
    table: dict[str, set[str]] = {}
    for alias, ids in kb.alias_to_cuis.items():
        table.setdefault(alias.lower(), set()).update(ids)
    return table
