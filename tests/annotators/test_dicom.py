"""Tests for annotators.dicom over pydicom's bundled test files (shipped inside the pydicom wheel)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    HEVCMP51,
    JPEG2000,
    MPEG2MPML,
    MPEG4HP41,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEG2000MCLossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from annotators.dicom import (
    PRESETS,
    DicomDirError,
    DicomError,
    FrameOutOfRangeError,
    MalformedDicomError,
    NoPixelDataError,
    NotDicomError,
    UnsupportedTransferSyntaxError,
    can_decode,
    is_dicomdir,
    looks_like_dicom,
    pixel_spacing,
    read_dataset,
    read_info,
    render_frame,
)

CR_MONOCHROME1 = "dicomdirtests/77654033/CR1/6154"


def data(name: str) -> bytes:
    """The bytes of one of pydicom's bundled test files."""
    return Path(get_testdata_file(name)).read_bytes()


def to_bytes(ds: Dataset, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, **kwargs)  # type: ignore[arg-type]
    return buffer.getvalue()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


@pytest.mark.parametrize(
    "name, syntax, photometric, frames, mode, size",
    [
        ("CT_small.dcm", ExplicitVRLittleEndian, "MONOCHROME2", 1, "L", (128, 128)),
        ("MR_small.dcm", ExplicitVRLittleEndian, "MONOCHROME2", 1, "L", (64, 64)),
        ("MR_small_implicit.dcm", ImplicitVRLittleEndian, "MONOCHROME2", 1, "L", (64, 64)),
        ("MR_small_bigendian.dcm", ExplicitVRBigEndian, "MONOCHROME2", 1, "L", (64, 64)),
        ("image_dfl.dcm", DeflatedExplicitVRLittleEndian, "MONOCHROME2", 1, "L", (512, 512)),
        ("MR_small_RLE.dcm", RLELossless, "MONOCHROME2", 1, "L", (64, 64)),
        ("SC_rgb_rle_2frame.dcm", RLELossless, "RGB", 2, "RGB", (100, 100)),
        ("rtdose.dcm", ImplicitVRLittleEndian, "MONOCHROME2", 15, "L", (10, 10)),
        ("SC_rgb_jpeg_dcmtk.dcm", JPEGBaseline8Bit, "YBR_FULL", 1, "RGB", (100, 100)),
        ("examples_ybr_color.dcm", JPEGBaseline8Bit, "YBR_FULL_422", 30, "RGB", (320, 240)),
        ("JPGExtended.dcm", JPEGExtended12Bit, "MONOCHROME2", 1, "L", (256, 1024)),
        ("SC_rgb_jpeg_gdcm.dcm", JPEGLosslessSV1, "RGB", 1, "RGB", (100, 100)),
        ("MR_small_jpeg_ls_lossless.dcm", JPEGLSLossless, "MONOCHROME2", 1, "L", (64, 64)),
        ("MR_small_jp2klossless.dcm", JPEG2000Lossless, "MONOCHROME2", 1, "L", (64, 64)),
        ("JPEG2000.dcm", JPEG2000, "MONOCHROME2", 1, "L", (256, 1024)),
        ("GDCMJ2K_TextGBR.dcm", JPEG2000Lossless, "YBR_RCT", 1, "RGB", (400, 400)),
        ("examples_rgb_color.dcm", ExplicitVRLittleEndian, "RGB", 1, "RGB", (320, 240)),
        ("SC_ybr_full_422_uncompressed.dcm", ExplicitVRLittleEndian, "YBR_FULL_422", 1, "RGB", (100, 100)),
        ("examples_palette.dcm", ExplicitVRLittleEndian, "PALETTE COLOR", 1, "RGB", (800, 350)),
        ("liver_1frame.dcm", ExplicitVRLittleEndian, "MONOCHROME2", 1, "L", (512, 512)),
        (CR_MONOCHROME1, ExplicitVRLittleEndian, "MONOCHROME1", 1, "L", (16, 16)),
    ],
)
def test_read_and_render(
    name: str, syntax: str, photometric: str, frames: int, mode: str, size: tuple[int, int]
) -> None:
    info = read_info(data(name))
    assert (info.transfer_syntax_uid, info.photometric_interpretation) == (syntax, photometric)
    assert info.frame_count == frames and info.has_pixels
    assert (info.columns, info.rows) == size
    assert can_decode(syntax)
    last = render_frame(get_testdata_file(name), frames - 1)
    assert (last.mode, last.size) == (mode, size)


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
    ],
)
def test_lossless_syntaxes_render_the_same_pixels(name: str) -> None:
    assert np.array_equal(pixels(render_frame(data(name))), pixels(render_frame(data("MR_small.dcm"))))


