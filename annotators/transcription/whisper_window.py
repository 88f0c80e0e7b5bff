"""openai-whisper's first window decoded directly, as faster-whisper's lazy generator allows.

`whisper.transcribe` decodes every window before it returns, so on a piece that fits one window it also
decodes the pause after the last word (the word-timestamp seek), with a fallback through every temperature
where whisper loops on silence. `first_window` runs exactly the steps `transcribe` runs for its first window:
log-Mel over the padded audio, `decode` with the same temperature fallback and thresholds, the same silence
skip, one segment for the window (no timestamp tokens), `add_word_timestamps`; and says where the next window
would start, so that the caller decodes the rest only when the guard asks for it. `first_windows` does the same
for several pieces with one batched beam search (a piece the fallback takes goes on alone).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from annotators.transcription.engine import NO_SPEECH_PROB, SAMPLING_SEED, DecodeOptions

COMPRESSION_RATIO = 2.4  # whisper's fallback thresholds (`transcribe` defaults, also faster-whisper's)
LOGPROB = -1.0
PREPEND = "\"'“¿([{-"
APPEND = "\"'.。,，!！?？:：”)]}、"


@dataclass(frozen=True)
class FirstWindow:
    """The first window's segments as `whisper.transcribe` returns them (dicts with "words"), the language
    decoded, and the time in seconds where its next window would start (None when nothing follows)."""

    segments: list[dict[str, Any]]
    language: str
    next_start: float | None


def first_window(model: Any, samples: np.ndarray, options: DecodeOptions, language: str | None,
                 fp16: bool) -> FirstWindow:
    """Decode the first 30 s of `samples` as `whisper.transcribe` would (language None: detected on them)."""
    segment, size, content = _mel(model, samples, fp16)
    language = language or _languages(model, segment[None])[0]
    tokenizer, prompt = _tokenizer(model, language, options)
    result = _decode_with_fallback(model, segment, options, language, prompt, fp16)
    return _window(model, tokenizer, result, segment, size, content, language)


def first_windows(model: Any, pieces: list[np.ndarray], options: DecodeOptions, language: str | None,
                  fp16: bool) -> list[FirstWindow]:
    """`first_window` for several pieces, their beam search at temperature 0 run as one batch (per language):
    on a GPU one piece's decoding leaves the device mostly idle. A piece whose result the temperature fallback
    rejects goes on alone from the fallback's next temperature, its sampling seeded as `first_window`'s is."""
    import torch
    from whisper.decoding import DecodingOptions

    mels = [_mel(model, samples, fp16) for samples in pieces]
    batch = torch.stack([segment for segment, _, _ in mels])
    languages = [language] * len(pieces) if language else _languages(model, batch)
    found: dict[int, FirstWindow] = {}
    for lang in sorted(set(languages)):
        members = [k for k, found in enumerate(languages) if found == lang]
        tokenizer, prompt = _tokenizer(model, lang, options)
        results = _batch_task(model, DecodingOptions(
            language=lang, temperature=0.0, fp16=fp16, prompt=prompt, without_timestamps=options.without_timestamps,
            beam_size=options.beam_size if options.beam_size > 1 else None)).run(batch[members])
        for k, result in zip(members, results, strict=True):
            segment, size, content = mels[k]
            if not _accepted(result) and len(options.temperatures) > 1:  # on with the fallback, from its next step
                torch.manual_seed(SAMPLING_SEED)
                result = _decode_with_fallback(model, segment, replace(options, temperatures=options.temperatures[1:]),
                                               lang, prompt, fp16)
            found[k] = _window(model, tokenizer, result, segment, size, content, lang)
    return [found[k] for k in range(len(pieces))]


def _batch_task(model: Any, options: Any) -> Any:
    """whisper's `DecodingTask` for a batch of pieces. Its 20250625 release no longer repeats the audio
    features for each beam (broadcasting covers a single piece), so a batch of pieces with beam search fails
    in cross-attention; they are repeated here as earlier releases did (and the language read once a piece)."""
    from whisper.decoding import DecodingTask

    class Task(DecodingTask):
        def _get_audio_features(self, mel: Any) -> Any:
            return super()._get_audio_features(mel).repeat_interleave(self.n_group, dim=0)

        def _detect_language(self, audio_features: Any, tokens: Any) -> Any:
            return super()._detect_language(audio_features[:: self.n_group], tokens)

    return Task(model, options)


def _mel(model: Any, samples: np.ndarray, fp16: bool) -> tuple[Any, int, int]:
    """The padded log-Mel window of the first 30 s on the model's device, its frames of audio, all frames."""
    import torch
    from whisper.audio import N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim

    mel = log_mel_spectrogram(samples, model.dims.n_mels, padding=N_SAMPLES)
    content = mel.shape[-1] - N_FRAMES
    size = min(N_FRAMES, content)
    segment = pad_or_trim(mel[:, :size], N_FRAMES).to(model.device).to(torch.float16 if fp16 else torch.float32)
    return segment, size, content


