"""The clinical text pipeline with the shipped NER model, table-driven: tokens, sentences, sections, entities,
assertion, measurements, laterality, abbreviations, linking, configuration, bad input.

The pipeline is built once per session from `tests/fixtures/text/pipeline.toml` (the shipped components,
linking to the radiology lexicon only) with the knowledge base built into a session folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "text"
TEST_CONFIG = FIXTURES / "pipeline.toml"


def load_test_pipeline(cache: Path) -> Any:
    """The session's pipeline (built with the KB cache at `cache`; get_pipeline keeps it for the process)."""
    from annotators.text.pipeline import get_pipeline

    before = os.environ.get("HILUM_CACHE_DIR")
    os.environ["HILUM_CACHE_DIR"] = str(cache)
    try:
        return get_pipeline(TEST_CONFIG)
    finally:
        if before is None:
            del os.environ["HILUM_CACHE_DIR"]
        else:
            os.environ["HILUM_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def nlp(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_test_pipeline(tmp_path_factory.getbasetemp() / "hilum-text-cache")


def ents(nlp: Any, text: str) -> dict[str, Any]:
    """Entities by text (the last one wins when a text repeats)."""
    return {e.text: e for e in nlp(text).ents}


def assert_entity(nlp: Any, text: str, entity: str, **expected: Any) -> None:
    found = ents(nlp, text)
    assert entity in found, f"{entity!r} not found in {text!r}: {sorted(found)}"
    ent = found[entity]
    for attribute, value in expected.items():
        actual = ent.label_ if attribute == "label" else getattr(ent._, f"hilum_{attribute}")
        assert actual == value, f"{entity!r} in {text!r}: {attribute} {actual!r} != {value!r}"


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("2.3x1.8cm nodule", ["2.3", "x", "1.8", "cm", "nodule"]),
        ("FINDINGS:There is", ["FINDINGS", ":", "There", "is"]),
        ("afebrile;no distress", ["afebrile", ";", "no", "distress"]),
        ("s/p CABG, c/o SOB", ["s/p", "CABG", ",", "c/o", "SOB"]),
        ("-Stable cardiomegaly", ["-", "Stable", "cardiomegaly"]),
        ("Naloxone-induced hypotension", ["Naloxone", "-", "induced", "hypotension"]),
        ("cyclophosphamide (CYP)-induced cystitis", ["cyclophosphamide", "(", "CYP", ")", "-", "induced", "cystitis"]),
        ("ketamine- and cocaine-induced", ["ketamine", "-", "and", "cocaine", "-", "induced"]),
        ("K+ and Na(+) and Ca(2+)", ["K", "+", "and", "Na", "(+)", "and", "Ca", "(2+)"]),
        ("L-[3H]nicotine and [125I]MIBG", ["L-", "[3H]", "nicotine", "and", "[125I]", "MIBG"]),
        ("thallium-201 and saline+drug", ["thallium", "-", "201", "and", "saline", "+", "drug"]),
        ("COX-2 and glucose-6-phosphate", ["COX-2", "and", "glucose-6", "-", "phosphate"]),
    ],
)
def test_tokenizer(nlp: Any, text: str, tokens: list[str]) -> None:
    assert [t.text for t in nlp.make_doc(text)] == tokens


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("No effusion; mild cardiomegaly.", ["No effusion;", "mild cardiomegaly."]),
        ("FINDINGS: Heart is normal. Lungs clear.", ["FINDINGS:", "Heart is normal.", "Lungs clear."]),
        ("THE LUNGS ARE CLEAR. NO EFFUSION", ["THE LUNGS ARE CLEAR.", "NO EFFUSION"]),
        ("There is a nodule in the\nright upper lobe.", ["There is a nodule in the\nright upper lobe."]),
        ("1. Nodule.\n2. No effusion.", ["1. Nodule.", "2. No effusion."]),
        ("IMPRESSION:\n1. Nodule.", ["IMPRESSION:", "1. Nodule."]),
    ],
)
def test_sentences(nlp: Any, text: str, sentences: list[str]) -> None:
    assert [s.text.strip() for s in nlp(text).sents if s.text.strip()] == sentences


