"""faster-whisper's first windows, several pieces decoded as one CTranslate2 batch.

For a piece that fits one window (see `engine.one_window`) this runs the steps `WhisperModel.transcribe` runs
for its first window, for several pieces at once: log-Mel features of each piece, one encoder pass over the
batch, the language read from that same encoder output (a multilingual model given no language: the library
would encode the window a second time just to detect it), beam search at temperature 0 over the batch, then
for each piece the library's own silence skip and word timings (`add_word_timestamps` on that piece's
encoder output, as the library calls it for a first window). On CPU a batch turns the decoder's
matrix-vector steps into matrix-matrix ones, and a long recording's pieces or many files share them.

Given a `refocus` (see `engine.Refocus`), a piece it gives a new prompt for is decoded a second time on the
same encoder output, all such pieces in one more batch (`annotators.transcription.focus`).

A piece the library would decode again at a higher temperature (too repetitive or too improbable, and not
silence) comes back marked `retry`: the caller hands it to the library, which does exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from annotators.transcription.engine import NO_SPEECH_PROB, DecodeOptions, Refocus, make_word, said, second_prompt
from annotators.transcription.result import Segment
from annotators.transcription.whisper_window import APPEND, COMPRESSION_RATIO, LOGPROB, PREPEND

MAX_INITIAL_TIMESTAMP = 1.0  # seconds; the library's default, passed to generate as an index


@dataclass(frozen=True)
class FirstWindow:
    """One piece's first window: its segment (none when silent or empty; times from the piece's start), the
    language, the no-speech probability, where the library's next window would start (the word-timestamp
    seek: the last word's end; None when nothing follows), and whether the temperature fallback is needed."""

    segments: list[Segment]
    language: str
    no_speech_prob: float = 0.0
    next_start: float | None = None
    retry: bool = False
    first_pass: str | None = None  # when decoded again: what the first pass heard ...
    focus_prompt: str | None = None  # ... and the second pass's prompt


def first_windows(model: Any, pieces: list[np.ndarray], options: DecodeOptions,
                  language: str | None, refocus: Refocus | None = None) -> list[FirstWindow]:
    """Decode the first window of each piece of `pieces` (16 kHz float32, each at most 30 s) in one batch
    with the faster-whisper `model` (see the module). With `refocus`, a piece it gives a prompt for (from
    the piece's first-pass words) is decoded again with that prompt on the same encoder output."""
    import ctranslate2
    from faster_whisper.audio import pad_or_trim

    if not pieces:
        return []
    features, sizes = [], []
    for samples in pieces:  # as `WhisperModel.transcribe`: the last frame is not content
        mel = model.feature_extractor(samples)
        sizes.append(min(model.feature_extractor.nb_max_frames, mel.shape[-1] - 1))
        features.append(pad_or_trim(mel[:, : sizes[-1]]))
    encoded = model.encode(np.stack(features))
    if language:
        languages = [language] * len(pieces)
    else:
        languages = [str(found[0][0][2:-2]) for found in model.model.detect_language(encoded)]
    rows = np.asarray(encoded.to_device(ctranslate2.Device.cpu))
    prompts = [options.initial_prompt] * len(pieces)
    windows = _decode(model, encoded, rows, sizes, languages, prompts, options)
    if refocus is None:
        return windows
    again = {}
    for k, window in enumerate(windows):
        prompt = None if window.retry else second_prompt(refocus, window.segments, options)
        if prompt is not None:
            again[k] = prompt
    if again:
        chosen = sorted(again)
        redone = _decode(model, None, rows[chosen], [sizes[k] for k in chosen], [languages[k] for k in chosen],
                         [again[k] for k in chosen], options)
        for k, window in zip(chosen, redone, strict=True):
            if not window.retry and window.segments:  # a second pass that derails keeps the first
                windows[k] = replace(window, first_pass=said(windows[k].segments), focus_prompt=again[k])
    return windows


