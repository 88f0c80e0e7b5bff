"""DICOM header de-identification held against PS3.15 Table E.1-1 itself: every row whose attribute can be put in
a dataset is put in one, and the action its row names must have happened."""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydicom import dcmread, dcmwrite
from pydicom.data import get_testdata_files
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from annotators.deid.dicom import (
    OPTIONS,
    Rule,
    UnknownOptionError,
    deidentify_bytes,
    deidentify_dataset,
    remap_uid,
    rules,
)
from annotators.dicom import DicomDirError, NotDicomError
from server.commands.deid import command

SECRET = "test-secret"
ITEM_UID = "1.2.826.0.1.3680043.2.1125.99.1"
_VALUES: dict[str, Any] = {
    "AE": "STATIONAE1", "AS": "045Y", "AT": 0x00100010, "CS": "ORIGVALUE", "DA": "20200115", "DS": "1.5",
    "DT": "20200115103000", "FL": 1.5, "FD": 2.5, "IS": "7", "LO": "Original LO", "LT": "Original LT text",
    "OB": b"\x01\x02", "OD": b"\x01" * 8, "OF": b"\x01" * 4, "OL": b"\x01" * 4, "OV": b"\x01" * 8,
    "OW": b"\x01\x02", "PN": "Doe^John", "SH": "ORIGSH", "SL": 5, "SS": 5, "ST": "Original ST text",
    "SV": 5, "TM": "103000", "UC": "Original UC", "UL": 5, "UN": b"ORIGINAL", "UR": "http://orig.example/x",
    "US": 5, "UT": "Original UT text", "UV": 5,
}  # fmt: skip
_REPEATING = {"(50xx,xxxx)": 0x50003000, "(60xx,3000)": 0x60003000, "(60xx,4000)": 0x60004000}


def _tag(rule: Rule) -> int | None:
    if rule.tag == "private":
        return None
    if rule.tag in _REPEATING:
        return _REPEATING[rule.tag]
    return int(rule.tag[1:5] + rule.tag[6:10], 16)


def _vr(tag: int) -> str:
    try:
        return dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return "UN"  # newer than pydicom's dictionary: read as UN, as an implicit-VR file would give it


def _value(tag: int, vr: str, index: int) -> Any:
    if vr == "UI":
        return f"1.2.826.0.1.3680043.2.1125.{index + 1}"
    if vr == "SQ":
        item = Dataset()
        item.ReferencedSOPInstanceUID = ITEM_UID
        item.TextValue = "Seen by John Smith"
        return Sequence([item])
    return _VALUES[vr]


def _full_dataset() -> tuple[Dataset, dict[int, Rule]]:
    """One dataset holding every Table E.1-1 attribute (one private element for the private row)."""
    ds, placed = Dataset(), {}
    for index, rule in enumerate(rules()):
        tag = _tag(rule)
        if tag is None or tag >> 16 == 0x0002:
            continue
        vr = _vr(tag)
        ds.add(DataElement(tag, vr, _value(tag, vr, index)))
        placed[tag] = rule
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091001, "LO", "private secret")
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds, placed


def _roundtrip(ds: Dataset) -> Dataset:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return dcmread(io.BytesIO(buffer.getvalue()))


FULL, PLACED = _full_dataset()


@pytest.fixture(scope="module")
def basic() -> tuple[Dataset, Any]:
    out, report = deidentify_dataset(FULL, secret=SECRET)
    return out, report


def test_output_parses(basic: tuple[Dataset, Any]) -> None:
    out = copy.deepcopy(basic[0])
    for tag in [t for t in out.keys() if t >> 16 == 0]:  # Command Set rows cannot go into a file
        del out[tag]
    parsed = _roundtrip(out)
    assert parsed.PatientIdentityRemoved == "YES" and len(parsed) == len(out)


def _outcomes(original: DataElement, out: Dataset, tag: int) -> set[str]:
    """Which action codes the output is consistent with."""
    if tag not in out:
        return {"X"}
    elem = out[tag]
    if elem.value in (None, "", b"", []) or (elem.VR == "SQ" and len(elem.value) == 0):
        return {"Z"}
    if elem.VR == "SQ":
        item = elem.value[0]
        uid_remapped = item.get("ReferencedSOPInstanceUID") == remap_uid(ITEM_UID, SECRET)
        return {"D", "U"} if uid_remapped else {"K"}
    if original.VR == "UI":
        return {"U", "D"} if str(elem.value) == remap_uid(str(original.value), SECRET) else {"K"}
    same = elem.value == original.value or (isinstance(elem.value, bytes) and elem.value == original.value)
    return {"K"} if same else {"D", "C"}


