"""Dictation transcription: two Whisper engines behind one contract, offline weights, medical vocabulary.

Public API (nothing heavy happens at import; models load once per process, on first use):

- ``get_engine(name="faster-whisper", model="tiny.en", *, device="cpu", compute_type=None)`` — the process-wide
  engine from ``ENGINES`` (``"openai-whisper"``, ``"faster-whisper"``); an unknown name raises
  ``UnknownEngineError`` listing the valid ones. ``device="auto"`` uses CUDA when present.
- ``transcribe(path_or_file, engine, *, vocabulary=True, prompt=True, options=None, chunk_seconds=30,
  progress=None) -> Transcript`` — decode in-process (PyAV), chunk at quiet moments, recognise, correct
  near-miss medical words; a long recording's pieces are decoded ``batch_size`` (8) at a time.
  ``Transcript`` has ``text``, ``segments``, ``words`` (``Word(start, end, word,
  prob)``), ``language``, ``engine``, ``model``, ``duration``, ``seconds`` and ``corrections``.
- ``transcribe_many(sources, engine, *, ..., batch_size=8)`` — several files, pieces of consecutive files
  decoded together in one batch (fewer, larger matrix products); yields each file's ``Transcript`` in input
  order, or in its place the exception reading it raised (``AudioError``, ``OSError``), so one bad file does
  not stop the rest.
- ``weights.prepare(model)`` — join/convert/verify the packaged weights (``tiny.en``, ``base``) into the cache
  (``$HILUM_CACHE_DIR``, default ``~/.cache/hilum``).
- ``vocabulary.from_ontology(name="radiology", extra_terms=())``, ``correction.correct`` / ``correction.revert``.
"""

from __future__ import annotations

from annotators.transcription.engine import DecodeOptions, TranscriptionEngine
from annotators.transcription.engines import DEFAULT_ENGINE, ENGINES, UnknownEngineError, engine_class, get_engine
from annotators.transcription.pipeline import transcribe, transcribe_many, transcribe_samples
from annotators.transcription.result import Correction, Segment, Transcript, TranscriptionError, Word
from annotators.transcription.weights import MODELS, UnknownModelError, WeightsError

__all__ = [
    "DEFAULT_ENGINE", "ENGINES", "MODELS", "Correction", "DecodeOptions", "Segment", "Transcript",
    "TranscriptionEngine", "TranscriptionError", "UnknownEngineError", "UnknownModelError", "WeightsError",
    "Word", "engine_class", "get_engine", "transcribe", "transcribe_many", "transcribe_samples",
]
