"""The two engines and the one `name → class` registry.

- ``openai-whisper``: the reference implementation (PyTorch), reading an openai-whisper checkpoint that
  `weights.whisper_checkpoint` converts from the packaged CTranslate2 weights.
- ``faster-whisper``: CTranslate2, reading the packaged weights as they are; much faster on CPU. Its
  ``compute_type`` defaults to int8 on CPU (measured on held-out dictation: the same WER and term recall as
  float32 within noise, 4-7x less CPU; see bench/transcribe.py) and float16 on CUDA; ``float32`` gives the
  reference engine's numbers, hence its transcript.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from annotators.transcription import weights
from annotators.transcription.engine import (
    SAMPLING_SEED,
    DecodeOptions,
    EngineOutput,
    Refocus,
    TranscriptionEngine,
    is_hallucination,
    make_word,
    one_window,
    reached_the_end,
)
from annotators.transcription.faster_window import first_windows
from annotators.transcription.result import Segment, TranscriptionError
from annotators.transcription.whisper_window import FirstWindow, first_window
from annotators.transcription.whisper_window import first_windows as whisper_first_windows


class OpenAIWhisperEngine(TranscriptionEngine):
    """openai-whisper on a converted (or the user's own) checkpoint; fp16 on CUDA, fp32 on CPU."""

    name = "openai-whisper"

    @staticmethod
    def cuda_available() -> bool:
        """`torch.cuda.is_available()`."""
        import torch

        return bool(torch.cuda.is_available())

    def _load(self) -> Any:
        import torch
        from whisper.model import ModelDimensions, Whisper

        path = weights.whisper_checkpoint(self.model)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
        heads = checkpoint.get("alignment_heads")
        if heads:  # otherwise whisper's default: every head of the last half of the decoder layers
            mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
        _warm_tokenizer(model)
        return model.to(self.device).eval()

    def prompt_counter(self) -> Callable[[str], int]:
        from whisper.tokenizer import get_tokenizer

        self.load()
        tokenizer = get_tokenizer(self._loaded.is_multilingual, num_languages=self._loaded.num_languages)
        return lambda text: len(tokenizer.encode(" " + text.strip()))

    def _transcribe(self, samples: np.ndarray, options: DecodeOptions) -> EngineOutput:
        import torch

        torch.manual_seed(SAMPLING_SEED)  # the temperature fallback samples (see `SAMPLING_SEED`)
        model = self._loaded
        language = options.language or (None if model.is_multilingual else "en")
        if not one_window(samples, options):
            result = self._library_transcribe(samples, options, language, options.initial_prompt)
            return EngineOutput(_segments(result["segments"]), str(result.get("language") or language or ""))
        return self._after(samples, first_window(model, samples, options, language, fp16=self.device == "cuda"),
                           options)

    def _after(self, samples: np.ndarray, first: FirstWindow, options: DecodeOptions) -> EngineOutput:
        """A piece from its first window: that window alone when it heard words to (nearly) the end
        (faster-whisper's rule), else with the rest decoded by the library."""
        segments = _segments(first.segments)
        if first.next_start is None or reached_the_end(samples, _last_words(segments)):
            return EngineOutput(segments, first.language)
        carried = (options.initial_prompt or "") + "".join(s["text"] for s in first.segments)
        rest = self._library_transcribe(samples, options, first.language,
                                        carried if options.condition_on_previous_text else None,
                                        clip_timestamps=[first.next_start])
        return EngineOutput(segments + _segments(rest["segments"]), first.language)

    def _transcribe_batch(self, pieces: list[np.ndarray], options: DecodeOptions,
                          refocus: Refocus | None = None) -> list[EngineOutput]:
        """Pieces that fit one window: their first windows in one batch (`whisper_window.first_windows`, which
        takes a piece on through the temperature fallback alone); longer pieces as `_transcribe` decodes them;
        then `refocus`'s second passes one piece at a time (each has its own prompt)."""
        model = self._loaded
        language = options.language or (None if model.is_multilingual else "en")
        short = [i for i, p in enumerate(pieces) if one_window(p, options) and options.temperatures[:1] == (0.0,)]
        firsts: dict[int, FirstWindow] = {}
        if len(short) > 1:
            found = whisper_first_windows(model, [pieces[i] for i in short], options, language,
                                          fp16=self.device == "cuda")
            firsts = dict(zip(short, found, strict=True))
        out = []
        for i, samples in enumerate(pieces):
            first = firsts.get(i)
            found_piece = self._transcribe(samples, options) if first is None else self._after(samples, first, options)
            out.append(self._refocused(samples, found_piece, options, refocus))
        return out

    def _library_transcribe(self, samples: np.ndarray, options: DecodeOptions, language: str | None,
                            prompt: str | None, **more: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._loaded.transcribe(
            samples,
            language=language,
            fp16=self.device == "cuda",
            beam_size=options.beam_size if options.beam_size > 1 else None,
            best_of=options.best_of,
            temperature=options.temperatures,
            initial_prompt=prompt,
            condition_on_previous_text=options.condition_on_previous_text,
            without_timestamps=options.without_timestamps,
            word_timestamps=True,
            verbose=None,
            **more,
        )
        return result


def _segments(found: list[dict[str, Any]]) -> list[Segment]:
    """openai-whisper's segment dicts as `Segment`s, without the ones it invented on silence."""
    segments: list[Segment] = []
    for s in found:
        words = tuple(make_word(w["word"], w["start"], w["end"], w["probability"]) for w in s.get("words", []))
        if not is_hallucination(float(s.get("no_speech_prob", 0.0)), words):
            segments.append(Segment(float(s["start"]), float(s["end"]), s["text"], words))
    return segments


def _warm_tokenizer(model: Any) -> None:
    """Build whisper's tiktoken encoding now: its reader leaves the vocabulary file for the garbage
    collector (a ResourceWarning, an error under strict warnings); it is cached once built."""
    import warnings

    from whisper.tokenizer import get_encoding

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        get_encoding(name="multilingual" if model.is_multilingual else "gpt2", num_languages=model.num_languages)


def _last_words(segments: list[Segment]) -> tuple[Any, ...]:
    return next((seg.words for seg in reversed(segments) if seg.words), ())


def usable_cpus() -> int:
    """CPU cores this process may run on. CTranslate2 otherwise starts 4 threads, which on a 2-core machine
    fight each other (measured: wall-clock RTF 0.114 with 4 threads vs 0.082 with 2, base int8)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


CUBLAS = "libcublas.so.12"  # what CTranslate2 4.x's CUDA 12 build opens on the GPU


def loadable(library: str) -> bool:
    """Whether the dynamic loader finds and loads `library` (as CTranslate2's own dlopen would)."""
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


class FasterWhisperEngine(TranscriptionEngine):
    """faster-whisper (CTranslate2) on the packaged CTranslate2 weights or the user's CTranslate2 folder."""

    name = "faster-whisper"

    @staticmethod
    def cuda_available() -> bool:
        """CTranslate2 sees at least one CUDA device."""
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count()) > 0

    @classmethod
    def cuda_unusable(cls) -> str | None:
        """CTranslate2's GPU build loads CUDA 12's cuBLAS at its first matrix product: a machine with a GPU
        but only another CUDA's libraries (an image with CUDA 13 alone) sees the device and would fail there."""
        if (reason := super().cuda_unusable()) is not None:
            return reason
        if not loadable(CUBLAS):
            import ctranslate2

            return (f"CTranslate2 {ctranslate2.__version__} needs CUDA 12's cuBLAS ({CUBLAS}), which is not "
                    "installed: install it (e.g. `pip install nvidia-cublas-cu12` and add its lib folder to "
                    "LD_LIBRARY_PATH), or use the openai-whisper engine")
        return None

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        compute = self.compute_type or ("float16" if self.device == "cuda" else "int8")
        return WhisperModel(str(weights.ct2_model_dir(self.model)), device=self.device, compute_type=compute,
                            cpu_threads=usable_cpus(), local_files_only=True)

    def prompt_counter(self) -> Callable[[str], int]:
        self.load()
        tokenizer = self._loaded.hf_tokenizer
        return lambda text: len(tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def _transcribe(self, samples: np.ndarray, options: DecodeOptions) -> EngineOutput:
        return self._transcribe_batch([samples], options)[0]

    def _transcribe_batch(self, pieces: list[np.ndarray], options: DecodeOptions,
                          refocus: Refocus | None = None) -> list[EngineOutput]:
        """Pieces that fit one window: their first windows in one batch (`faster_window`, which also runs
        `refocus`'s second passes on the same encoder output), then the library for a piece that needs the
        temperature fallback or the rest after an early stop; others: the library (and `refocus` after)."""
        model = self._loaded
        language = options.language or (None if model.model.is_multilingual else "en")
        short = [i for i, p in enumerate(pieces) if one_window(p, options) and options.temperatures[:1] == (0.0,)]
        firsts = dict(zip(short, first_windows(model, [pieces[i] for i in short], options, language, refocus),
                          strict=True))
        out = []
        for i, samples in enumerate(pieces):
            first = firsts.get(i)
            if first is None or first.retry:
                found = self._library(samples, options, first.language if first else language, options.initial_prompt)
                out.append(self._refocused(samples, found, options, refocus))
                continue
            segments = [s for s in first.segments if not is_hallucination(first.no_speech_prob, s.words)]
            focused = {"first_pass": first.first_pass, "focus_prompt": first.focus_prompt}
            if first.next_start is None or reached_the_end(samples, _last_words(segments)):
                out.append(EngineOutput(segments, first.language, **focused))
                continue
            carried = (options.initial_prompt or "") + "".join(s.text for s in first.segments)
            rest = self._library(samples, options, first.language,
                                 carried if options.condition_on_previous_text else None,
                                 clip_timestamps=[first.next_start])  # the model stopped early: the rest
            out.append(EngineOutput(segments + rest.segments, first.language, **focused))
        return out

    def _library(self, samples: np.ndarray, options: DecodeOptions, language: str | None, prompt: str | None,
                 **more: Any) -> EngineOutput:
        import ctranslate2

        ctranslate2.set_random_seed(SAMPLING_SEED)  # its temperature fallback samples (see `SAMPLING_SEED`)
        found, info = self._loaded.transcribe(
            samples,
            language=language,
            beam_size=options.beam_size,
            best_of=options.best_of,
            temperature=list(options.temperatures),
            initial_prompt=prompt,
            condition_on_previous_text=options.condition_on_previous_text,
            without_timestamps=options.without_timestamps,
            word_timestamps=True,
            vad_filter=False,
            **more,
        )
        first_only = one_window(samples, options)
        segments: list[Segment] = []
        for s in found:  # a lazy generator: leaving the loop skips decoding the rest
            words = tuple(make_word(w.word, w.start, w.end, w.probability) for w in (s.words or []))
            if not is_hallucination(float(s.no_speech_prob), words):
                segments.append(Segment(float(s.start), float(s.end), s.text, words))
            if first_only and reached_the_end(samples, _last_words(segments)):
                break  # the rest of the window is the trailing pause, on which whisper loops or invents
        return EngineOutput(segments, str(info.language or language or ""))


ENGINES: dict[str, type[TranscriptionEngine]] = {
    OpenAIWhisperEngine.name: OpenAIWhisperEngine,
    FasterWhisperEngine.name: FasterWhisperEngine,
}
DEFAULT_ENGINE = FasterWhisperEngine.name

_cache: dict[tuple[str, str, str, str | None], TranscriptionEngine] = {}
_cache_lock = threading.Lock()


class UnknownEngineError(TranscriptionError):
    """An engine name not in `ENGINES`; the message lists the valid ones."""

    code = "unknown_engine"


def engine_class(name: str) -> type[TranscriptionEngine]:
    """The engine class registered under `name`; `UnknownEngineError` listing the valid names otherwise."""
    try:
        return ENGINES[name]
    except KeyError:
        raise UnknownEngineError(f"unknown engine {name!r}; valid: {', '.join(sorted(ENGINES))}") from None


def get_engine(name: str = DEFAULT_ENGINE, model: str = "tiny.en", *, device: str = "cpu",
               compute_type: str | None = None) -> TranscriptionEngine:
    """The process-wide engine for (name, model, device, compute_type), built on first use; weights load
    lazily on its first transcription (or `load()`)."""
    cls = engine_class(name)
    probe = cls(model, device=device, compute_type=compute_type)  # validates the device
    key = (name, model, probe.device, compute_type)
    with _cache_lock:
        return _cache.setdefault(key, probe)
