"""Audio decoding for transcription: every supported container → 16 kHz mono float32, bad input → AudioError,
quiet-point chunking, silence detection. No model is loaded here."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from annotators.audio import AudioError
from annotators.transcription import decoding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MEDIA = FIXTURES / "media"
AUDIO = FIXTURES / "audio"


def write_wav(path: Path, seconds: float, rate: int, channels: int, freq: float = 440.0) -> Path:
    frames = int(seconds * rate)
    samples = [int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(frames)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) * channels for s in samples))
    return path


@pytest.mark.parametrize("name, seconds", [
    ("media/tone.flac", 0.5), ("media/tone.mp3", 0.5), ("media/tone.ogg", 0.5), ("media/tone.m4a", 0.5),
    ("audio/dictation.ogg", 5.7), ("audio/dictation-stereo-44k.mp3", 5.7),
])
def test_decodes_every_container(name: str, seconds: float) -> None:
    samples = decoding.load(FIXTURES / name)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / decoding.SAMPLE_RATE - seconds) < 0.15  # mp3/aac encoder padding
    assert 0.01 < float(np.abs(samples).max()) <= 1.0


@pytest.mark.parametrize("rate, channels", [(8000, 1), (44100, 2), (22050, 2)])
def test_any_rate_and_layout_becomes_16k_mono(tmp_path: Path, rate: int, channels: int) -> None:
    samples = decoding.load(write_wav(tmp_path / "a.wav", 1.0, rate, channels))
    assert abs(samples.size - decoding.SAMPLE_RATE) <= 64
    spectrum = np.abs(np.fft.rfft(samples[:16000]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 2  # still a 440 Hz tone: resampled, not re-pitched


def test_reads_file_objects() -> None:
    data = (AUDIO / "dictation.ogg").read_bytes()
    assert decoding.load(io.BytesIO(data)).size == decoding.load(AUDIO / "dictation.ogg").size


@pytest.mark.parametrize("content, code", [
    (b"", "empty_audio"),
    (b"hello, this is not audio at all\n" * 20, "not_audio"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage-garbage-garbage", "not_audio"),
])
def test_bad_input_is_a_clear_error(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as caught:
        decoding.load(path)
    assert caught.value.code == code
    assert "bad.wav" not in caught.value.message  # no file names (PHI) in messages


def test_truncated_file_is_an_error_or_shorter_audio(tmp_path: Path) -> None:
    data = (AUDIO / "dictation.ogg").read_bytes()
    path = tmp_path / "cut.ogg"
    path.write_bytes(data[: len(data) // 2])
    try:
        samples = decoding.load(path)
    except AudioError:
        return
    assert 1.0 < samples.size / decoding.SAMPLE_RATE < 4.0


def test_stream_is_bounded_blocks() -> None:
    blocks = list(decoding.stream(AUDIO / "dictation.ogg", block_seconds=1.0))
    assert len(blocks) >= 5
    assert all(b.size < 2.5 * decoding.SAMPLE_RATE for b in blocks)


def test_chunks_cut_in_the_quiet_and_lose_nothing() -> None:
    rate = decoding.SAMPLE_RATE
    t = np.arange(10 * rate) / rate
    samples = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    samples[int(3.4 * rate): int(3.8 * rate)] = 0.0  # a pause inside the search window of the first cut
    pieces = list(decoding.chunks(iter([samples[:rate * 5], samples[rate * 5:]]), chunk_seconds=4.0,
                                  search_seconds=1.5))
    offsets = [offset for offset, _ in pieces]
    assert offsets[0] == 0.0 and 3.4 <= offsets[1] <= 3.8  # cut in the pause, not at 4.0 s
    assert np.array_equal(np.concatenate([p for _, p in pieces]), samples)
    for (offset, piece), (following, _) in zip(pieces, pieces[1:], strict=False):
        assert offset + piece.size / rate == pytest.approx(following)
    assert all(p.size <= 4 * rate for _, p in pieces)


def test_silence_is_detected() -> None:
    assert decoding.is_silent(np.zeros(16000, dtype=np.float32))
    assert decoding.is_silent(np.zeros(10, dtype=np.float32))
    assert not decoding.is_silent(decoding.load(AUDIO / "dictation.ogg"))
