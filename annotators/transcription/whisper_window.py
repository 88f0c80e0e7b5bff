"""openai-whisper's first window decoded directly, as faster-whisper's lazy generator allows.

`whisper.transcribe` decodes every window before it returns, so on a piece that fits one window it also
decodes the pause after the last word (the word-timestamp seek), with a fallback through every temperature
where whisper loops on silence. `first_window` runs exactly the steps `transcribe` runs for its first window:
log-Mel over the padded audio, `decode` with the same temperature fallback and thresholds, the same silence
skip, one segment for the window (no timestamp tokens), `add_word_timestamps`; and says where the next window
would start, so that the caller decodes the rest only when the guard asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from annotators.transcription.engine import NO_SPEECH_PROB, DecodeOptions

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
    import torch
    from whisper.audio import (
        FRAMES_PER_SECOND,
        HOP_LENGTH,
        N_FRAMES,
        N_SAMPLES,
        SAMPLE_RATE,
        log_mel_spectrogram,
        pad_or_trim,
    )
    from whisper.timing import add_word_timestamps
    from whisper.tokenizer import get_tokenizer

    mel = log_mel_spectrogram(samples, model.dims.n_mels, padding=N_SAMPLES)
    content = mel.shape[-1] - N_FRAMES
    size = min(N_FRAMES, content)
    segment = pad_or_trim(mel[:, :size], N_FRAMES).to(model.device).to(torch.float16 if fp16 else torch.float32)
    if language is None:
        _, probs = model.detect_language(segment)
        language = str(max(probs, key=probs.get))
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages, language=language)
    prompt = tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
    result = _decode_with_fallback(model, segment, options, language, prompt, fp16)
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
        too_repetitive = result.compression_ratio > COMPRESSION_RATIO
        improbable = result.avg_logprob < LOGPROB
        silence = result.no_speech_prob > NO_SPEECH_PROB and improbable
        if silence or not (too_repetitive or improbable):
            break
    return result
