"""Named entities from two sources, combined (`hilum_statistical_ner`, `hilum_ontology_matcher`, `hilum_entities`).

- `hilum_statistical_ner`: the spaCy NER model the project trains (`hilum train ner`) and ships in
  `annotators/text/ner_model` (labels CHEMICAL, FINDING); its spans go to `doc.spans["hilum_ner"]`.
- `hilum_ontology_matcher`: a phrase matcher over the radiology lexicon's names, synonyms and plurals (the
  lexicon's and the regular English ones of its names) in any case, and its abbreviations in exact case;
  FINDING, ANATOMY, DEVICE, PROCEDURE spans (with the concept id as `kb_id`) go to `doc.spans["hilum_lexicon"]`,
  laterality modifiers to `doc.spans["hilum_laterality"]`, the other modifiers (`tortuous`, `elevated`) to
  `doc.spans["hilum_modifier_words"]` and every anatomy match, even one inside a longer match, to
  `doc.spans["hilum_anatomy_words"]` (`hilum_observations` reads both).
- `hilum_drug_stems`: words ending in a drug-name stem (`-coxib`, `-micin`) as CHEMICAL, last in priority.
- `hilum_entities` (`annotators.text.combine`): the union into `doc.ents` — longest span first; on equal length
  the lexicon wins for radiology labels and the model for CHEMICAL; a model span that is describing words
  (laterality, size, acuity) plus a lexicon span gives way to the lexicon span, and a model FINDING made of
  lexicon anatomy only (`heart and lungs`) to the anatomy; then (`consistent`, `annotators.text.consistency`)
  what the document implies for itself: short forms of its abbreviations agree with their long forms, and every
  other occurrence of a model entity's text.
  `span._.hilum_source` says which component found each.
"""

import re
import warnings
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from annotators.text.errors import PipelineConfigError
from annotators.text.extensions import register
from annotators.text.shipped import MODEL_DIR, model_version
from annotators.text.vectors import load_static_vectors, uses_static_vectors

LEXICON_LABELS = ("FINDING", "ANATOMY", "DEVICE", "PROCEDURE")
NER_KEY, LEXICON_KEY, STEMS_KEY = "hilum_ner", "hilum_lexicon", "hilum_stems"
LATERALITY_KEY, MEASUREMENT_KEY = "hilum_laterality", "hilum_measurements"
MODIFIER_KEY, ANATOMY_KEY = "hilum_modifier_words", "hilum_anatomy_words"
LEXICON_VERSION_DEFAULT = "unversioned"


class StatisticalNer:
    """Runs the shipped model's `tok2vec` and `ner` on the pipeline's docs (same vocabulary, same tokenizer)."""

    def __init__(self, nlp: Language, model_path: Path = MODEL_DIR) -> None:
        import spacy

        import annotators.text.tokenizer  # noqa: F401  (registers the tokenizer the model's config names)

        if not (model_path / "config.cfg").is_file():
            raise PipelineConfigError(f"the NER model is missing at {model_path}; run `hilum train ner --install`")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"\[W095\]", UserWarning)  # model trained with another spaCy patch
            self.model = spacy.load(model_path, vocab=nlp.vocab)
        if uses_static_vectors(self.model):
            load_static_vectors(nlp.vocab)
        self.source = f"hilum_ner@{model_version(model_path)}"
        self.labels = tuple(getattr(self.model.get_pipe("ner"), "labels", ()))

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        saved = [doc.ents for doc in docs]
        for _name, pipe in self.model.pipeline:
            docs = list(pipe.pipe(docs, batch_size=len(docs) or 1))  # type: ignore[attr-defined]
        for doc, before in zip(docs, saved, strict=True):
            found = [span for span in map(_without_negation, doc.ents) if span is not None and not _placeholder(span)]
            for span in found:
                span._.hilum_source = self.source
            doc.spans[NER_KEY] = found
            doc.ents = before
        return docs

    def __call__(self, doc: Doc) -> Doc:
        """Add the model's entities to `doc.spans["hilum_ner"]`."""
        return self._annotate([doc])[0]

    def pipe(self, docs, batch_size: int = 128):  # noqa: ANN001, ANN201  (spaCy's pipe protocol)
        """Batched version of `__call__`."""
        from spacy.util import minibatch

        for batch in minibatch(docs, size=batch_size):
            yield from self._annotate(list(batch))


