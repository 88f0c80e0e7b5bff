"""Surrogates and tags: consistent per (secret, patient), dates keep intervals, ages become 90+."""

from __future__ import annotations

import pytest

from annotators.deid import PhiSpan, redact
from annotators.deid.surrogates import date_offset, surrogate


def span(text: str, phrase: str, label: str) -> PhiSpan:
    """A span over the first occurrence of `phrase`."""
    start = text.index(phrase)
    return PhiSpan(start, start + len(phrase), label, 1.0, "test@0")


def test_tag_mode() -> None:
    text = "Dr. Okonkwo saw pt 7/22."
    out = redact(text, [span(text, "Okonkwo", "NAME"), span(text, "7/22", "DATE")], mode="tag")
    assert out == "Dr. [NAME] saw pt [DATE]."


def test_same_identifier_same_surrogate_per_patient() -> None:
    a = surrogate("Okonkwo", "NAME", secret="s3cret", patient_key="p1")
    assert a == surrogate("okonkwo", "NAME", secret="s3cret", patient_key="p1")
    assert a != "Okonkwo"
    assert surrogate("555-201-7788", "PHONE", secret="s3cret", patient_key="p1") == surrogate(
        "555-201-7788", "PHONE", secret="s3cret", patient_key="p1"
    )


@pytest.mark.parametrize(
    "first, second, days",
    [("7/22/04", "7/25/04", 3), ("1/30/2011", "2/2/2011", 3), ("12/30/99", "1/2/00", 3)],
)
def test_dates_shift_keeps_intervals(first: str, second: str, days: int) -> None:
    import datetime as dt

    def parse(value: str) -> dt.date:
        m, d, y = (int(x) for x in value.split("/"))
        return dt.date(y + (2000 if y < 50 else 1900) if y < 100 else y, m, d)

    a = surrogate(first, "DATE", secret="k", patient_key="p9")
    b = surrogate(second, "DATE", secret="k", patient_key="p9")
    assert (parse(b) - parse(a)).days == days
    assert (parse(a) - parse(first)).days == date_offset("k", "p9") != 0


def test_month_name_dates_shift() -> None:
    out = surrogate("July 22nd", "DATE", secret="k", patient_key="p9")
    assert out != "July 22nd" and out.split()[0].isalpha()


def test_age_over_89() -> None:
    text = "93 yo female"
    assert redact(text, [span(text, "93", "AGE")], secret="k", patient_key="p") == "90+ yo female"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="secret"):
        redact("x", [], mode="surrogate")
    with pytest.raises(ValueError, match="valid: surrogate, tag"):
        redact("x", [], mode="blackout")
    text = "ab"
    with pytest.raises(ValueError, match="overlaps"):
        redact(text, [PhiSpan(0, 2, "ID", 1, "t"), PhiSpan(1, 2, "ID", 1, "t")], mode="tag")


def test_the_same_identifier_gets_the_same_surrogate_in_text_and_dicom_headers() -> None:
    """One patient, one secret: a name in a report and the same name in a DICOM free-text descriptor become the
    same surrogate, and a date in the report moves by the same number of days as the study date in the header."""
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    from annotators.deid import analyze
    from annotators.deid.dicom import deidentify_dataset

    secret, patient = "s3cret", "PX-4471"
    report = "Follow-up for Margarethe Okonkwo-Baptiste on 03/14/2021."
    spans = [s for s in analyze(report) if s.label in ("NAME", "DATE")]
    assert {report[s.start:s.end] for s in spans} >= {"Margarethe Okonkwo-Baptiste", "03/14/2021"}
    text = redact(report, spans, secret=secret, patient_key=patient)

    ds = Dataset()
    ds.PatientID, ds.StudyInstanceUID, ds.SOPInstanceUID = patient, generate_uid(), generate_uid()
    ds.StudyDate = "20210314"
    ds.StudyDescription = "Follow-up for Margarethe Okonkwo-Baptiste"
    out, _report = deidentify_dataset(
        ds, secret=secret, patient_key=patient, options=["clean-descriptors", "retain-longitudinal-modified-dates"]
    )
    name = surrogate("Margarethe Okonkwo-Baptiste", "NAME", secret=secret, patient_key=patient)
    assert name in text and name in str(out.StudyDescription)
    assert "Okonkwo" not in str(out.StudyDescription)
    moved = surrogate("03/14/2021", "DATE", secret=secret, patient_key=patient)
    assert moved in text
    month, day, year = moved.split("/")
    assert str(out.StudyDate) == f"{year}{int(month):02d}{int(day):02d}"
