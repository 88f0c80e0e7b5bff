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
        ("Daughter Ingrid Okafor is health care proxy.", [("Ingrid Okafor", "NAME")]),
        (
            "Patient John Smith (MRN 4471823) was seen on 03/14/2021 by Dr. Adams.",
            [("John Smith", "NAME"), ("4471823", "ID"), ("03/14/2021", "DATE"), ("Adams", "NAME")],
        ),
        ("Pt Agatha Jones visited by husband Soren.", [("Agatha Jones", "NAME"), ("Soren", "NAME")]),
        ("JOHN SMITH seen today", [("JOHN SMITH", "NAME")]),
        ("Seen by W. Tremblay, PA.", [("W. Tremblay", "NAME")]),
        ("Per Dr.Okonkwo, hold heparin.", [("Okonkwo", "NAME")]),
        ("CASE MANAGER CONTACTS RENATA ZABRISKIE.", [("RENATA ZABRISKIE", "NAME")]),
        ("SOCIAL: DAUGHTER-INGRID CALLED.", [("INGRID", "NAME")]),
        ("Social: Odalys called for an update.", [("Odalys", "NAME")]),
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
        ("Mailing address Greenbelt, MD 21204.", [("21204", "ZIP")]),
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
        ("Transferred from Holy Redeemer Hospital.", [("Holy Redeemer", "INSTITUTION")]),
        ("Plan: transfer to St. Agatha's tomorrow.", [("Agatha's", "INSTITUTION")]),
        ("Plan: transfer to Wexford 2 in AM.", [("Wexford", "INSTITUTION")]),
        ("Husband lives in Hyattsville.", [("Hyattsville", "LOCATION")]),
        ("Plan: transfer to wexford 2 today.", [("wexford", "INSTITUTION")]),
        ("Admitted from Brannigan Memorial for cath.", [("Brannigan Memorial", "INSTITUTION")]),
        ("TO GO TO ST. INGRID ON TUESDAY.", [("ST. INGRID", "INSTITUTION")]),
        ("Insulin drip per U Virginia scale.", [("U Virginia", "INSTITUTION")]),
        ("Found unresponsive, sent to RMC EW.", [("RMC", "INSTITUTION")]),
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


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Gave lasix 5/21 with good effect.", [("5/21", "DATE")]),
        ("Digoxin toxicity-4/11/93.", [("4/11/93", "DATE")]),
        ("Cx sent 6/19- will follow.", [("6/19", "DATE")]),
        ("Hx:3/28 fell at home.", [("3/28", "DATE")]),
        ("PICC placed in L AC 10/12, flushes well.", [("10/12", "DATE")]),
        ("Possible MI in the 1970s.", [("1970s", "DATE")]),
        ("PMH: appendectomy 81, HTN.", [("81", "DATE")]),
        ("Reach son at pager number 41227 for consents.", [("41227", "PHONE")]),
        ("Grandson visited (410 555 02199) today.", [("410 555 02199", "PHONE")]),
    ],
)
def test_dates_and_numbers_in_context(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "Remains on CPAP .4%, 5/10 overnight.",
        "+3/6 SEM at apex.",
        "OOB to commode/chair, tolerated well.",
        "Neuro: AAOx3. MAEx4.",
        "HR 110-115 ST. BP 130/50.",
        "ABLE TO WEAN NEO. OOB TO COMMODE.",
        "P: CON'T REHAB/PT. BEGIN REHAB.",
        "He'll need pt, and poss rehab when ready for d/c.",
        "Advance diet to mech soft.",
        "Pt cont on mech vent as per Carevue.",
        "Per family pt is A&O x3.",
        "Send stool for c. diff.",
        "GRANDDAUGHTER (SPOKESPERSON) CALLED.",
        "brother visited pt in CCU.",
        "Monitor rate per MDs, spoke with MDs about plan.",
        "WANTED TO LEAVE HOSPITAL AND SIGN AMA.",
    ],
)
def test_nursing_phrases_are_not_phi(engine: DeidEngine, text: str) -> None:
    assert_clean(engine, text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Talked with renata from case management.", [("renata", "NAME")]),
        ("Will consult with ivo quisenberry re skin care.", [("ivo quisenberry", "NAME")]),
        ("Case manager spoke with odalys today.", [("odalys", "NAME")]),
        ("PER INGRID, HE HAS BEEN HER PROXY.", [("INGRID", "NAME")]),
        ("NP ODALYS AWARE.", [("ODALYS", "NAME")]),
        ("Drs Vantongeren and Haseed in to see pt.", [("Vantongeren", "NAME"), ("Haseed", "NAME")]),
        ("Low PA pressures per md Haseed.", [("Haseed", "NAME")]),
        ("Spoke with dr kowalczyk, dr young today.", [("kowalczyk", "NAME"), ("young", "NAME")]),
        ("Orders signed by Dr. Ivo Gray.", [("Ivo Gray", "NAME")]),
        ("Seen by J. Ng, MD.", [("J. Ng", "NAME")]),
        ("Quisenberry-Long MD performed the tap.", [("Quisenberry-Long", "NAME")]),
        ("MILRINONE OFF AS PER W. KOWALCZYK.", [("W. KOWALCZYK", "NAME")]),
        ("Cash verified by nsg (d. brannigan).", [("d. brannigan", "NAME")]),
        ("social: ivo called once overnight.", [("ivo", "NAME")]),
        ("KEEP HALVORSEN FAMILY AWARE.", [("HALVORSEN", "NAME")]),
        ("Pt resting comfortably.\nRenata Ellsworth\n", [("Renata Ellsworth", "NAME")]),
        ("Heparin at 850 u/hr. ODALYS", [("ODALYS", "NAME")]),
        ("Health care proxys. renata and ilse", [("renata", "NAME"), ("ilse", "NAME")]),
        ("mr Q remained on pressors.", [("Q", "NAME")]),
        ("WITH MS Q. CARE.", [("Q", "NAME")]),
        ("(RENATA IS ON VACATION)", [("RENATA", "NAME")]),
        ("renata ilse brannigan from speech and swallow in today.", [("renata ilse brannigan", "NAME")]),
    ],
)
def test_names_by_context(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)