@pytest.mark.parametrize(
    "text, entity, section",
    [
        ("INDICATION: pneumonia?\nFINDINGS: Small effusion.", "pneumonia", "indication"),
        ("INDICATION: pneumonia?\nFINDINGS: Small effusion.", "effusion", "findings"),
        ("Impression: cardiomegaly.", "cardiomegaly", "impression"),
        ("FAMILY HISTORY: lung cancer in father.", "lung cancer", "family_history"),
        ("Pneumothorax.", "Pneumothorax", None),
        ("NEURO: alert. RESP: LS clear; wheezing noted. CV: edema.", "edema", "cardiovascular"),
    ],
)
def test_sections(nlp: Any, text: str, entity: str, section: str | None) -> None:
    assert_entity(nlp, text, entity, section=section)


@pytest.mark.parametrize(
    "text, entity, label",
    [
        ("Naloxone reverses the antihypertensive effect of clonidine.", "clonidine", "CHEMICAL"),
        ("Patients developed hypotension after the infusion.", "hypotension", "FINDING"),
        ("There is a large right pleural effusion.", "pleural effusion", "FINDING"),
        ("There are bilateral opacities.", "opacities", "FINDING"),  # a regular plural the lexicon does not list
        ("The endotracheal tube terminates above the carina.", "endotracheal tube", "DEVICE"),
        ("The endotracheal tube terminates above the carina.", "carina", "ANATOMY"),
        ("Status post median sternotomy.", "median sternotomy", "PROCEDURE"),
        ("A 2.3 x 1.8 cm nodule.", "2.3 x 1.8 cm", "MEASUREMENT"),
        ("THERE IS A LEFT PNEUMOTHORAX.", "PNEUMOTHORAX", "FINDING"),
        ("She was started on velutinib last week.", "velutinib", "CHEMICAL"),  # an invented -tinib drug name
    ],
)
def test_entities(nlp: Any, text: str, entity: str, label: str) -> None:
    assert_entity(nlp, text, entity, label=label)


@pytest.mark.parametrize(
    "text, entity, assertion",
    [
        ("No pneumothorax.", "pneumothorax", "negated"),
        ("No pneumothorax, pleural effusion or consolidation.", "consolidation", "negated"),
        ("Pleural effusion is not seen.", "Pleural effusion", "negated"),
        ("Mild cardiomegaly. No effusion.", "cardiomegaly", "present"),
        ("No change in the cardiomegaly.", "cardiomegaly", "present"),
        ("Possible pneumonia in the left base.", "pneumonia", "uncertain"),
        ("Pneumonia cannot be excluded.", "Pneumonia", "uncertain"),
        ("History of pneumothorax.", "pneumothorax", "historical"),
        ("Mother had lung cancer.", "lung cancer", "family"),
        ("Return if pneumothorax develops.", "pneumothorax", "hypothetical"),
        ("No effusion but there is atelectasis.", "atelectasis", "present"),
        ("NO PLEURAL EFFUSION.", "PLEURAL EFFUSION", "negated"),
        ("No edema.", "edema", "negated"),
        ("Negative acute cardiopulmonary abnormality.", "abnormality", "negated"),
    ],
)
def test_assertion(nlp: Any, text: str, entity: str, assertion: str) -> None:
    assert_entity(nlp, text, entity, assertion=assertion)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2.3 x 1.8 cm", [23.0, 18.0]),
        ("5mm", [5.0]),
        ("1.2 cm by 8 mm", [12.0, 8.0]),
        ("3 x 4 x 5 millimeters", [3.0, 4.0, 5.0]),
        ("12", None),
    ],
)
def test_measurement_parsing(text: str, expected: list[float] | None) -> None:
    from annotators.text.measurements import parse_millimetres

    assert parse_millimetres(text) == expected