@pytest.mark.parametrize("name", ["rtplan.dcm", "test-SR.dcm", "rtstruct.dcm"])
def test_instances_without_pixel_data(name: str) -> None:
    info = read_info(data(name))
    assert (info.has_pixels, info.frame_count, info.rows) == (False, 0, None)
    with pytest.raises(NoPixelDataError) as caught:
        render_frame(data(name))
    assert caught.value.code == "no_pixel_data"


def test_info_fields() -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    info = read_info(get_testdata_file("CT_small.dcm"))
    assert info.sop_instance_uid == ds.SOPInstanceUID
    assert info.study_instance_uid == ds.StudyInstanceUID
    assert info.series_instance_uid == ds.SeriesInstanceUID
    assert info.sop_class_uid == ds.SOPClassUID
    assert info.modality == "CT"
    assert info.patient_id == ds.PatientID
    assert info.study_date == ds.StudyDate
    assert info.series_number == int(ds.SeriesNumber)
    assert info.pixel_spacing == (pytest.approx(0.661468), pytest.approx(0.661468))
    assert not is_dicomdir(info)


def test_pixel_spacing_falls_back_to_functional_groups() -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    del ds.PixelSpacing
    assert pixel_spacing(ds) is None
    measures = Dataset()
    measures.PixelSpacing = [0.5, 0.25]
    group = Dataset()
    group.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([group])
    assert read_info(to_bytes(ds)).pixel_spacing == (0.5, 0.25)
    ds.ImagerPixelSpacing = [0.1, 0.1]
    assert pixel_spacing(ds) == (0.1, 0.1)


@pytest.mark.parametrize("name", ["dicomdirtests/DICOMDIR", "dicomdirtests/DICOMDIR-bigEnd"])
def test_dicomdir_is_refused_with_its_own_code(name: str) -> None:
    assert is_dicomdir(read_dataset(data(name)))
    with pytest.raises(DicomDirError) as caught:
        read_info(data(name))
    assert caught.value.code == "dicomdir"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "blob, error, code",
    [
        (b"", NotDicomError, "not_dicom"),
        (b"Patient: nodule in the right upper lobe.\n" * 10, NotDicomError, "not_dicom"),
        (np.random.default_rng(7).bytes(4096), NotDicomError, "not_dicom"),
        (b"\0" * 128 + b"DICM" + np.random.default_rng(8).bytes(512), MalformedDicomError, "malformed_dicom"),
        (data("CT_small.dcm")[:600], MalformedDicomError, "malformed_dicom"),
        (data("CT_small.dcm")[:-5000], MalformedDicomError, "malformed_dicom"),
        (data("MR_truncated.dcm"), MalformedDicomError, "malformed_dicom"),
        (data("JPEG2000.dcm")[:-100], MalformedDicomError, "malformed_dicom"),
        (data("SC_rgb_rle_2frame.dcm")[:-700], MalformedDicomError, "malformed_dicom"),
    ],
    ids=[
        "empty",
        "text",
        "random",
        "random-after-DICM",
        "cut-in-header",
        "cut-in-pixels",
        "MR_truncated",
        "cut-in-jpeg2000",
        "cut-in-rle-2frame",
    ],
)
def test_bad_input_is_refused(blob: bytes, error: type[DicomError], code: str) -> None:
    with pytest.raises(error) as caught:
        read_info(blob)
    assert caught.value.code == code


def test_png_named_dcm(tmp_path: Path) -> None:
    path = tmp_path / "image.dcm"
    path.write_bytes(_png())
    assert not looks_like_dicom(path.read_bytes()[:132])
    with pytest.raises(NotDicomError):
        read_info(path)
    with pytest.raises(NotDicomError):
        render_frame(str(path))


