"""Burned-in pixel text: OCR finds PHI drawn into a synthetic ultrasound and blacks it out, technical labels
survive, every pixel format is rewritten correctly, and the CLI never skips pixel review silently."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont
from pydicom import dcmread, dcmwrite
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, UltrasoundImageStorage, generate_uid

from annotators.deid.dicom import (
    PixelBox,
    PixelPolicy,
    UnknownPixelPolicyError,
    deidentify_bytes,
    tesseract_version,
)
from annotators.deid.dicom.burnin import is_technical
from annotators.deid.dicom.ocr import parse_tsv, read_words
from annotators.deid.dicom.pixels import blackout, sample_frames
from annotators.deid.dicom.report import Report
from annotators.dicom import frame_count, read_dataset, render_frame
from server.commands.deid import command

SECRET = "test-secret"
needs_tesseract = pytest.mark.skipif(
    tesseract_version() is None,
    reason="SKIPPED: the tesseract program is not installed (apt-get install tesseract-ocr); burned-in text OCR "
    "is untested",
)
Box = tuple[int, int, int, int]


def _ultrasound(patient: str = "DOE^JANE", burned_in: str | None = "YES") -> tuple[bytes, dict[str, Box]]:
    """A 640x480 8-bit ultrasound with a name in the top banner, a date mid-image and a frequency label;
    returns the file and each text's box (x0, y0, x1, y1)."""
    image = Image.new("L", (640, 480), 0)
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 120, 520, 400), fill=60)  # the "scan" under the labels
    font = ImageFont.load_default(size=24)
    boxes = {}
    for key, xy, text in (("name", (12, 8), "DOE^JANE"), ("date", (200, 220), "03/14/1962"),
                          ("label", (540, 200), "5.0 MHz")):  # fmt: skip
        draw.text(xy, text, fill=255, font=font)
        x0, y0, x1, y1 = draw.textbbox(xy, text, font=font)
        boxes[key] = (int(x0), int(y0), int(x1), int(y1))
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = UltrasoundImageStorage
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = patient, "PX-4471", "US"
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 480, 640, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.asarray(image).tobytes()
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue(), boxes


