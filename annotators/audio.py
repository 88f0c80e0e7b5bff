"""Probe dictation audio (wav, flac, mp3, ogg, m4a) without decoding it, so ingest can trust what it stores.

The container is recognised from its magic bytes, then parsed by the matching mutagen class; a file
extension or a filename is never trusted. Nothing here decodes samples: transcription engines do that.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from annotators.errors import EngineError

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".m4a"})

MEDIA_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
}

# mutagen classes to try, in order, for each recognised container.
_PARSERS: dict[str, tuple[Any, ...]] = {
    "wav": (WAVE,),
    "flac": (FLAC,),
    "mp3": (MP3,),
    "ogg": (OggVorbis, OggOpus, OggFLAC, OggSpeex),
    "m4a": (MP4,),
}


class AudioError(EngineError):
    """The bytes are not usable audio; ``code`` is ``not_audio`` or ``empty_audio``. Messages hold no PHI."""

    code = "not_audio"


@dataclass(frozen=True)
class AudioInfo:
    """What ingest stores about an audio file: container format, media type, duration and layout."""

    format: str
    media_type: str
    duration_s: float
    sample_rate: int | None
    channels: int | None


def probe_audio(source: bytes | str | os.PathLike[str], filename: str | None = None) -> AudioInfo:
    """Identify and measure an audio file from its content.

    ``format`` is one of "wav", "flac", "mp3", "ogg" (Vorbis, Opus, FLAC or Speex in Ogg) or "m4a" (any
    MP4 container with an audio track). ``filename`` is accepted for the caller's convenience but never
    decides anything: a text file named ``.wav`` is refused, a FLAC named ``.mp3`` is reported as FLAC.
    Raises `AudioError` with code ``empty_audio`` for an empty file or zero duration and ``not_audio`` for
    anything else that is not a parseable audio file of a supported format.
    """
    del filename  # the content decides, never the name
    if isinstance(source, bytes | bytearray | memoryview):
        return _probe(io.BytesIO(source))
    with Path(source).open("rb") as fp:
        return _probe(fp)


def _probe(fp: BinaryIO) -> AudioInfo:
    head = fp.read(64)
    if not head:
        raise AudioError("The audio file is empty.", code="empty_audio")
    kind = _sniff(fp, head)
    if kind is None:
        raise AudioError("The file is not audio in a supported format (wav, flac, mp3, ogg, m4a).")
    info = None
    for parser in _PARSERS[kind]:
        fp.seek(0)
        try:
            info = parser(fp).info
            break
        except Exception:  # mutagen raises its own errors, but also struct/EOF errors on garbage
            continue
    if info is None or (kind == "mp3" and getattr(info, "sketchy", False)):
        raise AudioError(f"The file looks like {kind} but its audio stream cannot be parsed.")
    duration = float(getattr(info, "length", 0.0) or 0.0)
    if kind == "wav":
        duration = min(duration, _wav_duration_present(fp, info))
    if not math.isfinite(duration) or duration <= 0:
        raise AudioError("The audio has zero duration.", code="empty_audio")
    return AudioInfo(
        format=kind,
        media_type=MEDIA_TYPES[kind],
        duration_s=duration,
        sample_rate=_positive(getattr(info, "sample_rate", None)),
        channels=_positive(getattr(info, "channels", None)),
    )


def _sniff(fp: BinaryIO, head: bytes) -> str | None:
    """The container named by the magic bytes at the start (after any ID3v2 tag), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" and len(head) >= 10:
        size = 10 + sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(head[6:10]))
        if head[5] & 0x10:  # footer present
            size += 10
        fp.seek(size)
        after = fp.read(4)
        fp.seek(0)
        return "flac" if after == b"fLaC" else "mp3"  # mutagen then insists on real MPEG frames
    if head[:4] == b"fLaC":
        return "flac"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"  # MPEG audio frame sync with a non-reserved layer (ADTS AAC has layer 0)
    return None


def _wav_duration_present(fp: BinaryIO, info: Any) -> float:
    """Seconds of samples actually in the file: a truncated or streamed WAV's header overstates them."""
    frame_bytes = int(info.channels or 0) * ((int(info.bits_per_sample or 0) + 7) // 8)
    if frame_bytes <= 0 or not info.sample_rate:
        return 0.0
    end = fp.seek(0, io.SEEK_END)
    position = 12
    while position + 8 <= end:
        fp.seek(position)
        header = fp.read(8)
        size = int.from_bytes(header[4:8], "little")
        if header[:4] == b"data":
            present = min(size, end - position - 8)
            return present // frame_bytes / float(info.sample_rate)
        position += 8 + size + (size & 1)
    return 0.0


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