@pytest.mark.parametrize("keyword", ["SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "PixelData"])
def test_missing_required_element_is_malformed(keyword: str) -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    delattr(ds, keyword)
    with pytest.raises(MalformedDicomError) as caught:
        read_info(to_bytes(ds))
    assert ds.PatientID not in str(caught.value)  # messages carry no PHI


def test_dataset_without_preamble_or_file_meta() -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    ds.preamble = None
    del ds.file_meta
    blob = to_bytes(ds, implicit_vr=True, little_endian=True)
    assert not looks_like_dicom(blob[:132])
    info = read_info(blob)
    assert (info.transfer_syntax_uid, info.frame_count) == (ImplicitVRLittleEndian, 1)
    assert np.array_equal(pixels(render_frame(blob)), pixels(render_frame(data("CT_small.dcm"))))


@pytest.mark.parametrize(
    "syntax, expected",
    [
        (ExplicitVRLittleEndian, True),
        (ExplicitVRBigEndian, True),
        (DeflatedExplicitVRLittleEndian, True),
        (RLELossless, True),
        (JPEGBaseline8Bit, True),
        (JPEGLosslessSV1, True),
        (JPEGLSLossless, True),
        (JPEG2000, True),
        (HTJ2KLossless, True),
        (JPEG2000MCLossless, False),
        (MPEG2MPML, False),
        (MPEG4HP41, False),
        (HEVCMP51, False),
        ("1.2.3.4", False),
    ],
)
def test_can_decode(syntax: str, expected: bool) -> None:
    assert can_decode(syntax) is expected


def test_unsupported_syntax_is_stored_but_not_rendered() -> None:
    ds = dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    blob = to_bytes(ds)
    assert read_info(blob).transfer_syntax_uid == MPEG2MPML
    with pytest.raises(UnsupportedTransferSyntaxError) as caught:
        render_frame(blob)
    assert caught.value.code == "unsupported_transfer_syntax"


@pytest.mark.parametrize(
    "looks, head",
    [(True, b"\0" * 128 + b"DICM"), (False, b"\0" * 128 + b"DICK"), (False, b"DICM"), (False, b"")],
)
def test_looks_like_dicom(looks: bool, head: bytes) -> None:
    assert looks_like_dicom(head) is looks


@pytest.fixture(scope="module")
def ct() -> Dataset:
    return read_dataset(data("CT_small.dcm"))


@pytest.mark.parametrize(
    "window, expected_mean",
    [
        ({"center": 10_000.0, "width": 10.0}, 0.0),  # everything below the window: black
        ({"center": -10_000.0, "width": 10.0}, 255.0),  # everything above: white
    ],
)
def test_window_extremes(ct: Dataset, window: dict, expected_mean: float) -> None:
    assert pixels(render_frame(ct, **window)).mean() == expected_mean


def test_windowing_changes_the_output(ct: Dataset) -> None:
    renders = [pixels(render_frame(ct, preset=name)) for name in ("lung", "bone", "brain")]
    renders.append(pixels(render_frame(ct)))  # the file's own window
    for i, a in enumerate(renders):
        for b in renders[i + 1 :]:
            assert not np.array_equal(a, b)


def test_explicit_window_beats_preset_and_each_value_overrides_alone(ct: Dataset) -> None:
    explicit = pixels(render_frame(ct, center=40, width=400))
    assert np.array_equal(pixels(render_frame(ct, preset="lung", center=40, width=400)), explicit)
    assert np.array_equal(pixels(render_frame(ct, preset="soft_tissue", center=40)), explicit)


def test_presets_and_unknown_preset(ct: Dataset) -> None:
    assert set(PRESETS) == {
        "lung",
        "mediastinum",
        "bone",
        "brain",
        "abdomen",
        "liver",
        "soft_tissue",
        "stroke",
        "subdural",
    }
    for name, (center, width) in PRESETS.items():
        assert width > 0
        assert np.array_equal(
            pixels(render_frame(ct, preset=name)), pixels(render_frame(ct, center=center, width=width))
        )
    with pytest.raises(ValueError, match="lung"):
        render_frame(ct, preset="lungs")
    with pytest.raises(ValueError):
        render_frame(ct, width=0)


def test_min_max_window_when_the_file_has_none(ct: Dataset) -> None:
    ds = read_dataset(data("CT_small.dcm"))
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    out = pixels(render_frame(ds))
    assert (out.min(), out.max()) == (0, 255)


def test_monochrome1_is_inverted() -> None:
    ds = read_dataset(data(CR_MONOCHROME1))
    inverted = pixels(render_frame(ds)).astype(int)
    ds.PhotometricInterpretation = "MONOCHROME2"
    assert np.array_equal(inverted, 255 - pixels(render_frame(ds)).astype(int))


def test_rendering_does_not_change_the_cached_dataset(ct: Dataset) -> None:
    before = ct.PixelData
    first = pixels(render_frame(ct, preset="lung"))
    assert ct.PixelData == before
    assert np.array_equal(first, pixels(render_frame(ct, preset="lung")))


@pytest.mark.parametrize("frame", [-1, 15, 100])
def test_frame_out_of_range(frame: int) -> None:
    with pytest.raises(FrameOutOfRangeError) as caught:
        render_frame(data("rtdose.dcm"), frame)
    assert caught.value.code == "frame_out_of_range"
    assert isinstance(caught.value, NoPixelDataError)


def test_frames_differ_in_a_multiframe_file() -> None:
    ds = read_dataset(data("rtdose.dcm"))
    first, middle = (pixels(render_frame(ds, f, center=0.5e6, width=1e6)) for f in (0, 7))
    assert not np.array_equal(first, middle)
