"""Frame rendering for the viewer: parsed datasets cached per process (LRU by content hash), PNG out."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

from annotators import dicom, images
from server.errors import NotFound, Unprocessable, UnsupportedMedia, ValidationError
from server.models import Instance
from server.storage import BlobStore

_CACHE_SIZE = 16
_cache: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()


def _dataset(blobs: BlobStore, sha256: str) -> Any:
    with _lock:
        if sha256 in _cache:
            _cache.move_to_end(sha256)
            return _cache[sha256]
    import pydicom

    with blobs.open(sha256) as f:
        ds = pydicom.dcmread(f)
    with _lock:
        _cache[sha256] = ds
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return ds


def _float(params: dict[str, str], name: str) -> float | None:
    if params.get(name) in (None, ""):
        return None
    try:
        return float(params[name])
    except ValueError as exc:
        raise ValidationError(f"{name} must be a number", code="invalid_parameter") from exc


def render_png(blobs: BlobStore, inst: Instance, frame: int, params: dict[str, str]) -> bytes:
    """PNG bytes of one frame (0-based) with window `center`/`width` or a `preset`."""
    if frame < 0 or frame >= max(inst.frame_count, 1):
        raise NotFound(f"frame {frame} does not exist (the instance has {inst.frame_count})", code="no_such_frame")
    if inst.media_type != "application/dicom":
        image = images.render_image(blobs.read(inst.blob_sha256))
    else:
        preset = params.get("preset") or None
        if preset and preset not in dicom.PRESETS:
            raise ValidationError(
                f"unknown preset {preset!r}; presets: {', '.join(sorted(dicom.PRESETS))}",
                code="invalid_parameter",
            )
        try:
            image = dicom.render_frame(
                _dataset(blobs, inst.blob_sha256),
                frame,
                center=_float(params, "center"),
                width=_float(params, "width"),
                preset=preset,
            )
        except dicom.UnsupportedTransferSyntaxError as exc:
            raise UnsupportedMedia(str(exc), code="unsupported_transfer_syntax") from exc
        except dicom.DicomError as exc:
            raise Unprocessable(str(exc), code=exc.code) from exc
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
