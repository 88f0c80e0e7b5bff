"""Audio → 16 kHz mono float32 samples, decoded in-process with PyAV (FFmpeg's libraries, no `ffmpeg` program).

Any container and codec FFmpeg reads works (wav, flac, mp3, ogg, m4a; a video file's first audio track), at any
sample rate and channel layout. Decoding streams: `chunks` yields pieces of at most `chunk_seconds`, each cut at
the quietest moment near its end so that no word is split between two pieces, and memory stays bounded by
the piece size however long the recording is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from annotators.audio import AudioError

SAMPLE_RATE = 16000
_FRAME = 320  # 20 ms energy frames for finding quiet cut points
_QUIET_WINDOW = 10  # frames averaged: 0.2 s


def _open(source: str | os.PathLike[str] | IO[bytes]) -> Any:
    import av

    if isinstance(source, str | os.PathLike) and os.path.getsize(source) == 0:
        raise AudioError("The audio file is empty.", code="empty_audio")
    try:
        return av.open(source if not isinstance(source, os.PathLike) else os.fspath(source), mode="r")
    except av.error.FFmpegError as exc:
        raise AudioError("The file is not audio in a format that can be decoded.") from exc


def estimated_duration(source: str | os.PathLike[str]) -> float | None:
    """The container's idea of the duration in seconds (for progress), or None."""
    try:
        with _open(source) as container:
            if container.duration:
                return float(container.duration) / 1_000_000
    except AudioError:
        return None
    return None


def stream(source: str | os.PathLike[str] | IO[bytes], block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Decoded 16 kHz mono float32 blocks of about `block_seconds` (the last may be shorter)."""
    import av

    container = _open(source)
    try:
        if not container.streams.audio:
            raise AudioError("The file has no audio track.")
        audio = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        pending: list[np.ndarray] = []
        size = 0
        block = int(block_seconds * SAMPLE_RATE)
        try:
            for frame in container.decode(audio):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    size += pending[-1].size
                if size >= block:
                    yield np.concatenate(pending).astype(np.float32, copy=False)
                    pending, size = [], 0
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise AudioError("The audio stream is corrupt and cannot be decoded.") from exc
        if pending:
            yield np.concatenate(pending).astype(np.float32, copy=False)
    finally:
        container.close()


def load(source: str | os.PathLike[str] | IO[bytes]) -> np.ndarray:
    """The whole recording as one 16 kHz mono float32 array (use `chunks` for long recordings)."""
    blocks = list(stream(source))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def quiet_point(samples: np.ndarray) -> int:
    """Index of the middle of the quietest 0.2 s of `samples` (where a cut splits no word)."""
    frames = samples.size // _FRAME
    if frames <= _QUIET_WINDOW:
        return samples.size
    energy = np.square(samples[: frames * _FRAME].reshape(frames, _FRAME), dtype=np.float64).mean(axis=1)
    smooth = np.convolve(energy, np.ones(_QUIET_WINDOW) / _QUIET_WINDOW, mode="valid")
    best = int(np.argmin(smooth[::-1]))  # reversed: among equals, the latest quiet moment
    return (smooth.size - 1 - best + _QUIET_WINDOW // 2) * _FRAME


def chunks(
    blocks: Iterator[np.ndarray], chunk_seconds: float = 300.0, search_seconds: float = 20.0
) -> Iterator[tuple[float, np.ndarray]]:
    """(offset seconds, samples) pieces of at most `chunk_seconds`, each ending at the quietest moment of
    its last `search_seconds`; what follows the cut starts the next piece."""
    limit = int(chunk_seconds * SAMPLE_RATE)
    search = min(int(search_seconds * SAMPLE_RATE), limit // 2)
    buffer = np.zeros(0, dtype=np.float32)
    offset = 0
    for block in blocks:
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        while buffer.size >= limit:
            cut = limit - search + quiet_point(buffer[limit - search: limit])
            yield offset / SAMPLE_RATE, buffer[:cut]
            buffer, offset = buffer[cut:], offset + cut
    if buffer.size:
        yield offset / SAMPLE_RATE, buffer


def is_silent(samples: np.ndarray, threshold: float = 1e-3) -> bool:
    """True when nothing in `samples` rises above `threshold` RMS over any 0.2 s (digital or near silence)."""
    frames = samples.size // _FRAME
    if frames == 0:
        return True
    energy = np.square(samples[: frames * _FRAME].reshape(frames, _FRAME), dtype=np.float64).mean(axis=1)
    window = min(_QUIET_WINDOW, frames)
    loudest = np.convolve(energy, np.ones(window) / window, mode="valid").max()
    return bool(np.sqrt(loudest) < threshold)