NEGATION_WORDS = frozenset({"no", "not", "without", "negative"})
_PLACEHOLDER = re.compile(r"[Xx]{3,}|([*_#])\1{2,}")


def _placeholder(span: Span) -> bool:
    """Whether every word of `span` is a run of X (`XXXX`) or of `*`, `_`, `#`: a de-identification placeholder
    or a blank to fill, never an entity (reports de-identified so write `XXXX` for names and dates)."""
    return all(_PLACEHOLDER.fullmatch(token.text) for token in span)


def _without_negation(span: Span) -> Span | None:
    """The span without leading negation words (`No edema` → `edema`: the negation is `hilum_context`'s to
    read, and it reads triggers outside the entity); None when nothing is left. A CHEMICAL `NO` is nitric oxide
    and stays."""
    start = span.start
    while start < span.end and span.doc[start].lower_ in NEGATION_WORDS and not _nitric_oxide(span, start):
        start += 1
    if start == span.start:
        return span
    return Span(span.doc, start, span.end, label=span.label) if start < span.end else None


def _nitric_oxide(span: Span, i: int) -> bool:
    """Whether token `i` is `NO` the chemical: a one-word CHEMICAL span `NO` in text that is not written in
    capitals (where `NO` is the negation)."""
    if span.label_ != "CHEMICAL" or span.end - span.start != 1 or span.doc[i].text != "NO":
        return False
    letters = [c for c in span.doc.text[:2000] if c.isalpha()]
    return sum(c.isupper() for c in letters) < len(letters) / 2


def plural(phrase: str) -> str:
    """The regular English plural of a phrase's last word (`opacity` → `opacities`, `mass` → `masses`)."""
    head, _, last = phrase.rpartition(" ")
    lower = last.lower()
    if len(last) < 3 or not last.isalpha() or lower.endswith(("ies", "ses", "ae", "ia", "um", "us", "is")):
        return phrase
    if lower.endswith("y") and lower[-2] not in "aeiou":
        last = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "ch", "sh", "z")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def lexicon_patterns(path: Path | None = None) -> tuple[str, list[tuple[str, str, str, bool]]]:
    """(lexicon version, [(label, concept id, phrase, exact_case)]) for the matcher."""
    from ontologies.lexicon import LEXICON_FILE, read_lexicon

    data = read_lexicon(path or LEXICON_FILE)
    patterns: list[tuple[str, str, str, bool]] = []
    for entry in data["concepts"]:
        types = entry["types"]
        label = "LATERALITY" if "LATERALITY" in types else types[0]  # MODIFIER: the other modifiers
        names = [entry["name"], *entry.get("synonyms", [])]
        plurals = [plural(n) for n in names] if label != "MODIFIER" else []
        forms = dict.fromkeys([*names, *entry.get("plurals", []), *plurals])
        for phrase in forms:
            patterns.append((label, entry["id"], phrase, False))
        for phrase in entry.get("abbreviations", []):
            patterns.append((label, entry["id"], phrase, True))
    return str(data.get("version", LEXICON_VERSION_DEFAULT)), patterns


