"""Table-driven tests of the PHI recognizers, through the configured engine (real Presidio + real spaCy)."""

from __future__ import annotations

import pytest

from annotators.deid import DeidEngine, PhiSpan, get_engine


@pytest.fixture(scope="module")
def engine() -> DeidEngine:
    """The process-wide engine (spaCy model and lexicons load once per test session)."""
    return get_engine()


def assert_found(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> list[PhiSpan]:
    """Every (substring, label) in `expected` is covered by a found span with that label."""
    spans = engine.analyze(text)
    for phrase, label in expected:
        start = text.index(phrase)
        end = start + len(phrase)
        hits = [s for s in spans if s.start <= start and end <= s.end]
        assert hits, (
            f"{phrase!r} not found in {text!r}; got {[(text[s.start : s.end], s.label) for s in spans]}"
        )
        assert hits[0].label == label, f"{phrase!r}: {hits[0].label} != {label}"
    return spans


def assert_clean(engine: DeidEngine, text: str) -> None:
    """Nothing is flagged in `text`."""
    spans = engine.analyze(text)
    assert not spans, [(text[s.start : s.end], s.label) for s in spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("HPI: found on floor 7/22 by husband.", [("7/22", "DATE")]),
        ("Admitted 7-22-04 from home.", [("7-22-04", "DATE")]),
        ("Surgery on July 22nd went well.", [("July 22nd", "DATE")]),
        ("Seen in clinic 22-Jul.", [("22-Jul", "DATE")]),
        ("Pt thinks it is the 22nd.", [("22nd", "DATE")]),
        ("PMH: MI 1992, CABG '95.", [("1992", "DATE"), ("'95", "DATE")]),
        ("Last visit 2004-03-11.", [("2004-03-11", "DATE")]),
        ("Echo March 3, 2011 showed EF 40%.", [("March 3, 2011", "DATE")]),
    ],
)
def test_dates(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "PEEP 5/5, PS 10/5.",
        "Give 1/2 NS at 100 cc/hr.",
        "Strength 5/5 in all extremities.",
        "Remains on CPAP 5/5 with good sats.",
        "Vent settings 10/5/50% overnight.",
        "Pt c/o CP 4/10, given nitro.",
        "Pt placed on 1st step mattress.",
    ],
)
def test_not_dates(engine: DeidEngine, text: str) -> None:
    assert_clean(engine, text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("93 yo female admitted with CHF.", [("93", "AGE")]),
        ("Patient is a 101-year-old man.", [("101", "AGE")]),
        ("Age: 95, lives alone.", [("95", "AGE")]),
    ],
)
def test_ages_over_89(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


def test_ages_under_90_are_not_phi(engine: DeidEngine) -> None:
    assert_clean(engine, "58 yo female with CAD.")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr. Okonkwo aware of labs.", [("Okonkwo", "NAME")]),
        ("PER DR ZABRISKIE, HOLD HEPARIN.", [("ZABRISKIE", "NAME")]),
        ("MR. SMITH RESTING COMFORTABLY.", [("SMITH", "NAME")]),
        ("son bartholomew in to visit.", [("bartholomew", "NAME")]),
        ("Seen by J. Okafor, MD.", [("J. Okafor", "NAME")]),
        ("Winifred Castellano RN", [("Winifred Castellano", "NAME")]),
        ("NP TREMBLAY AWARE.", [("TREMBLAY", "NAME")]),
        ("Daughter Philomena Okafor is health care proxy.", [("Philomena Okafor", "NAME")]),
        (
            "Patient John Smith (MRN 4471823) was seen on 03/14/2021 by Dr. Adams.",
            [("John Smith", "NAME"), ("4471823", "ID"), ("03/14/2021", "DATE"), ("Adams", "NAME")],
        ),
        ("Pt Mary Jones visited by husband Robert.", [("Mary Jones", "NAME"), ("Robert", "NAME")]),
        ("JOHN SMITH seen today", [("JOHN SMITH", "NAME")]),
        ("Seen by W. Tremblay, PA.", [("W. Tremblay", "NAME")]),
        ("Per Dr.Okonkwo, hold heparin.", [("Okonkwo", "NAME")]),
        ("CASE MANAGER CONTACTS KAREN ZABRISKIE.", [("KAREN ZABRISKIE", "NAME")]),
        ("SOCIAL: DAUGHTER-PHILOMENA CALLED.", [("PHILOMENA", "NAME")]),
        ("Social: Emily called for an update.", [("Emily", "NAME")]),
    ],
)
def test_names(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Call daughter at 555-201-7788.", [("555-201-7788", "PHONE")]),
        ("Fax (410) 555-0199 with results.", [("(410) 555-0199", "PHONE")]),
        ("Resident pager 83554.", [("83554", "PHONE")]),
        ("MRN: 00412837 verified.", [("00412837", "ID")]),
        ("Accession # A7781234 sent.", [("A7781234", "ID")]),
        ("SSN 536-22-8726 on file.", [("536-22-8726", "SSN")]),
        ("Email jdoe@example.org for records.", [("jdoe@example.org", "EMAIL")]),
        ("Portal https://portal.example.org/login.", [("https://portal.example.org/login", "URL")]),
        ("Device at 192.168.14.2 offline.", [("192.168.14.2", "IP_ADDRESS")]),
        ("Lives at 42 Juniper Lane, Apt 3.", [("42 Juniper Lane, Apt 3", "ADDRESS")]),
        ("Mailing address Towson, MD 21204.", [("21204", "ZIP")]),
        ("ZIP: 3520", [("3520", "ZIP")]),
        ("my zip code is 394 13", [("394 13", "ZIP")]),
        ("postal code: 53-320", [("53-320", "ZIP")]),
        ("zip code is none on file", []),
        ("Pacemaker serial no. PX4471220.", [("PX4471220", "DEVICE_ID")]),
        ("Licence plate 7ABC123 in lot.", [("7ABC123", "LICENSE")]),
    ],
)
def test_structured_identifiers(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Transferred from Holy Cross Hospital.", [("Holy Cross", "INSTITUTION")]),
        ("Plan: transfer to St. Mary's tomorrow.", [("Mary's", "INSTITUTION")]),
        ("Plan: transfer to Wexford 2 in AM.", [("Wexford", "INSTITUTION")]),
        ("Husband lives in Hagerstown.", [("Hagerstown", "LOCATION")]),
        ("Plan: transfer to wexford 2 today.", [("wexford", "INSTITUTION")]),
        ("Admitted from Kessler Memorial for cath.", [("Kessler Memorial", "INSTITUTION")]),
        ("TO GO TO ST. AGNES ON TUESDAY.", [("ST. AGNES", "INSTITUTION")]),
        ("Insulin drip per U Maryland scale.", [("U Maryland", "INSTITUTION")]),
        ("Found unresponsive, sent to GH EW.", [("GH", "INSTITUTION")]),
    ],
)
def test_places(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "BNP 450, lungs clear, Lasix 40 mg IV given.",
        "Foley draining clear yellow urine.",
        "Abd soft, +BS.",
        "R RAD ALINE INTACT. PAP 40/20. DOPPLER PULSES.",
        "Hickman and Quinton catheters flushed; L fem line.",
        "MS: sedated on propofol. Nitro gtt off.",
        "HR 90s ST, NO VEA. ST elevations resolved.",
        "GU: FOLEY DRAINING CLEAR AMBER URINE. MAE.",
        "BP 112-140/50-60, ABG 7.34/50/95/28/0 at 0600-0800.",
        "Tolerating 2 peripheral IVs in place, 8 BEAT RUN VT.",
    ],
)
def test_clinical_words_are_not_phi(engine: DeidEngine, text: str) -> None:
    assert_clean(engine, text)