@pytest.mark.parametrize(
    "text, finding, measurement_mm, laterality, location",
    [
        ("A 2.3 x 1.8 cm nodule in the right upper lobe.", "nodule", [23.0, 18.0], "right", ["right upper lobe"]),
        ("Nodule in the LLL measuring 9 mm.", "Nodule", [9.0], "left", ["LLL"]),
        ("Bilateral pleural effusions.", "pleural effusions", None, "bilateral", []),
        ("Small left pneumothorax.", "pneumothorax", None, "left", []),
        ("Cardiomegaly. 4 cm mass in the liver.", "Cardiomegaly", None, None, []),
    ],
)
def test_modifiers(
    nlp: Any, text: str, finding: str, measurement_mm: Any, laterality: str | None, location: list[str]
) -> None:
    assert_entity(nlp, text, finding, measurement_mm=measurement_mm, laterality=laterality, location=location)


@pytest.mark.parametrize(
    "text, entity, concept_id, location, assertion",
    [
        ("The aorta is mildly tortuous.", "tortuous", "RAD:tortuous_aorta", ["aorta"], "present"),
        ("Elevated right hemidiaphragm.", "Elevated", "RAD:elevated_hemidiaphragm", ["right hemidiaphragm"], "present"),
        ("Stable elevation of the left hemidiaphragm.", "elevation", "RAD:elevated_hemidiaphragm",
         ["left hemidiaphragm"], "present"),
        ("The thoracic aorta is tortuous and calcified.", "calcified", "RAD:aortic_calcification", [], "present"),
        ("The heart is not enlarged.", "enlarged", "RAD:cardiomegaly", ["heart"], "negated"),
        ("Lungs are mildly hypoinflated.", "hypoinflated", "RAD:hypoinflation", ["Lungs"], "present"),
    ],
)  # fmt: skip
def test_observations_of_an_anatomy(
    nlp: Any, text: str, entity: str, concept_id: str, location: list[str], assertion: str
) -> None:
    assert_entity(nlp, text, entity, label="FINDING", location=location, assertion=assertion)
    assert ents(nlp, text)[entity]._.hilum_concepts[0].concept_id == concept_id


@pytest.mark.parametrize(
    "text, entity, concept_id",
    [
        ("A small calcified granuloma projects over the right base.", "calcified granuloma",
         "RAD:calcified_granuloma"),
        ("Calcified right hilar granulomas.", "granulomas", "RAD:calcified_granuloma"),
        ("A right apical granuloma is calcified.", "granuloma is calcified", "RAD:calcified_granuloma"),
        ("Mild tortuous calcified aorta.", "tortuous", "RAD:tortuous_aorta"),
    ],
)  # fmt: skip
def test_modifier_refines_a_finding(nlp: Any, text: str, entity: str, concept_id: str) -> None:
    assert_entity(nlp, text, entity, label="FINDING", assertion="present")
    assert ents(nlp, text)[entity]._.hilum_concepts[0].concept_id == concept_id


def test_granuloma_without_a_modifier_stays_granuloma(nlp: Any) -> None:
    assert ents(nlp, "A granuloma in the left base.")["granuloma"].kb_id_ == "RAD:granuloma"


@pytest.mark.parametrize(
    "text, device",
    [
        ("Right chest wall line with its tip projecting over the mid SVC.", "tip"),
        ("A right-sided access is again seen, tip at the cavoatrial junction.", "tip"),
    ],
)  # fmt: skip
def test_a_line_stated_by_its_tip(nlp: Any, text: str, device: str) -> None:
    assert_entity(nlp, text, device, label="DEVICE")
    assert ents(nlp, text)[device].kb_id_ == "RAD:indwelling_catheter"


def test_a_named_device_keeps_its_tip(nlp: Any) -> None:
    doc = nlp("Left PICC with tip in the distal SVC.")
    assert [(e.text, e.label_) for e in doc.ents if e.label_ == "DEVICE"] == [("PICC", "DEVICE")]