def _pixels(blob: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(dcmread(io.BytesIO(blob)).pixel_array)


def _crop(pixels: np.ndarray, box: Box) -> np.ndarray:
    return pixels[box[1] : box[3], box[0] : box[2]]


def _blacked(pixels: np.ndarray, box: Box) -> bool:
    return bool((_crop(pixels, box) == 0).all())


@needs_tesseract
@pytest.mark.parametrize("header_name, reason", [("DOE^JANE", "header"), ("ROE^RICHARD", "banner")])
def test_ocr_blacks_out_phi_and_keeps_labels(header_name: str, reason: str) -> None:
    blob, where = _ultrasound(patient=header_name)
    out, report = deidentify_bytes(blob, secret=SECRET, pixels="ocr")
    before, after = _pixels(blob), _pixels(out)
    assert _blacked(after, where["name"]) and _blacked(after, where["date"])
    assert np.array_equal(_crop(after, where["label"]), _crop(before, where["label"]))  # "5.0 MHz" survives
    assert not _blacked(before, where["name"])
    redacted = [b for b in report.pixel_boxes if b.redacted]
    name = [b for b in redacted if b.x <= where["name"][0] + 4 and b.y < 40]
    assert name and name[0].reason == reason
    assert any(b.label == "DATE" for b in redacted)
    assert [b for b in report.pixel_boxes if not b.redacted and b.x >= 530]  # the label was found and kept
    ds = dcmread(io.BytesIO(out))
    assert ds.BurnedInAnnotation == "YES" and report.needs_pixel_review  # the kept label is still burned in
    assert "113101" in {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    record = json.dumps(report.pixels())
    assert "DOE" not in record and "1962" not in record and "MHz" not in record  # lengths, never text
    again = " ".join(w.text for w in read_words(render_frame(out))).upper()
    assert "DOE" not in again and "1962" not in again and "MHZ" in again


@needs_tesseract
def test_all_text_blacks_out_every_word_and_clears_the_flag() -> None:
    blob, where = _ultrasound()
    out, report = deidentify_bytes(blob, secret=SECRET, pixels="all-text")
    after = _pixels(out)
    assert all(_blacked(after, box) for box in where.values())
    assert report.pixel_boxes and all(b.redacted and b.reason == "all-text" for b in report.pixel_boxes)
    assert dcmread(io.BytesIO(out)).BurnedInAnnotation == "NO" and not report.needs_pixel_review


@needs_tesseract
def test_compressed_pixels_are_decoded_and_written_uncompressed() -> None:
    blob, where = _ultrasound()
    ds = dcmread(io.BytesIO(blob))
    ds.compress(RLELossless)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    out, report = deidentify_bytes(buffer.getvalue(), secret=SECRET, pixels="ocr")
    written = dcmread(io.BytesIO(out))
    assert written.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert _blacked(_pixels(out), where["name"]) and report.pixel_warning is None


@needs_tesseract
def test_multi_frame_boxes_are_blacked_out_on_every_frame() -> None:
    blob, where = _ultrasound()
    ds = dcmread(io.BytesIO(blob))
    texture = np.full((480, 640), 90, dtype=np.uint8)
    texture[470:] = 0
    ds.PixelData = np.stack([texture, ds.pixel_array, texture]).tobytes()
    ds.NumberOfFrames = 3
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    out, report = deidentify_bytes(buffer.getvalue(), secret=SECRET, pixels="ocr")
    frames = dcmread(io.BytesIO(out)).pixel_array
    assert frames.shape == (3, 480, 640) and report.pixel_frames == 3
    assert {b.frame for b in report.pixel_boxes} == {1}
    assert all(_blacked(frame, where["name"]) for frame in frames)  # the darkest value of each frame is 0
    assert (frames[0][260:470] == 90).all() and (frames[0][:40, 200:] == 90).all()  # nothing else changed


def test_flag_and_burned_in_no_leave_pixels_alone() -> None:
    blob, _ = _ultrasound()
    out, report = deidentify_bytes(blob, secret=SECRET, pixels="flag")
    assert np.array_equal(_pixels(out), _pixels(blob)) and report.needs_pixel_review and not report.pixel_boxes
    clean, _ = _ultrasound(burned_in="NO")
    out, report = deidentify_bytes(clean, secret=SECRET, pixels="flag")
    assert np.array_equal(_pixels(out), _pixels(clean)) and not report.needs_pixel_review


@needs_tesseract
def test_burned_in_no_is_respected_even_under_all_text() -> None:
    clean, _ = _ultrasound(burned_in="NO")
    out, report = deidentify_bytes(clean, secret=SECRET, pixels="all-text")
    assert np.array_equal(_pixels(out), _pixels(clean)) and report.pixel_policy is None


@pytest.mark.parametrize(
    "word, technical",
    [("5.0", True), ("MHz", True), ("H4.00", True), ("L12-5", True), ("TIS0.5", True), ("20dB/DR60", True),
     ("60%", True), ("4.0cm", True), ("DOE", False), ("JANE", False), ("03/14/1962", False),
     ("00079241539", False), ("CLEVELAND", False)],
)  # fmt: skip
def test_technical_labels(word: str, technical: bool) -> None:
    assert is_technical(word) is technical


def test_policy_is_validated() -> None:
    with pytest.raises(UnknownPixelPolicyError, match="valid: ocr, all-text, flag"):
        PixelPolicy(mode="blur")
    with pytest.raises(UnknownPixelPolicyError):
        PixelPolicy(banner_top=0.9)
    with pytest.raises(UnknownPixelPolicyError):
        deidentify_bytes(_ultrasound()[0], secret=SECRET, pixels="everything")


def test_tesseract_tsv_is_scaled_back() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "5\t1\t1\t1\t1\t1\t20\t10\t61\t31\t91.5\tJANE\n5\t1\t2\t1\t1\t1\t0\t0\t9\t9\t12.0\tee\n"
           "5\t1\t3\t1\t1\t1\t0\t0\t9\t9\t95.0\t—\n")  # fmt: skip
    (word,) = parse_tsv(tsv, scale=2)
    assert (word.text, word.x, word.y, word.width, word.height, word.line) == ("JANE", 10, 5, 31, 16, (1, 1, 1))


def test_frames_are_sampled_evenly() -> None:
    assert sample_frames(3, 8) == [0, 1, 2]
    assert sample_frames(100, 5) == [0, 25, 50, 74, 99]  # round() halves to even: 74.25 -> 74
    assert sample_frames(10, 1) == [0]


_FORMATS = ["CT_small.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm", "SC_rgb_rle_2frame.dcm",
            "examples_palette.dcm", "SC_ybr_full_422_uncompressed.dcm", "MR_small_jp2klossless.dcm",
            "SC_rgb_dcmtk_+eb+cy+np.dcm", "image_dfl.dcm"]  # fmt: skip


@pytest.mark.parametrize("name", _FORMATS)
def test_blackout_rewrites_every_pixel_format(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = read_dataset(Path(get_testdata_files(name)[0]).read_bytes())
        before = [np.asarray(render_frame(ds, i)) for i in range(frame_count(ds))]
        rows, cols = int(ds.Rows), int(ds.Columns)
        box = PixelBox(0, cols // 4, rows // 4, cols // 4, rows // 4, "NAME", "test", 4, True, "test@0")
        blackout(ds, [box], Report("test", ()))
        buffer = io.BytesIO()
        dcmwrite(buffer, ds, enforce_file_format=False)
        out = read_dataset(buffer.getvalue())
        after = [np.asarray(render_frame(out, i)) for i in range(frame_count(out))]
    assert len(after) == len(before) and out.file_meta.TransferSyntaxUID.is_little_endian
    y, x, h, w = box.y, box.x, box.height, box.width
    for old, new in zip(before, after, strict=True):
        region = new[y : y + h, x : x + w].reshape(h * w, -1)
        assert (region == region[0]).all() and region[0].max() <= old.max()  # one dark value fills the box
        assert not (old[y : y + h, x : x + w] == old[y, x]).all()  # ...where the picture had detail
        assert np.array_equal(new[:y], old[:y]) and np.array_equal(new[y + h :], old[y + h :])  # nothing else


def _cli(tmp_path: Path, *extra: str) -> tuple[Any, list[dict[str, Any]]]:
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir(exist_ok=True)
    (src / "us.dcm").write_bytes(_ultrasound()[0])
    args = ["dicom", str(src), str(dst), "--secret", SECRET, "--report", str(tmp_path / "r.jsonl"), *extra]
    result = CliRunner().invoke(command, args)
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    return result, records


@needs_tesseract
def test_cli_pixels_option_records_boxes(tmp_path: Path) -> None:
    result, records = _cli(tmp_path, "--pixels", "all-text")
    assert result.exit_code == 0, result.output
    pixels = records[0]["pixels"]
    assert pixels["policy"] == "all-text" and pixels["redacted"] == len(pixels["boxes"]) >= 3
    assert pixels["burned_in_annotation"] == "NO" and records[0]["burned_in_annotation"] == "YES"
    assert set(pixels["boxes"][0]) >= {"frame", "x", "y", "width", "height", "label", "chars", "redacted"}
    assert "text box(es) found" in result.output and "DOE" not in result.output


def test_cli_without_tesseract_warns_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import annotators.deid.dicom as dicom_deid

    monkeypatch.setattr(dicom_deid, "tesseract_version", lambda: None)
    result, records = _cli(tmp_path)
    assert result.exit_code == 0 and "WARNING" in result.output and "NOT removed" in result.output
    assert records[0]["needs_pixel_review"] and "tesseract" in records[0]["pixels"]["warning"]
    refused = CliRunner().invoke(command, ["dicom", str(tmp_path / "in"), str(tmp_path / "o2"), "--secret",
                                           SECRET, "--pixels", "ocr"])  # fmt: skip
    assert refused.exit_code == 2 and "tesseract" in refused.output