def _decode(model: Any, encoded: Any, rows: np.ndarray, sizes: list[int], languages: list[str],
            prompts: list[str | None], options: DecodeOptions) -> list[FirstWindow]:
    """Beam search over the encoded pieces (`encoded`, or None: made from `rows`), each with its prompt, then
    each piece's window. CTranslate2 decodes together only prompts of one length in tokens: pieces are
    batched by that length."""
    tokenizers = {lang: _tokenizer(model, lang) for lang in set(languages)}
    prompt_ids = [_prompt(model, tokenizers[lang], prompt) for lang, prompt in zip(languages, prompts, strict=True)]
    groups: dict[int, list[int]] = {}
    for k, ids in enumerate(prompt_ids):
        groups.setdefault(len(ids), []).append(k)
    results: dict[int, Any] = {}
    for members in groups.values():
        features = encoded if encoded is not None and len(members) == len(rows) else _features(model, rows[members])
        found = model.model.generate(
            features, [prompt_ids[k] for k in members], beam_size=options.beam_size, patience=1, length_penalty=1,
            repetition_penalty=1, no_repeat_ngram_size=0, max_length=model.max_length, return_scores=True,
            return_no_speech_prob=True, suppress_blank=True, suppress_tokens=_suppressed(tokenizers[languages[0]]),
            max_initial_timestamp_index=int(round(MAX_INITIAL_TIMESTAMP / model.time_precision)))
        results.update(zip(members, found, strict=True))
    return [_window(model, tokenizers[languages[k]], results[k], rows[k: k + 1], sizes[k], languages[k], options)
            for k in range(len(rows))]


def _features(model: Any, rows: np.ndarray) -> Any:
    """Encoder output rows as a StorageView on the model's device."""
    import ctranslate2

    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(rows))
    return features.to_device(ctranslate2.Device.cuda) if model.model.device == "cuda" else features


def _window(model: Any, tokenizer: Any, result: Any, encoded: np.ndarray, size: int, language: str,
            options: DecodeOptions) -> FirstWindow:
    """One piece's result as `generate_with_fallback`, the silence skip and `add_word_timestamps` treat it."""
    import ctranslate2
    from faster_whisper.transcribe import get_compression_ratio

    tokens = list(result.sequences_ids[0])
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # length penalty 1
    text = tokenizer.decode(tokens)
    improbable = avg_logprob < LOGPROB
    silence = result.no_speech_prob > NO_SPEECH_PROB and improbable
    retry = get_compression_ratio(text.strip()) > COMPRESSION_RATIO or improbable
    if retry and not silence and len(options.temperatures) > 1:
        return FirstWindow([], language, result.no_speech_prob, retry=True)
    if result.no_speech_prob > NO_SPEECH_PROB and not avg_logprob > LOGPROB:
        return FirstWindow([], language, result.no_speech_prob)  # the library skips a silent window
    duration = size * model.feature_extractor.time_per_frame
    window = {"seek": 0, "start": 0.0, "end": duration, "tokens": tokens}  # no timestamp tokens: one segment
    model.add_word_timestamps([[window]], tokenizer, ctranslate2.StorageView.from_array(encoded), size,
                              PREPEND, APPEND, last_speech_timestamp=0.0)
    found = window["words"]
    seek = round(found[-1]["end"] * model.frames_per_second) if found and found[-1]["end"] > 0 else size
    following = seek / model.frames_per_second if seek < size else None
    if window["start"] == window["end"] or not text.strip():
        return FirstWindow([], language, result.no_speech_prob, following)
    words = tuple(make_word(w["word"], w["start"], w["end"], w["probability"]) for w in found)
    return FirstWindow([Segment(float(window["start"]), float(window["end"]), text, words)], language,
                       result.no_speech_prob, following)


def _tokenizer(model: Any, language: str) -> Any:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)


def _prompt(model: Any, tokenizer: Any, prompt: str | None) -> list[int]:
    previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
    return list(model.get_prompt(tokenizer, previous, without_timestamps=True))


def _suppressed(tokenizer: Any) -> tuple[int, ...]:
    from faster_whisper.transcribe import get_suppressed_tokens

    return tuple(get_suppressed_tokens(tokenizer, [-1]))
