"""The DICOM engine: sniff, parse and validate instances for ingest, and render frames for the viewer.

Pure Python on pydicom, numpy and Pillow (pylibjpeg codecs for compressed syntaxes); no Flask.

    info = read_info(blob)               # DicomInstanceInfo, or a DicomError with a stable ``code``
    ds = read_dataset(blob)              # parse once, cache, then render many times
    image = render_frame(ds, 0, preset="lung")

Error codes: ``not_dicom``, ``malformed_dicom``, ``dicomdir``, ``unsupported_transfer_syntax``,
``no_pixel_data`` and ``frame_out_of_range`` (a `NoPixelDataError` subclass).
"""

from annotators.dicom.errors import (
    DicomDirError,
    DicomError,
    FrameOutOfRangeError,
    MalformedDicomError,
    NoPixelDataError,
    NotDicomError,
    UnsupportedTransferSyntaxError,
)
from annotators.dicom.reading import (
    DicomInstanceInfo,
    frame_count,
    is_dicomdir,
    looks_like_dicom,
    pixel_spacing,
    read_dataset,
    read_info,
    transfer_syntax,
)
from annotators.dicom.rendering import PRESETS, can_decode, render_frame

__all__ = [
    "PRESETS",
    "DicomDirError",
    "DicomError",
    "DicomInstanceInfo",
    "FrameOutOfRangeError",
    "MalformedDicomError",
    "NoPixelDataError",
    "NotDicomError",
    "UnsupportedTransferSyntaxError",
    "can_decode",
    "frame_count",
    "is_dicomdir",
    "looks_like_dicom",
    "pixel_spacing",
    "read_dataset",
    "read_info",
    "render_frame",
    "transfer_syntax",
]
