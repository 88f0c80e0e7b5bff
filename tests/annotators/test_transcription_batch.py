"""Batched decoding on the real packaged weights: several pieces (of one long recording, or of several files)
decoded together give, file by file, the transcript each gets alone; results come back in input order, a bad
file in the middle fails alone, and both engines still agree when given a batch."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from annotators.audio import AudioError
from annotators.transcription import (
    DecodeOptions,
    Transcript,
    decoding,
    get_engine,
    transcribe,
    transcribe_many,
    transcribe_samples,
)

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
DICTATION = AUDIO / "dictation.ogg"
GREEDY = DecodeOptions(beam_size=1)
QUICK = {"options": GREEDY, "prompt": False}  # corrections apply; no prompt (tiny.en + prompt loops on "twice")


pytestmark = pytest.mark.usefixtures("whisper_cache")


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(decoding.SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three different recordings: the fixture, its second half alone, and the fixture twice with a pause
    between (two takes, about 13 s)."""
    folder = tmp_path_factory.mktemp("batch")
    speech = decoding.load(DICTATION)
    pause = np.zeros(decoding.SAMPLE_RATE, dtype=np.float32)
    return [DICTATION, write_wav(folder / "half.wav", speech[speech.size // 2:]),
            write_wav(folder / "twice.wav", np.concatenate([speech, pause, speech]))]


def same(a: Transcript, b: Transcript) -> None:
    assert a.text == b.text and a.duration == pytest.approx(b.duration)
    assert [w.word for w in a.words] == [w.word for w in b.words]
    for x, y in zip(a.words, b.words, strict=True):
        assert x.start == pytest.approx(y.start, abs=1e-3) and x.end == pytest.approx(y.end, abs=1e-3)
        assert x.prob == pytest.approx(y.prob, abs=1e-3)
    assert [c.to_dict() for c in a.corrections] == [c.to_dict() for c in b.corrections]


def test_many_files_in_one_batch_match_each_file_alone(files: list[Path], tmp_path: Path) -> None:
    engine = get_engine("faster-whisper", "tiny.en")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    alone = [transcribe(f, engine, **QUICK) for f in files]
    together = list(transcribe_many([files[0], bad, files[1], files[2]], engine, batch_size=4, **QUICK))
    assert len(together) == 4 and isinstance(together[1], AudioError) and together[1].code == "not_audio"
    for a, b in zip(alone, [together[0], together[2], together[3]], strict=True):
        assert isinstance(b, Transcript)
        same(a, b)
    assert "right upper lobe" in together[3].text and together[3].text.count("right upper lobe") == 2  # type: ignore
    assert together[3].words[-1].start > 6.0  # the second take's words, timed from the file's start
    assert all(isinstance(t, Transcript) and t.seconds > 0 for t in (together[0], together[2]))


def test_results_come_in_input_order_whatever_the_batch_size(files: list[Path]) -> None:
    engine = get_engine("faster-whisper", "tiny.en")
    order = [files[2], files[0], files[1], files[0]]
    for size in (1, 3):
        texts = [t.text for t in transcribe_many(order, engine, batch_size=size, **QUICK)]  # type: ignore
        assert texts[1] == texts[3] and texts[0] != texts[1] != texts[2]
        assert len(texts[0]) > len(texts[1]) > len(texts[2])


def test_a_long_recording_decodes_its_pieces_in_batches(files: list[Path]) -> None:
    engine = get_engine("faster-whisper", "tiny.en")
    samples = decoding.load(files[2])
    one_by_one = transcribe_samples(samples, engine, chunk_seconds=4.0, batch_size=1, **QUICK)
    batched = transcribe_samples(samples, engine, chunk_seconds=4.0, batch_size=8, **QUICK)
    same(one_by_one, batched)
    assert len(batched.segments) >= 3  # several pieces, cut at quiet moments, offsets kept
    starts = [w.start for w in batched.words]
    assert starts == sorted(starts) and batched.words[-1].end > 11.0


def test_both_engines_agree_on_a_batch(files: list[Path]) -> None:
    pieces = [decoding.load(f) for f in files]
    outputs = {name: get_engine(name, "tiny.en", compute_type="float32").transcribe_batch(pieces, GREEDY)
               for name in ("openai-whisper", "faster-whisper")}
    for reference, faster in zip(outputs["openai-whisper"], outputs["faster-whisper"], strict=True):
        assert "".join(s.text for s in reference.segments) == "".join(s.text for s in faster.segments)
        ref_words = [w for s in reference.segments for w in s.words]
        fast_words = [w for s in faster.segments for w in s.words]
        assert [w.word for w in ref_words] == [w.word for w in fast_words]
        assert all(abs(a.start - b.start) <= 0.05 and abs(a.prob - b.prob) <= 0.05
                   for a, b in zip(ref_words, fast_words, strict=True))


def test_openai_whisper_beam_search_over_a_batch_matches_each_piece_alone(files: list[Path]) -> None:
    """openai-whisper decodes the first windows of a batch together (on a GPU one piece leaves the device
    idle); its 20250625 release fails on a batch with beam search unless the audio features are repeated per
    beam (`whisper_window._batch_task`)."""
    engine = get_engine("openai-whisper", "tiny.en")
    pieces = [decoding.load(f) for f in files]
    options = DecodeOptions(beam_size=2, best_of=2)
    together = engine.transcribe_batch(pieces, options)
    for piece, batched in zip(pieces, together, strict=True):
        alone = engine.transcribe(piece, options)
        assert [s.text for s in alone.segments] == [s.text for s in batched.segments]
        words = [(w.word, round(w.start, 2), round(w.end, 2)) for s in alone.segments for w in s.words]
        assert words == [(w.word, round(w.start, 2), round(w.end, 2)) for s in batched.segments for w in s.words]
    assert "upper lobe" in "".join(s.text for s in together[2].segments).lower()


def test_openai_whisper_takes_a_batched_piece_on_through_the_fallback_without_decoding_it_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece whose batched beam search the fallback rejects (a looped take) goes on from the next
    temperature, seeded as alone: the same transcript as alone, and no second decoding at temperature 0."""
    from annotators.transcription import whisper_window

    speech = decoding.load(DICTATION)
    looped = np.concatenate([speech] * 5)[: 29 * decoding.SAMPLE_RATE]
    engine = get_engine("openai-whisper", "tiny.en")
    options = DecodeOptions(beam_size=2, best_of=2)
    started: list[float] = []
    fallback = whisper_window._decode_with_fallback
    monkeypatch.setattr(whisper_window, "_decode_with_fallback",
                        lambda *a, **k: started.append(a[2].temperatures[0]) or fallback(*a, **k))
    together = engine.transcribe_batch([speech, looped], options)
    assert started == [0.2]  # only the looped piece, from the fallback's second temperature
    for piece, batched in zip((speech, looped), together, strict=True):
        assert [s.text for s in engine.transcribe(piece, options).segments] == [s.text for s in batched.segments]


def test_a_multilingual_model_detects_the_language_in_the_batch(files: list[Path]) -> None:
    engine = get_engine("faster-whisper", "base", compute_type="int8")
    results = list(transcribe_many(files[:2], engine, batch_size=2, **QUICK))
    assert all(isinstance(t, Transcript) and t.language == "en" and t.model == "base" for t in results)
    assert "upper lobe" in results[0].text.lower()  # type: ignore[union-attr]


def test_cli_batches_files_and_keeps_their_order(files: list[Path], tmp_path: Path) -> None:
    from server.cli import main

    missing = tmp_path / "missing.ogg"
    out = tmp_path / "out.jsonl"
    args = ["transcribe", str(files[2]), str(missing), str(files[0]), "--output", str(out), "--beam-size", "1",
            "--batch-size", "2", "--no-prompt"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "2 of 3 file(s) transcribed" in result.output, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["file"] for line in lines] == [str(files[2]), str(missing), str(files[0])]
    assert lines[1]["error"] == "unreadable" and lines[1]["words"] == []
    alone = transcribe(files[0], get_engine("faster-whisper", "tiny.en"), **QUICK)
    assert lines[2]["text"] == alone.text and lines[2]["words"] == [w.to_dict() for w in alone.words]