def test_names_found_once_are_found_everywhere(engine: DeidEngine) -> None:
    text = "PER INGRID, PLAN UNCHANGED. LATER INGRID DOES NOT AGREE."
    spans = engine.analyze(text)
    second = text.rindex("INGRID")
    assert any(s.start <= second and second + 6 <= s.end for s in spans), spans


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Plan: to holy redeemer hospital tomorrow.", [("holy redeemer", "INSTITUTION")]),
        ("Arrived from brightwater square hosp via medflight.", [("brightwater square", "INSTITUTION")]),
        ("PT MAY BE W/U BY KMC FOR TRANSPLANT.", [("KMC", "INSTITUTION")]),
        ("Husband did not come to bh with pt.", [("bh", "INSTITUTION")]),
        ("Arrived via amb from kessel ew for eval.", [("kessel", "INSTITUTION")]),
        ("NOTES FROM F-MICU/WEXFORD/CCU TEAMS.", [("WEXFORD", "INSTITUTION")]),
        ("Transfer to Kesselmoor 2 or Brightmoor 3.", [("Kesselmoor", "INSTITUTION"), ("Brightmoor", "INSTITUTION")]),
        ("Poss transfer to wexford 2/3.", [("wexford", "INSTITUTION")]),
        ("Transfer to wexford2.", [("wexford2", "INSTITUTION")]),
        ("Lives in kesselton with her husband.", [("kesselton", "LOCATION")]),
        ("Proxy lives in DC.", [("DC", "LOCATION")]),
        ("Overview of this kesselton ohio facility.", [("kesselton", "LOCATION")]),
        ("Pt went to Kesselbrook on 3/6.", [("Kesselbrook", "INSTITUTION")]),
        ("Family arrived from the Southern Coast.", [("Southern Coast", "LOCATION")]),
        ("Had a bed @ St B. but needs rescreening.", [("St B.", "INSTITUTION")]),
        ("Says i'm at the general hospital.", [("general hospital", "INSTITUTION")]),
        ("Seizure free, HYattsville reconsult.", [("HYattsville", "LOCATION")]),
    ],
)
def test_places_by_context(engine: DeidEngine, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(engine, text, expected)
