"""`hilum annotate ...`: run the clinical text pipeline from the command line.

    hilum annotate text --input IN.jsonl --output OUT.jsonl [--workers N] [--config pipeline.toml]

Input lines are `{"id", "text"}`; output lines `{"id", "spans": [{"start", "end", "text", "label", "assertion",
"section", "concepts": [{"ontology", "id", "name", "score"}]}]}`, concepts best first, in input order. Every
line is checked before any work starts; a bad one stops the run with an error naming it. The output is written
beside its final name and moved there only when complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click


class _NoBar:
    def update(self, _steps: int) -> None:
        pass


def _read_records(path: str) -> list[tuple[Any, str]]:
    records = []
    try:
        handle = open(path, encoding="utf-8", errors="strict")
        with handle:
            for lineno, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise click.ClickException(f"line {lineno}: not valid JSON ({exc.msg})") from None
                if not isinstance(record, dict) or "id" not in record or "text" not in record:
                    raise click.ClickException(f"line {lineno}: expected a JSON object with 'id' and 'text'")
                if not isinstance(record["text"], str):
                    raise click.ClickException(f"line {lineno}: 'text' must be a string")
                if not isinstance(record["id"], str | int) or isinstance(record["id"], bool):
                    raise click.ClickException(f"line {lineno}: 'id' must be a string or an integer")
                records.append((record["id"], record["text"]))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    return records


@click.group(name="annotate")
def command() -> None:
    """Pre-annotate clinical text (entities, assertion, sections, concepts)."""


@command.command("text")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False), help="JSONL: id, text")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False), help="JSONL to write")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="processes (default: every core)")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="pipeline TOML")
def text_command(input_path: str, output_path: str, workers: int | None, config_path: str | None) -> None:
    """Annotate each `{"id", "text"}` line of INPUT; write `{"id", "spans"}` lines to OUTPUT."""
    from annotators.text.batch import annotate_many
    from annotators.text.errors import TextPipelineError
    from annotators.text.pipeline import load_config

    records = _read_records(input_path)
    config = Path(config_path) if config_path else None
    try:
        load_config(config)  # a bad configuration stops here, before any worker starts
    except TextPipelineError as exc:
        raise click.ClickException(str(exc)) from None
    workers = min(workers or os.cpu_count() or 1, max(1, len(records) // 8) or 1)
    partial = f"{output_path}.partial"
    progress: Any = (
        click.progressbar(length=len(records), label="annotating", file=sys.stderr)
        if sys.stderr.isatty()
        else contextlib.nullcontext(_NoBar())
    )
    try:
        with open(partial, "w", encoding="utf-8") as out, progress as bar:
            for doc_id, spans in annotate_many(records, workers=workers, config=config):
                out.write(json.dumps({"id": doc_id, "spans": [s.to_json() for s in spans]}, ensure_ascii=False))
                out.write("\n")
                bar.update(1)
        os.replace(partial, output_path)
    except TextPipelineError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {output_path}: {exc.strerror}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    click.echo(f"annotated {len(records)} texts -> {output_path}", err=True)