@pytest.mark.parametrize(
    "text, entity, broader",
    [
        ("Exam is limited by patient rotation.", "limited by patient rotation", "RAD:limited_study"),
        ("The patient is slightly rotated.", "slightly rotated", "RAD:limited_study"),
        ("Nasogastric tube tip in the stomach.", "Nasogastric tube", "RAD:inserted_tube"),
        ("A spinal cord stimulator overlies the lower back.", "spinal cord stimulator", "RAD:implanted_medical_device"),
        ("Dual chamber pacemaker with intact leads.", "Dual chamber pacemaker", "RAD:implanted_medical_device"),
    ],
)  # fmt: skip
def test_kinds_of_technical_limits_tubes_and_implants(nlp: Any, text: str, entity: str, broader: str) -> None:
    from ontologies.lexicon import RadiologyLexiconLoader

    concept = ents(nlp, text)[entity].kb_id_
    assert broader in (concept, *RadiologyLexiconLoader().broader().get(concept, ()))


@pytest.mark.parametrize(
    "text", ["The heart is normal in size.", "Heart size upper limits of normal.", "The heart and lungs are normal."]
)
def test_no_finding_without_an_abnormal_observation(nlp: Any, text: str) -> None:
    assert [e.text for e in nlp(text).ents if e.label_ == "FINDING"] == []


def test_findings_are_offered_findings_only(nlp: Any) -> None:
    from spacy.tokens import Span

    doc = nlp("Lungs clear. Marked tortuosity.")
    spans = [Span(doc, 1, 2, "FINDING"), Span(doc, 4, 5, "FINDING")]  # "clear", "tortuosity"
    nlp.get_pipe("hilum_linker").link_spans(spans)
    lexicon = {c.concept_id: c.types for c in _lexicon_concepts()}
    for span in spans:
        types = [lexicon[c.concept_id] for c in span._.hilum_concepts if c.ontology == "radiology"]
        assert types and all(t[0] == "FINDING" and "NORMAL" not in t for t in types), (span.text, types)


def _lexicon_concepts() -> list[Any]:
    from ontologies.lexicon import RadiologyLexiconLoader

    return list(RadiologyLexiconLoader().concepts())


@pytest.mark.parametrize(
    "text, entity, concept_id",
    [
        ("Small pneumothorax.", "pneumothorax", "RAD:pneumothorax"),
        ("RUL nodule.", "RUL", "RAD:right_upper_lobe"),
        ("There is a left pleural effusion.", "pleural effusion", "RAD:pleural_effusion"),
    ],
)
def test_linking_ranks_best_first(nlp: Any, text: str, entity: str, concept_id: str) -> None:
    concepts = ents(nlp, text)[entity]._.hilum_concepts
    assert concepts[0].concept_id == concept_id
    assert [c.score for c in concepts] == sorted((c.score for c in concepts), reverse=True)
    assert all(0 < c.score <= 1 for c in concepts)


def test_abbreviations_are_resolved_before_linking(nlp: Any) -> None:
    from spacy.tokens import Span

    doc = nlp("The mass abuts the RLL. Kerley lines (KL) are seen.")
    assert doc._.hilum_expansions[doc.text.index("RLL")] == "right lower lobe"
    assert "KL" in {a.text for a in doc._.abbreviations}
    span = Span(doc, 4, 5, "ANATOMY")  # "RLL" without the lexicon's concept id: found through its long form
    nlp.get_pipe("hilum_linker").link_spans([span])
    assert span._.hilum_long_form == "right lower lobe"
    assert span._.hilum_concepts[0].concept_id == "RAD:right_lower_lobe"


