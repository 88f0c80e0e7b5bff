"""Tests for annotators.audio: content-based probing of wav, flac, mp3, ogg and m4a.

WAV is generated with the stdlib; the other formats are tiny committed fixtures (0.5 s, 440 Hz, 8 kHz mono,
made once with ffmpeg: ``ffmpeg -f lavfi -i sine=frequency=440:duration=0.5:sample_rate=8000 -ac 1``).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from annotators.audio import AUDIO_EXTENSIONS, AudioError, AudioInfo, probe_audio

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"


def make_wav(frames: int = 4000, rate: int = 8000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * frames * channels)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, fmt, media_type, duration, channels",
    [
        ("tone.flac", "flac", "audio/flac", (0.49, 0.51), 1),
        ("tone.mp3", "mp3", "audio/mpeg", (0.45, 0.75), 1),  # encoder padding lengthens mp3
        ("tone.ogg", "ogg", "audio/ogg", (0.49, 0.51), 1),
        ("tone.m4a", "m4a", "audio/mp4", (0.45, 0.75), None),  # the AAC header reports 2 channels
    ],
)
def test_probe_fixture(name: str, fmt: str, media_type: str, duration: tuple, channels: int | None) -> None:
    path = MEDIA / name
    for source in (path, str(path), path.read_bytes()):
        info = probe_audio(source)
        assert (info.format, info.media_type) == (fmt, media_type)
        assert duration[0] <= info.duration_s <= duration[1]
        assert info.sample_rate == 8000
        if channels is not None:
            assert info.channels == channels


@pytest.mark.parametrize("frames, rate, channels, seconds", [(4000, 8000, 1, 0.5), (16000, 16000, 2, 1.0)])
def test_probe_wav(frames: int, rate: int, channels: int, seconds: float) -> None:
    info = probe_audio(make_wav(frames, rate, channels), filename="dictation.wav")
    assert info == AudioInfo("wav", "audio/wav", pytest.approx(seconds), rate, channels)


def test_truncated_wav_reports_the_samples_present() -> None:
    blob = make_wav(8000)
    assert probe_audio(blob[: 44 + 8000]).duration_s == pytest.approx(0.5)


def test_content_wins_over_the_name(tmp_path: Path) -> None:
    path = tmp_path / "dictation.mp3"
    path.write_bytes((MEDIA / "tone.flac").read_bytes())
    assert probe_audio(path, filename="dictation.mp3").format == "flac"


@pytest.mark.parametrize(
    "blob, code",
    [
        (b"", "empty_audio"),
        (make_wav(0), "empty_audio"),
        (b"Findings: no acute abnormality.\n" * 20, "not_audio"),
        (bytes(range(256)) * 8, "not_audio"),
        (b"RIFF\x24\x00\x00\x00WAVEjunk", "not_audio"),
        (b"ID3" + b"\x00" * 400, "not_audio"),
        (b"OggS" + b"\x00" * 400, "not_audio"),
        (b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 400, "not_audio"),
        (b"fLaC" + b"\x00" * 10, "not_audio"),
        ((MEDIA / "tone.ogg").read_bytes()[:120], "not_audio"),
    ],
    ids=[
        "empty",
        "zero-frames",
        "text",
        "binary",
        "riff-junk",
        "id3-only",
        "ogg-junk",
        "ftyp-junk",
        "flac-junk",
        "ogg-truncated",
    ],
)
def test_bad_audio_is_refused(blob: bytes, code: str) -> None:
    with pytest.raises(AudioError) as caught:
        probe_audio(blob)
    assert caught.value.code == code


@pytest.mark.parametrize("extension", sorted(AUDIO_EXTENSIONS))
def test_text_named_as_audio_is_refused(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"report{extension}"
    path.write_text("Impression: 2.3 cm spiculated nodule, right upper lobe.\n")
    with pytest.raises(AudioError) as caught:
        probe_audio(path, filename=path.name)
    assert caught.value.code == "not_audio"