class OntologyMatcher:
    """Phrase matcher over the radiology lexicon (see the module docstring)."""

    def __init__(self, nlp: Language) -> None:
        from spacy.matcher import PhraseMatcher

        version, patterns = lexicon_patterns()
        self.source = f"hilum_ontology_matcher@{version}"
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.keys: dict[int, tuple[str, str]] = {}
        grouped: dict[tuple[str, str, bool], list[str]] = {}
        for label, concept_id, phrase, exact in patterns:
            grouped.setdefault((label, concept_id, exact), []).append(phrase)
        for (label, concept_id, exact), phrases in grouped.items():
            key = f"{label}|{concept_id}"
            self.keys[nlp.vocab.strings.add(key)] = (label, concept_id)
            matcher = self.exact if exact else self.lower
            matcher.add(key, [nlp.make_doc(phrase) for phrase in phrases])

    def __call__(self, doc: Doc) -> Doc:
        """Add lexicon matches to `doc.spans["hilum_lexicon"]` and `doc.spans["hilum_laterality"]`."""
        found: dict[str, list[Span]] = {LEXICON_KEY: [], LATERALITY_KEY: [], MODIFIER_KEY: []}
        for key, start, end in [*self.lower(doc), *self.exact(doc)]:
            label, concept_id = self.keys[key]
            span = Span(doc, start, end, label=label, kb_id=concept_id)
            span._.hilum_source = self.source
            group = LATERALITY_KEY if label == "LATERALITY" else MODIFIER_KEY if label == "MODIFIER" else LEXICON_KEY
            found[group].append(span)
        for group, spans in found.items():
            doc.spans[group] = filter_spans(spans)
        doc.spans[ANATOMY_KEY] = filter_spans([s for s in found[LEXICON_KEY] if s.label_ == "ANATOMY"])
        return doc


# Sources of `doc.ents`, by priority among spans of equal length (longer spans win first).


# Endings of international nonproprietary drug names (WHO INN / USAN stems): a word ending so is a drug.
DRUG_STEMS = (
    "coxib", "profen", "fenac", "oxicam", "cillin", "mycin", "micin", "cycline", "floxacin", "conazole", "azole",
    "navir", "previr", "buvir", "ciclovir", "vudine", "mab", "tinib", "anib", "pril", "prilat", "sartan", "olol",
    "alol", "dipine", "pamil", "vastatin", "fibrate", "gliptin", "glitazone", "gliflozin", "parin", "xaban",
    "gatran", "grel", "prazole", "tidine", "setron", "triptan", "azepam", "zolam", "barbital", "caine",
    "curium", "curonium", "fentanil", "codone", "terol", "sonide", "olone", "asone", "isone", "semide",
    "thiazide", "spirone", "peridol", "perone", "oxetine", "pramine", "triptyline", "serin", "goline",
    "platin", "rubicin", "taxel", "trexate", "dronate", "lukast", "tretinoin", "afil", "idomide", "opride",
    "etine", "apine", "azosin", "tiapine", "oxacin", "quine", "artemether", "moxifen",
)  # fmt: skip
_STEM_RE = re.compile(r"^[a-z][a-z\-]{2,}(?:" + "|".join(sorted(DRUG_STEMS, key=len, reverse=True)) + r")$")
STEMS_SOURCE = "hilum_drug_stems@1"


class DrugStemMatcher:
    """Words ending in a drug-name stem (`etoricoxib`, `netilmicin`) as CHEMICAL candidates: the statistical
    model misses drugs it never saw; their names follow the WHO INN stem conventions."""

    def __call__(self, doc: Doc) -> Doc:
        """Add CHEMICAL spans to `doc.spans["hilum_stems"]`."""
        spans = []
        for token in doc:
            if len(token) >= 6 and not token.is_upper and _STEM_RE.match(token.lower_):
                span = Span(doc, token.i, token.i + 1, label="CHEMICAL")
                span._.hilum_source = STEMS_SOURCE
                spans.append(span)
        doc.spans[STEMS_KEY] = spans
        return doc


@Language.factory("hilum_statistical_ner")
def make_statistical_ner(nlp: Language, name: str) -> StatisticalNer:
    """Factory of the `hilum_statistical_ner` component (loads the shipped model)."""
    register()
    return StatisticalNer(nlp)


@Language.factory("hilum_ontology_matcher")
def make_ontology_matcher(nlp: Language, name: str) -> OntologyMatcher:
    """Factory of the `hilum_ontology_matcher` component."""
    register()
    return OntologyMatcher(nlp)


@Language.factory("hilum_drug_stems")
def make_drug_stems(nlp: Language, name: str) -> DrugStemMatcher:
    """Factory of the `hilum_drug_stems` component."""
    register()
    return DrugStemMatcher()