def _allowed(code: str) -> set[str]:
    return {part.rstrip("*") for part in code.split("/")}


@pytest.mark.parametrize("tag", sorted(PLACED), ids=lambda t: f"{t:08X}")
def test_basic_profile_row(basic: tuple[Dataset, Any], tag: int) -> None:
    out, _ = basic
    rule = PLACED[tag]
    got = _outcomes(FULL[tag], out, tag)
    assert got & _allowed(rule.basic), f"{rule.tag} {rule.name}: basic {rule.basic}, output looks like {got}"


def test_every_placeable_row_is_tested() -> None:
    placeable = [r for r in rules() if r.tag != "private" and not r.tag.startswith("(0002")]
    assert len(PLACED) == len(placeable) and len(rules()) >= 650


def test_private_attributes_removed_and_method_written(basic: tuple[Dataset, Any]) -> None:
    out, report = basic
    assert not [e.tag for e in out.iterall() if e.tag.is_private]
    assert out.PatientIdentityRemoved == "YES"
    assert [i.CodeValue for i in out.DeidentificationMethodCodeSequence] == ["113100"]
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID == remap_uid(FULL.SOPInstanceUID, SECRET)
    assert {c.rule for c in report.changes} >= {"E.1-1", "private", "method"}
    assert "Doe" not in json.dumps([c.__dict__ for c in report.changes])  # the report never carries values


def test_original_is_not_modified() -> None:
    before = copy.deepcopy(FULL)
    deidentify_dataset(FULL, secret=SECRET, options=["retain-longitudinal-modified-dates"])
    assert FULL == before


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.startswith("retain_") and o != "retain_safe_private"])
def test_retain_option_columns(option: str) -> None:
    out, _ = deidentify_dataset(FULL, secret=SECRET, options=[option])
    for tag, rule in PLACED.items():
        column = dict(rule.options).get(option)
        if column == "K":
            assert _outcomes(FULL[tag], out, tag) & {"K", "U"} or FULL[tag].VR == "SQ", rule.name
        elif column == "C" and FULL[tag].VR in ("DA", "DT"):
            assert out[tag].value != FULL[tag].value and len(out[tag].value) == len(FULL[tag].value), rule.name


def test_uids_consistent_across_a_study() -> None:
    first, second = Dataset(), Dataset()
    for index, ds in enumerate((first, second)):
        ds.StudyInstanceUID = "1.2.3.4"
        ds.SeriesInstanceUID = "1.2.3.4.1"
        ds.SOPInstanceUID = f"1.2.3.4.1.{index}"
        ds.PatientID = "MRN123"
    ref = Dataset()
    ref.ReferencedSOPInstanceUID = first.SOPInstanceUID
    second.ReferencedImageSequence = Sequence([ref])
    a, _ = deidentify_dataset(first, secret=SECRET)
    b, _ = deidentify_dataset(second, secret=SECRET)
    assert a.StudyInstanceUID == b.StudyInstanceUID != first.StudyInstanceUID
    assert a.SeriesInstanceUID == b.SeriesInstanceUID and a.SOPInstanceUID != b.SOPInstanceUID
    assert b.ReferencedImageSequence[0].ReferencedSOPInstanceUID == a.SOPInstanceUID
    assert a.StudyInstanceUID.startswith("2.25.") and len(a.StudyInstanceUID) <= 64
    other, _ = deidentify_dataset(first, secret="another")
    assert other.StudyInstanceUID != a.StudyInstanceUID


def test_date_shift_keeps_intervals() -> None:
    dates = ("20200115", "20200301")
    outs = []
    for date in dates:
        ds = Dataset()
        ds.PatientID, ds.StudyDate, ds.AcquisitionDateTime = "MRN123", date, date + "101500.5+0100"
        out, _ = deidentify_dataset(ds, secret=SECRET, options=["retain-longitudinal-modified-dates"])
        outs.append(out)
    import datetime as dt

    def day(text: str) -> dt.date:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()

    assert outs[0].StudyDate != dates[0]
    assert day(outs[1].StudyDate) - day(outs[0].StudyDate) == day(dates[1]) - day(dates[0])
    assert outs[0].AcquisitionDateTime[8:] == "101500.5+0100" and outs[0].AcquisitionDateTime[:8] == outs[0].StudyDate
    assert outs[0].LongitudinalTemporalInformationModified == "MODIFIED"
    assert {i.CodeValue for i in outs[0].DeidentificationMethodCodeSequence} == {"113100", "113107"}