@pytest.mark.parametrize(
    "text, short, long_form",
    [
        ("Rats received phenobarbital (PB, 15 mg/kg) daily. PB raised it.", "PB", "phenobarbital"),
        ("Diethylnitrosamine (DEN: 10 mg/kg) was given. Then DEN alone.", "DEN", "Diethylnitrosamine"),
        ("Myotonic dystrophy (DM) is dominant. DM is common.", "DM", "Myotonic dystrophy"),
        ("They took 13-cis-retinoic acid (cis-RA) daily. Since cis-RA was", "cis-RA", "cis-retinoic acid"),
        ("Saline (C) or triamcinolone (T) was injected. T was better.", "T", "triamcinolone"),
        ("Ventricular septal defects (VSDs) were seen. One VSD was large.", "VSD", "Ventricular septal defects"),
        ("Tolerance to cyclophosphamide (CYP)-induced cystitis. CYP was given.", "CYP", "cyclophosphamide"),
    ],
)
def test_definitions_scispacy_misses_are_found_wherever_the_short_form_recurs(
    nlp: Any, text: str, short: str, long_form: str
) -> None:
    from annotators.text.abbreviations import expand

    doc = nlp(text)
    last = text.rindex(short)
    assert doc._.hilum_expansions[last] == long_form
    assert expand(doc.char_span(last, last + len(short))) == long_form  # a short form of several tokens too


@pytest.mark.parametrize(
    "text, word, expected",
    [
        ("Serum Na+ fell.", "Na+", "sodium"),
        ("Ca(2+) entry rose.", "Ca(2", "calcium"),
        ("Given DMSO as vehicle.", "DMSO", "dimethyl sulfoxide"),
        ("A history of type IV collagen disease.", "IV", None),  # a numeral after `type`, not intravenous
        ("The IV line is in place.", "IV", "intravenous"),
        ("Pb exposure.", "Pb", "lead"),
    ],
)
def test_tables_expand_symbols_and_pharmacology_abbreviations(nlp: Any, text: str, word: str, expected: Any) -> None:
    doc = nlp(text)
    assert doc._.hilum_expansions.get(text.index(word)) == expected


def test_a_document_definition_wins_over_the_tables(nlp: Any) -> None:
    doc = nlp("Patients with myotonic dystrophy (DM) were seen. DM was mild.")
    assert doc._.hilum_expansions[doc.text.rindex("DM")] == "myotonic dystrophy"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("anaemia", "anemia"),
        ("Haemorrhagic cystitis", "Hemorrhagic cystitis"),
        ("oedema", "edema"),
        ("oesophageal tumour", "esophageal tumor"),
        ("diarrhoea", "diarrhea"),
        ("sulphonamide", "sulfonamide"),
        ("paediatric anaesthesia", "pediatric anesthesia"),
        ("raised heart rate", "raised heart rate"),
        ("does one shoe", "does one shoe"),
    ],
)
def test_british_spellings_are_americanized(text: str, expected: str) -> None:
    from annotators.text.spelling import americanize

    assert americanize(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("renal failure", "kidney failure"),
        ("lung cancer", "lung neoplasms"),
        ("pancreatic tumours", "pancreatic neoplasms"),
        ("optic neuropathy", "optic nerve diseases"),
        ("hepatic dysfunction", "liver diseases"),
        ("cardiac failure", "heart failure"),
        ("pneumonia", "pneumonia"),
        ("movement disorder", "movement disorder"),  # no organ: headings' words stay as written
    ],
)
def test_mentions_are_rephrased_as_mesh_names_them(text: str, expected: str) -> None:
    from annotators.text.phrasing import mesh_phrasing

    assert mesh_phrasing(text) == expected


@pytest.mark.parametrize(
    "forms, names, expected",
    [
        (["zinc sulfate"], ["Sulfates"], 0.5),  # one of the mention's two words
        (["zinc sulfate"], ["Sulfates", "Zinc Sulfate"], 1.0),  # the best name counts
        (["sulfate of zinc"], ["Zinc Sulfate, Anhydrous"], 1.0),  # word order, linking words, plurals
        (["metastases"], ["Neoplasm Metastasis"], 1.0),  # words compared by their stems
        (["drug-induced hepatitis", "hepatitis"], ["Hepatitis"], 1.0),  # any of the forms looked up
        (["zinc"], ["Iron"], 0.0),
        (["of the"], ["Zinc"], 0.0),  # no content words
    ],
)
def test_coverage_of_the_mention_by_a_concept_name(forms: list[str], names: list[str], expected: float) -> None:
    from annotators.text.rerank import coverage

    assert coverage(forms, names) == pytest.approx(expected)


