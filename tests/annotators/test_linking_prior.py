"""Entity linking's use of the training split and of the mention's context: the string prior (`links` of an
aliases file), coordinated mentions looked up conjunct by conjunct, short forms in word coverage, the exact-name
lookup beside the approximate index, and one sense per document.

The linker runs over the radiology lexicon plus a small aliases file (its knowledge base builds in seconds, into
a folder of this module); where a test needs given similarities, the index is replaced by a stub.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ALIASES = {
    "ontology": "radiology",
    "aliases": {"RAD:consolidation": ["white lung"]},
    "labels": {"RAD:consolidation": {"FINDING": 3}},
    "links": {"white lung": {"RAD:consolidation": 1}, "opaque hemithorax": {"RAD:consolidation": 1},
              "opaque lungs": {"RAD:consolidation": 3, "RAD:pleural_effusion": 1, "RAD:thorax": 1}},
}  # fmt: skip


@pytest.fixture(scope="module")
def linker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from annotators.text.extensions import register
    from annotators.text.linking import OntologyLinker

    folder = tmp_path_factory.mktemp("linking-prior")
    aliases = folder / "aliases.json"
    aliases.write_text(json.dumps(ALIASES), encoding="utf-8")
    before = os.environ.get("HILUM_CACHE_DIR")
    os.environ["HILUM_CACHE_DIR"] = str(folder / "cache")
    register()
    try:
        yield OntologyLinker({"FINDING": ["radiology"]}, 0.5, 5, 30, True, {"radiology": str(aliases)})
    finally:
        if before is None:
            del os.environ["HILUM_CACHE_DIR"]
        else:
            os.environ["HILUM_CACHE_DIR"] = before


def spans(*texts: str) -> list[Any]:
    """One FINDING span per text, all in one document."""
    import spacy
    from spacy.tokens import Span

    doc = spacy.blank("en")(" ; ".join(texts))
    found, start = [], 0
    for text in texts:
        length = len(spacy.blank("en")(text))
        found.append(Span(doc, start, start + length, "FINDING"))
        start += length + 1
    return found


def first_ids(linker: Any, ents: list[Any]) -> list[str]:
    linker.link_spans(ents)
    return [ent._.hilum_concepts[0].concept_id for ent in ents]


@pytest.mark.parametrize(
    "text, key",
    [
        ("Breast and ovarian cancers", "breast and ovarian cancer"),
        ("(insulin-dependent) diabetes", "insulin dependent diabete"),  # punctuation, then the plural rule
        ("  Arteries ", "artery"),
        ("--", ""),
    ],
)
def test_mention_keys_ignore_case_punctuation_and_plurals(text: str, key: str) -> None:
    from annotators.text.rerank import mention_key

    assert mention_key(text) == key


def test_the_string_prior_shares_a_strings_training_links_composites_included() -> None:
    from annotators.text.rerank import CorpusPrior

    prior = CorpusPrior()
    prior.add("mesh", {"D1": ["breast cancer"]}, {"D1": {"FINDING": 2}, "D9": {"CHEMICAL": 1}},
              {"breast and ovarian cancer": {"D1": 2, "D2": 2, "D3": 1}, "breast and ovarian cancers": {"D3": 1},
               "breast cancer": {"D1": 1}})  # fmt: skip
    shares = prior.shares(["Breast and Ovarian Cancers"])  # both spellings are one key: 2, 2 and 2 of 6
    assert shares == pytest.approx({("mesh", "D1"): 1 / 3, ("mesh", "D2"): 1 / 3, ("mesh", "D3"): 1 / 3})
    assert prior.shares(["never seen", "breast cancer"]) == {("mesh", "D1"): 1.0}  # the first text known
    assert prior.shares(["never seen"]) == {}
    assert prior.exact(["Breast Cancer"]) == {("mesh", "D1")}
    assert prior.label_score("mesh", "D1", "FINDING") > 0 > prior.label_score("mesh", "D9", "FINDING")
    assert prior.label_score("mesh", "D404", "FINDING") == 0


def test_collect_counts_links_of_every_id_and_strips_stray_spaces(tmp_path: Path) -> None:
    from annotators.text.aliases import collect, read_links

    corpus = tmp_path / "train.txt"
    corpus.write_text(
        "1|t|Breast and ovarian cancer.\n1|a|Breast and ovarian cancer.\n"
        "1\t0\t25\tBreast and ovarian cancer\tDisease\tD001943|D010051\n"
        "1\t27\t52\tBreast and ovarian cancer\tDisease\t D061325\n",
        encoding="utf-8",
    )
    document = collect([corpus])
    assert document["links"] == {"breast and ovarian cancer": {"D001943": 1, "D010051": 1, "D061325": 1}}
    assert document["aliases"] == {"D061325": ["Breast and ovarian cancer"]}
    out = tmp_path / "aliases.json"
    out.write_text(json.dumps(document), encoding="utf-8")
    assert read_links(out) == document["links"]
    out.write_text(json.dumps({"aliases": {}}), encoding="utf-8")
    assert read_links(out) == {}  # files written before links existed


def test_read_links_rejects_a_malformed_table(tmp_path: Path) -> None:
    from annotators.text.aliases import read_links
    from annotators.text.errors import PipelineConfigError

    bad = tmp_path / "aliases.json"
    bad.write_text(json.dumps({"links": {"x": ["D1"]}}), encoding="utf-8")
    with pytest.raises(PipelineConfigError, match="'links'"):
        read_links(bad)


@pytest.mark.parametrize(
    "whole, names, expected",
    [
        ([], ["Receptors, IgE"], 0.0),
        (["IgE"], ["Receptors, IgE"], 0.0),  # a short form's letters say nothing of the name's other words
        (["MESNA"], ["Mesna"], 1.0),  # but a name that is exactly the short form counts
    ],
)
def test_short_forms_cover_only_names_they_are(whole: list[str], names: list[str], expected: float) -> None:
    from annotators.text.rerank import coverage

    assert coverage(["idiopathic generalized epilepsy"], names, whole) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("breast and ovarian cancer", ["breast cancer", "ovarian cancer"]),
        ("breast, ovarian, or other cancers", ["breast cancers", "ovarian cancers", "other cancers"]),
        ("breast and/or ovarian cancer", ["breast cancer", "ovarian cancer"]),
        ("pleural / pericardial effusion", ["pleural effusion", "pericardial effusion"]),
        ("deficits in learning and memory", ["deficits in learning", "deficits in memory"]),
        ("pulmonary and renal insufficiency", ["pulmonary insufficiency", "renal insufficiency"]),
        ("hemorrhagic cystitis", []),  # no coordinator
        ("attention-deficit/hyperactivity disorder", []),  # a name with a slash, not a coordination
        ("sodium, potassium and chloride", []),  # a list of names: nothing shared
        ("increase in heart rate and cardiac output", []),  # several words on both sides
        ("a and b c d e f g h i", []),  # a clause rather than a name
    ],
)
def test_coordinated_mentions_are_split_into_conjuncts(text: str, parts: list[str]) -> None:
    from annotators.text.conjuncts import conjuncts

    assert conjuncts(text) == parts


def test_a_coordinated_mention_is_also_looked_up_conjunct_by_conjunct(linker: Any) -> None:
    from annotators.text.linking import CONJUNCT_WEIGHT

    [ent] = spans("pleural and pericardial effusion")
    queries = linker.queries(ent)  # MeSH only: the radiology lexicon names coordinated findings as reports do
    assert ("pleural effusion", CONJUNCT_WEIGHT, "mesh") in queries
    assert ("pericardial effusion", CONJUNCT_WEIGHT, "mesh") in queries
    [ent] = spans("pleural effusion")
    assert all(weight == 1.0 for _text, weight, _only in linker.queries(ent))


def test_the_training_links_of_a_string_rank_and_offer_concepts(linker: Any) -> None:
    # the index finds nothing close for either text; the training split linked them to consolidation
    assert first_ids(linker, spans("opaque hemithorax")) == ["RAD:consolidation"]
    [ent] = spans("Opaque  lung")  # case, spacing and plural aside
    linker.link_spans([ent])
    ids = [c.concept_id for c in ent._.hilum_concepts]
    assert ids[0] == "RAD:consolidation" and "RAD:pleural_effusion" in ids
    assert "RAD:thorax" not in ids  # an anatomy concept is never offered to a finding
    assert all(0 < c.score <= 1 for c in ent._.hilum_concepts)


class StubGenerator:
    """Stands in for the approximate index: fixed neighbours (concept id, similarity) per text."""

    def __init__(self, neighbours: dict[str, list[tuple[str, float]]]) -> None:
        self.neighbours = neighbours

    def __call__(self, texts: list[str], k: int) -> list[list[Any]]:
        from scispacy.candidate_generation import MentionCandidate

        return [[MentionCandidate(i, [i], [s]) for i, s in self.neighbours.get(t, [])] for t in texts]


@pytest.fixture
def stubbed(linker: Any) -> Iterator[Any]:
    radiology = linker.linkers["radiology"]
    real = radiology.candidate_generator
    linker.cache.clear()
    try:
        yield lambda neighbours: setattr(radiology, "candidate_generator", StubGenerator(neighbours))
    finally:
        radiology.candidate_generator = real
        linker.cache.clear()


def test_a_text_that_is_a_name_finds_its_concept_where_the_index_misses_it(linker: Any, stubbed: Any) -> None:
    stubbed({})  # the index returns nothing at all
    [ent] = spans("Collapsed lung")  # an alias of pneumothorax in the lexicon
    linker.link_spans([ent])
    first = ent._.hilum_concepts[0]
    assert (first.concept_id, first.score) == ("RAD:pneumothorax", 1.0)


def test_a_document_keeps_to_the_concept_another_of_its_mentions_has(linker: Any, stubbed: Any) -> None:
    stubbed({"zzz": [("RAD:atelectasis", 0.9)], "qqq": [("RAD:opacity", 0.8), ("RAD:atelectasis", 0.75)]})
    assert first_ids(linker, spans("qqq")) == ["RAD:opacity"]  # alone: the more similar concept
    assert first_ids(linker, spans("zzz", "qqq")) == ["RAD:atelectasis", "RAD:atelectasis"]
    assert first_ids(linker, spans("qqq", "qqq")) == ["RAD:opacity", "RAD:opacity"]  # the same text: no evidence