def test_safe_private_list_is_honoured() -> None:
    ds = Dataset()
    ds.add_new(0x00190010, "LO", "ACME 1.0")
    ds.add_new(0x00191001, "DS", "1.5")
    ds.add_new(0x00191002, "LO", "secret")
    safe = [("ACME 1.0", 0x0019, 0x01)]
    out, _ = deidentify_dataset(ds, secret=SECRET, options=["retain-safe-private"], safe_private=safe)
    assert 0x00191001 in out and 0x00190010 in out and 0x00191002 not in out
    out, _ = deidentify_dataset(ds, secret=SECRET, safe_private=safe)
    assert not [e for e in out if e.tag.is_private]


def test_bad_input_is_refused() -> None:
    with pytest.raises(UnknownOptionError, match="valid: retain-safe-private"):
        deidentify_dataset(Dataset(), secret=SECRET, options=["retain-everything"])
    with pytest.raises(UnknownOptionError):
        deidentify_dataset(Dataset(), secret=SECRET, options=OPTIONS)
    with pytest.raises(ValueError):
        deidentify_dataset(Dataset(), secret="")
    with pytest.raises(NotDicomError):
        deidentify_bytes(b"not dicom at all", secret=SECRET)


def _local_test_files() -> list[str]:
    skip = (".txt", ".json", ".py", ".gz", ".bz2")
    return sorted(f for f in get_testdata_files("**/*") if Path(f).is_file() and not f.endswith(skip))


def test_pydicom_test_files_deidentify_and_parse() -> None:
    written = 0
    for path in _local_test_files():
        blob = Path(path).read_bytes()
        try:
            out, report = deidentify_bytes(blob, secret=SECRET)
        except (NotDicomError, DicomDirError):
            continue
        with warnings.catch_warnings():  # values the source file already had wrong (an IS of '1A'...)
            warnings.simplefilter("ignore", UserWarning)
            ds = dcmread(io.BytesIO(out), force=True)
            elements = list(ds.iterall())
        assert ds.PatientIdentityRemoved == "YES", path
        assert not [e.tag for e in elements if e.tag.is_private], path
        assert str(ds.get("PatientName", "") or "") in ("", "ANONYMOUS"), path
        written += 1
    assert written >= 100


def test_structured_report_content() -> None:
    (path,) = [f for f in get_testdata_files("test-SR.dcm")]
    original = dcmread(path)
    out, _ = deidentify_dataset(original, secret=SECRET)
    texts = [e.value for e in out.iterall() if e.keyword in ("TextValue", "PersonName") and e.value]
    assert texts and all(str(t) in ("ANONYMIZED", "ANONYMOUS") for t in texts)
    cleaned, report = deidentify_dataset(
        original, secret=SECRET, options=["clean-structured-content", "clean-descriptors"]
    )
    assert "C" in report.counts() and cleaned.PatientIdentityRemoved == "YES"
    assert {i.CodeValue for i in cleaned.DeidentificationMethodCodeSequence} == {"113100", "113104", "113105"}


def test_cli_writes_tree_and_reports_per_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    (src / "a").mkdir(parents=True)
    ct = Path(get_testdata_files("CT_small.dcm")[0])
    (src / "a" / "ct.dcm").write_bytes(ct.read_bytes())
    (src / "notes.txt").write_text("not dicom")
    (src / "broken.dcm").write_bytes(ct.read_bytes()[:1000])
    runner = CliRunner()
    args = ["dicom", str(src), str(dst), "--secret", SECRET, "--report", str(tmp_path / "r.jsonl"),
            "--option", "retain-longitudinal-modified-dates"]  # fmt: skip
    result = runner.invoke(command, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "failed broken.dcm: malformed_dicom" in result.output and "skipped notes.txt" in result.output
    out = dcmread(dst / "a" / "ct.dcm")
    assert out.PatientIdentityRemoved == "YES" and out.StudyDate != dcmread(ct).StudyDate
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert {r["status"] for r in records} == {"written", "skipped", "failed"}
    assert runner.invoke(command, ["dicom", str(src), str(src / "x")]).exit_code == 2  # no secret
    bad = runner.invoke(command, ["dicom", str(src), str(src / "x"), "--secret", SECRET])
    assert bad.exit_code == 2 and "inside" in bad.output