def _languages(model: Any, batch: Any) -> list[str]:
    _, probs = model.detect_language(batch)
    return [str(max(p, key=p.get)) for p in (probs if isinstance(probs, list) else [probs])]


def _tokenizer(model: Any, language: str, options: DecodeOptions) -> tuple[Any, list[int]]:
    from whisper.tokenizer import get_tokenizer

    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages, language=language)
    prompt = tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
    return tokenizer, prompt


def _window(model: Any, tokenizer: Any, result: Any, segment: Any, size: int, content: int,
            language: str) -> FirstWindow:
    """The window of a decoded piece as `transcribe` makes it: the silence skip, one segment (no timestamp
    tokens), word timings, and where the next window would start."""
    from whisper.audio import FRAMES_PER_SECOND, HOP_LENGTH, SAMPLE_RATE
    from whisper.timing import add_word_timestamps

    end = size * HOP_LENGTH / SAMPLE_RATE
    following = (size / FRAMES_PER_SECOND) if size < content else None
    if result.no_speech_prob > NO_SPEECH_PROB and result.avg_logprob <= LOGPROB:
        return FirstWindow([], language, following)  # whisper skips a window it hears as silence
    text_tokens = [t for t in result.tokens if t < tokenizer.eot]
    found = [{"seek": 0, "start": 0.0, "end": end, "text": tokenizer.decode(text_tokens), "tokens": result.tokens,
              "temperature": result.temperature, "avg_logprob": result.avg_logprob,
              "compression_ratio": result.compression_ratio, "no_speech_prob": result.no_speech_prob}]
    add_word_timestamps(segments=found, model=model, tokenizer=tokenizer, mel=segment, num_frames=size,
                        prepend_punctuations=PREPEND, append_punctuations=APPEND, last_speech_timestamp=0.0)
    ends = [w["end"] for s in found for w in s["words"]]
    seek = round(ends[-1] * FRAMES_PER_SECOND) if ends and ends[-1] > 0 else size  # the word-timestamp seek
    return FirstWindow(found, language, seek / FRAMES_PER_SECOND if seek < content else None)


def _accepted(result: Any) -> bool:
    """Whether the fallback stops at this result: silence, or neither too repetitive nor too improbable."""
    improbable = result.avg_logprob < LOGPROB
    silence = result.no_speech_prob > NO_SPEECH_PROB and improbable
    return silence or not (result.compression_ratio > COMPRESSION_RATIO or improbable)


def _decode_with_fallback(model: Any, segment: Any, options: DecodeOptions, language: str, prompt: list[int],
                          fp16: bool) -> Any:
    """`whisper.transcribe`'s decode_with_fallback: beam search at temperature 0, sampling (best of) above,
    the next temperature while the text is too repetitive or too improbable and not silence."""
    from whisper.decoding import DecodingOptions

    result = None
    for t in options.temperatures:
        result = model.decode(segment, DecodingOptions(
            language=language, temperature=t, fp16=fp16, prompt=prompt, without_timestamps=options.without_timestamps,
            beam_size=options.beam_size if t == 0 and options.beam_size > 1 else None,
            best_of=options.best_of if t > 0 else None))
        if _accepted(result):
            break
    return result