def test_every_entity_has_provenance_and_offsets(nlp: Any) -> None:
    from annotators.text.pipeline import annotate

    text = (FIXTURES / "report.txt").read_text(encoding="utf-8")
    [spans] = list(annotate([text], nlp))
    assert spans
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert span.source and "@" in span.source
        assert span.assertion in {"present", "negated", "uncertain", "historical", "hypothetical", "family"}
        if span.label != "MEASUREMENT":
            assert span.concepts, span


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n ", "\x00\x01\x02 binary \udcff garbage \ufffd\ufffd", "é" * 5000, "no. " * 20000,
     "(((((((((( [[[[ ]]]] ))))) 1.2.3.4.5 x x x cm cm mm"],
)  # fmt: skip
def test_bad_input_gives_a_bounded_correct_result(nlp: Any, text: str) -> None:
    from annotators.text.pipeline import annotate

    [spans] = list(annotate([text], nlp))
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_long_text_is_annotated_in_pieces_with_correct_offsets(nlp: Any) -> None:
    from annotators.text.pipeline import MAX_CHUNK_CHARS, annotate

    unit = "FINDINGS: Small left pleural effusion. No pneumothorax.\n"
    text = unit * (MAX_CHUNK_CHARS // len(unit) + 40)
    [spans] = list(annotate([text, "Pneumothorax."], nlp))[:1]
    effusions = [s for s in spans if s.text == "pleural effusion"]
    assert len(effusions) == text.count("pleural effusion")
    assert all(text[s.start : s.end] == s.text and s.section == "findings" for s in effusions)
    assert {s.assertion for s in spans if s.text == "pneumothorax"} == {"negated"}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"components": ["hilum_sentences", "hilum_negex"]}, "unknown component 'hilum_negex'; valid names:"),
        ({"components": []}, "non-empty list"),
        ({"components": ["hilum_linker"]}, "'hilum_linker' needs hilum_entities before it"),
        ({"components": ["hilum_sections", "hilum_sections"]}, "listed twice"),
        ({"components": ["hilum_sections"], "settings": {"hilum_linker": {}}}, "not in the pipeline"),
        ({"components": ["hilum_sections"], "typo": 1}, "unknown key(s) typo"),
    ],
)
def test_bad_configuration_stops_with_a_clear_error(config: dict[str, Any], message: str) -> None:
    from annotators.text.errors import PipelineConfigError
    from annotators.text.pipeline import validate

    with pytest.raises(PipelineConfigError) as error:
        validate(config)
    assert message in str(error.value)


def test_bad_setting_and_unknown_ontology_stop_building(tmp_path: Path) -> None:
    from annotators.text.errors import PipelineConfigError
    from annotators.text.pipeline import build, validate

    with pytest.raises(PipelineConfigError, match="bad settings for 'hilum_context'"):
        build(validate({"components": ["hilum_sentences", "hilum_measurements", "hilum_entities", "hilum_context"],
                        "settings": {"hilum_context": {"window": "wide"}}}))  # fmt: skip
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("components = [", encoding="utf-8")
    from annotators.text.pipeline import load_config

    with pytest.raises(PipelineConfigError, match="cannot read pipeline configuration"):
        load_config(bad_toml)
    with pytest.raises(PipelineConfigError, match="unknown ontology 'snomed'"):
        build(validate({"components": ["hilum_ontology_matcher", "hilum_entities", "hilum_linker"],
                        "settings": {"hilum_linker": {"ontologies": {"FINDING": ["snomed"]}}}}))  # fmt: skip
