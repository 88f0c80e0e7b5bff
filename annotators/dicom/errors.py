"""Errors raised by the DICOM engine.

Every error carries a stable snake_case ``code`` for the API and a human message that never contains PHI:
no file names, no element values, no text copied from the parser.
"""

from __future__ import annotations

from annotators.errors import EngineError


class DicomError(EngineError):
    """Base class of every DICOM engine error; ``code`` is a stable snake_case identifier."""

    code: str = "dicom_error"


class NotDicomError(DicomError):
    """The bytes are not a DICOM file at all (a PNG, text, random bytes, an empty file)."""

    code = "not_dicom"


class MalformedDicomError(DicomError):
    """A DICOM file that cannot be trusted: parse failure, truncation, short pixel data or missing UIDs."""

    code = "malformed_dicom"


class DicomDirError(DicomError):
    """A DICOMDIR (Media Storage Directory): an index of other files, not an image instance."""

    code = "dicomdir"


class UnsupportedTransferSyntaxError(DicomError):
    """The installed codecs cannot decode the pixel data's transfer syntax (HTTP 415 in the server)."""

    code = "unsupported_transfer_syntax"


class NoPixelDataError(DicomError):
    """The instance has no pixel data to render (HTTP 422 in the server)."""

    code = "no_pixel_data"


class FrameOutOfRangeError(NoPixelDataError):
    """The requested frame index does not exist; a ``NoPixelDataError`` with code ``frame_out_of_range``."""

    code = "frame_out_of_range"
