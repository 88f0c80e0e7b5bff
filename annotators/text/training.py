"""Train the statistical NER model that ships in the package (`hilum train ner`).

Reproducible: a fixed seed, a fixed configuration (`training_config`), corpora read by `annotators.text.corpora`
and tokenized by the clinical tokenizer the pipeline uses. Corpora that annotate only some labels (NCBI-disease
has diseases, not chemicals) do not teach the model that the other labels' mentions are plain words: where a
string that another corpus annotates with a label missing here occurs, its tokens are marked *missing*
(neither entity nor outside). Training augments case (ALL CAPS and lower case copies of some documents) so that
radiology reports written in capitals still look familiar. `static_vectors=1` adds en_core_web_md's word vectors
to the token features (`annotators.text.vectors`: loaded from the installed package, not shipped twice). The
configuration and its settings are in `annotators.text.training_config`.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from annotators.text.corpora import AnnotatedText, read_corpus
from annotators.text.errors import CorpusError
from annotators.text.tokenizer import clinical_tokenizer
from annotators.text.training_config import training_config
from annotators.text.vectors import vectors_before_init


def _case_variant(nlp: Any, example: Any, change: Callable[[str], str]) -> Any:
    """A copy of `example` with its text (and tokens) changed by `change`; None when offsets would move."""
    from spacy.tokens import Doc, Span
    from spacy.training import Example

    reference = example.reference
    words = [change(token.text) for token in reference]
    if any(len(new) != len(token.text) for new, token in zip(words, reference, strict=True)):
        return None
    doc = Doc(nlp.vocab, words=words, spaces=[bool(token.whitespace_) for token in reference])
    ents = [Span(doc, ent.start, ent.end, ent.label_) for ent in reference.ents]
    missing = [Span(doc, token.i, token.i + 1) for token in reference if token.ent_iob == 0]
    doc.set_ents(ents, missing=missing, default="outside")
    return Example(nlp.make_doc(doc.text), doc)


def case_augmenter(upper: float, lower: float) -> Callable[[Any, Any], Iterator[Any]]:
    """Yield every example, plus an ALL CAPS copy with probability `upper` or a lower-case one with `lower`."""

    def augment(nlp: Any, example: Any) -> Iterator[Any]:
        yield example
        draw = random.random()
        change = str.upper if draw < upper else str.lower if draw < upper + lower else None
        if change is not None:
            variant = _case_variant(nlp, example, change)
            if variant is not None:
                yield variant

    return augment


def _register() -> None:
    import spacy

    if "hilum.case_augmenter.v1" not in spacy.registry.augmenters.get_all():
        spacy.registry.augmenters.register("hilum.case_augmenter.v1", func=case_augmenter)
    if "hilum.static_vectors.v1" not in spacy.registry.callbacks.get_all():
        spacy.registry.callbacks.register("hilum.static_vectors.v1", func=vectors_before_init)


def _missing_strings(corpora: Sequence[list[AnnotatedText]]) -> list[tuple[set[str], dict[str, set[str]]]]:
    """Per corpus: the labels it annotates, and lower-cased strings of the labels it lacks (from the others)."""
    labels = [{m.label for doc in corpus for m in doc.mentions} for corpus in corpora]
    strings: dict[str, set[str]] = defaultdict(set)
    for corpus in corpora:
        for doc in corpus:
            for mention in doc.mentions:
                strings[mention.label].add(doc.text[mention.start : mention.end].lower())
    everything = set().union(*labels) if labels else set()
    return [(own, {label: strings[label] for label in everything - own}) for own in labels]


def to_docs(
    nlp: Any, corpus: list[AnnotatedText], absent: dict[str, set[str]], masker: Any = None
) -> tuple[list[Any], int]:
    """spaCy Docs with gold entities (boundaries expanded to tokens) and, for labels this corpus lacks, the
    tokens of their known strings — and of what the `masker` pipeline (an earlier model) predicts with those
    labels — marked missing. Returns the docs and how many mentions were dropped as overlapping another one."""
    from spacy.matcher import PhraseMatcher
    from spacy.util import filter_spans

    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for label, strings in absent.items():
        matcher.add(label, list(nlp.tokenizer.pipe(sorted(strings))))
    docs, dropped = [], 0
    for item in corpus:
        doc = nlp.make_doc(item.text)
        spans = [doc.char_span(m.start, m.end, m.label, alignment_mode="expand") for m in item.mentions]
        kept = filter_spans([s for s in spans if s is not None])
        dropped += len(item.mentions) - len(kept)
        taken = {i for span in kept for i in range(span.start, span.end)}
        found = [(start, end) for _id, start, end in matcher(doc)]
        if masker is not None and absent:
            predicted = masker(item.text)
            for ent in predicted.ents:
                if ent.label_ in absent:
                    span = doc.char_span(ent.start_char, ent.end_char, alignment_mode="expand")
                    if span is not None:
                        found.append((span.start, span.end))
        missing = [doc[start:end] for start, end in found if not taken.intersection(range(start, end))]
        doc.set_ents(kept, missing=filter_spans(missing), default="outside")
        docs.append(doc)
    return docs, dropped


def build_docbins(
    paths: Sequence[Path], folder: Path, name: str, mask_with: Path | None = None
) -> tuple[Path, int, int]:
    """Read `paths`, write one `.spacy` DocBin under `folder`; returns its path, document and mention counts.
    `mask_with`: a trained NER pipeline whose predictions of a label a corpus lacks are marked missing."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    nlp.tokenizer = clinical_tokenizer(nlp)
    corpora = [read_corpus(path) for path in paths]
    if not any(corpora):
        raise CorpusError(f"no documents in {', '.join(map(str, paths))}")
    docbin = DocBin(store_user_data=False)
    mentions = 0
    masker = spacy.load(mask_with) if mask_with is not None else None
    for corpus, (_own, absent) in zip(corpora, _missing_strings(corpora), strict=True):
        docs, _dropped = to_docs(nlp, corpus, absent, masker)
        for doc in docs:
            docbin.add(doc)
            mentions += len(doc.ents)
    out = folder / f"{name}.spacy"
    docbin.to_disk(out)
    return out, sum(len(c) for c in corpora), mentions


def train(
    train_paths: Sequence[Path],
    dev_paths: Sequence[Path],
    output: Path,
    *,
    log: Callable[[str], None] = print,
    mask_with: Path | None = None,
    **settings: Any,
) -> Path:
    """Train the NER model on `train_paths`, choosing the checkpoint on `dev_paths`; returns the best model
    folder (`output/model-best`). `mask_with`: see `build_docbins` (training data only)."""
    from spacy.cli.train import train as spacy_train

    _register()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hilum-train-") as tmp:
        folder = Path(tmp)
        train_file, n_docs, n_mentions = build_docbins(train_paths, folder, "train", mask_with)
        log(f"training: {n_docs} documents, {n_mentions} mentions")
        dev_file, n_docs, n_mentions = build_docbins(dev_paths, folder, "dev")
        log(f"development: {n_docs} documents, {n_mentions} mentions")
        config_path = folder / "config.cfg"
        config_path.write_text(training_config(**settings), encoding="utf-8")
        shutil.copy(config_path, output / "training.cfg")
        spacy_train(config_path, output, overrides={"paths.train": str(train_file), "paths.dev": str(dev_file)})
    best = output / "model-best"
    return best