def test_span_provenance(engine: DeidEngine) -> None:
    (span,) = engine.analyze("Seen 7/22.")
    assert span.source.startswith("hilum_date@")
    assert span.as_dict()["label"] == "DATE"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Date: 2019-04-02 13:05:44 | Name: Orsolya Tamási", [("2019-04-02 13:05:44", "DATE")]),
        ("Ship to 4417 Vesterbrogade 61 tomorrow.", [("4417 Vesterbrogade 61", "ADDRESS")]),
        ("She lives at 812 Rua das Flores 77, near the park.", [("812 Rua das Flores 77", "ADDRESS")]),
        ("Reach him at PSC 4410, Box 7781\nAPO AE 09123", [("PSC 4410, Box 7781\nAPO AE 09123", "ADDRESS")]),
        (
            "Invoice to:\n  9021 Kettuvaarankatu 14 Suite 220\n  KUOPIO\n  FI\n  70100",
            [("9021 Kettuvaarankatu 14 Suite 220\n  KUOPIO\n  FI\n  70100", "ADDRESS")],
        ),
        ("Krisztián Szöllösy wrote the score.", [("Krisztián Szöllösy", "NAME")]),
        ("She moved to Lappeenranta last spring.", [("Lappeenranta", "LOCATION")]),
    ],
)
def test_prose_identifiers(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "Appears anxious.denies pain, medicated with tylenol.",
        "Abg on these settings: 80/48/7.45.34.7 this am.",
        "ABG: 169-33-7.38-20--4. Strong cough.",
        "HR 70 Vpaced. BP 90s, tolerating diet.",
        "Abd soft. Carevue updated. Permacath site clean.",
        "Resolved when in Pa. Brown soft stool in rectal bag.",
        "Hypoactive BS. Voided X's 1 overnight.",
    ],
)
def test_clinical_shorthand_is_not_phi(engine: DeidEngine, text: str) -> None:
    assert_clean(engine, text)


@pytest.mark.parametrize(
    "label, phrase, expected",
    [
        ("NAME", "Tamsin Okonkwo", True),
        ("NAME", "Okonkwo", True),
        ("NAME", "Abd", False),
        ("NAME", "Carevue", False),
        ("NAME", "HYPOACTIVE BS", False),
        ("NAME", "Started Dobutamine", False),
        ("LOCATION", "Finland", True),
        ("LOCATION", "KUOPIO", True),
        ("LOCATION", "CCU", False),
        ("LOCATION", "Permacath", False),
        ("INSTITUTION", "Zorvatek Shipping", True),
        ("INSTITUTION", "NSR", False),
        ("INSTITUTION", "Afebrile", False),
        ("INSTITUTION", "MAE FOLLOWED", False),
        ("NAME", "Micu A \nPt", False),
    ],
)
def test_ner_plausibility(engine: DeidEngine, label: str, phrase: str, expected: bool) -> None:
    from annotators.deid.ner import plausible

    assert plausible(label, phrase, engine.lexicon) is expected
