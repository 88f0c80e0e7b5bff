"""`hilum transcribe FILE... --output OUT.jsonl`: dictation → transcript lines (the interface evaluations use).

Each output line is `{"file", "text", "duration", "engine", "model", "seconds", "words": [{"start", "end",
"word", "prob"}]}` plus `language`, `segments` and `corrections` (every vocabulary correction, undoable). A
file that cannot be transcribed gets a line with empty `text`/`words` and `error` (a code) and `message`; the
command goes on with the next file and exits 1 at the end if any failed. Files are decoded `--batch-size`
pieces at a time (pieces of consecutive files together; each line is the same as for the file alone).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

_CHOICES_DEVICE = ["cpu", "cuda", "auto"]


def _default_beam() -> int:
    """`DecodeOptions`' beam, read when the command runs (importing it would slow every `hilum` command)."""
    from annotators.transcription import DecodeOptions

    return DecodeOptions.beam_size


def _error_line(path: str, engine: str, model: str, code: str, message: str) -> dict[str, Any]:
    return {"file": path, "text": "", "duration": None, "engine": engine, "model": model, "seconds": 0.0,
            "words": [], "error": code, "message": message}


def _line(path: str, engine: Any, result: Any) -> dict[str, Any]:
    """The output line of one file: its transcript, or the error it raised."""
    from annotators.errors import EngineError

    if isinstance(result, EngineError):
        return _error_line(path, engine.name, engine.model_label, result.code, result.message)
    if isinstance(result, OSError):
        return _error_line(path, engine.name, engine.model_label, "unreadable", result.strerror or "cannot read")
    if isinstance(result, Exception):  # a library error on one bad file must not stop the batch
        return _error_line(path, engine.name, engine.model_label, "transcription_failed",
                           f"{type(result).__name__}: the file could not be transcribed")
    return {"file": path, **result.to_dict()}


@click.command(name="transcribe")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False), help="JSONL to write")
@click.option("--engine", "engine_name", default="faster-whisper", show_default=True,
              help="openai-whisper or faster-whisper")
@click.option("--model", default="tiny.en", show_default=True,
              help="tiny.en, base, an openai-whisper .pt file or a CTranslate2 folder")
@click.option("--device", type=click.Choice(_CHOICES_DEVICE), default="cpu", show_default=True)
@click.option("--compute-type", default=None,
              help="faster-whisper only: int8 (default on CPU), float32 (the reference engine's numbers), ...")
@click.option("--beam-size", default=_default_beam, show_default="Hilum's, 3", type=click.IntRange(1, 20))
@click.option("--language", default=None, help="force a language code (English-only models use en)")
@click.option("--vocabulary/--no-vocabulary", default=True, show_default=True,
              help="correct near-miss medical words with the radiology lexicon")
@click.option("--prompt/--no-prompt", default=True, show_default=True,
              help="with --vocabulary: also prompt the engine with lexicon terms")
@click.option("--focus/--no-focus", default=True, show_default=True,
              help="with --prompt: decode each piece again, prompted with the terms its first pass heard or "
                   "nearly heard (more medical terms right; about 1.5-1.7x the time)")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1, 64),
              help="30-second pieces (of one file or consecutive files) decoded together")
def command(files: tuple[str, ...], output_path: str, engine_name: str, model: str, device: str,
            compute_type: str | None, beam_size: int, language: str | None, vocabulary: bool, prompt: bool,
            focus: bool, batch_size: int) -> None:
    """Transcribe dictation FILES (wav, flac, mp3, ogg, m4a) into OUTPUT, one JSON line per file."""
    from annotators.transcription import DecodeOptions, TranscriptionError, get_engine, transcribe_many

    try:
        engine = get_engine(engine_name, model, device=device, compute_type=compute_type)
        engine.load()
    except TranscriptionError as exc:
        raise click.ClickException(exc.message) from None
    options = DecodeOptions(language=language, beam_size=beam_size)
    failed = 0
    try:
        with open(output_path, "w", encoding="utf-8") as out, click.progressbar(
            length=len(files), label="transcribing", file=sys.stderr, show_pos=True,
        ) as bar:
            results = transcribe_many(files, engine, vocabulary=vocabulary, prompt=prompt, options=options,
                                      batch_size=batch_size, focus=focus)
            for path, result in zip(files, results, strict=True):
                line = _line(path, engine, result)
                if "error" in line:
                    failed += 1
                    click.echo(f"\n{path}: {line['message']}", err=True)
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                bar.update(1)
    except OSError as exc:
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from None
    click.echo(f"{len(files) - failed} of {len(files)} file(s) transcribed into {output_path}", err=True)
    if failed:
        sys.exit(1)
