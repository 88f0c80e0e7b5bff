"""`hilum deid ...`: de-identification from the command line (the interface evaluations use).

    hilum deid text --input IN.jsonl --output OUT.jsonl [--redact [--mode tag|surrogate]]

Input lines are `{"id", "text"}` (optionally `"patient"` for surrogate consistency); output lines are
`{"id", "spans": [{"start", "end", "label", "score"}]}` or, with `--redact`, `{"id", "text", "spans"}`.
"""

from __future__ import annotations

import json
from typing import Any

import click

MAX_TEXT_CHARS = 1_000_000  # longer texts are analysed in chunks of this size
_CHUNK_OVERLAP = 200


def _parse_line(raw: str, lineno: int) -> tuple[str, str, str]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"line {lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise click.ClickException(f"line {lineno}: expected a JSON object with 'id' and 'text'")
    missing = [key for key in ("id", "text") if key not in record]
    if missing:
        raise click.ClickException(f"line {lineno}: missing field(s) {', '.join(missing)}")
    if not isinstance(record["text"], str):
        raise click.ClickException(f"line {lineno}: 'text' must be a string")
    patient = record.get("patient", record["id"])
    return str(record["id"]), record["text"], str(patient)


def _analyze_long(text: str, analyze: Any, merge: Any) -> list[Any]:
    """Analyse a text in overlapping chunks so that memory and time stay bounded."""
    if len(text) <= MAX_TEXT_CHARS:
        return list(analyze(text))
    spans = []
    start = 0
    while start < len(text):
        end = min(len(text), start + MAX_TEXT_CHARS)
        if end < len(text):  # cut at whitespace so that no word is split
            cut = text.rfind(" ", start + MAX_TEXT_CHARS // 2, end)
            end = cut if cut > 0 else end
        for span in analyze(text[start:end]):
            spans.append(
                type(span)(span.start + start, span.end + start, span.label, span.score, span.source)
            )
        if end >= len(text):
            break
        start = max(start + 1, end - _CHUNK_OVERLAP)
    return list(merge(spans))


@click.group(name="deid")
def command() -> None:
    """De-identify clinical text (DICOM and audio come later)."""


@command.command("text")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False), help="JSONL: id, text")
@click.option(
    "--output", "output_path", required=True, type=click.Path(dir_okay=False), help="JSONL to write"
)
@click.option("--redact", is_flag=True, help="write de-identified text instead of spans only")
@click.option("--mode", type=click.Choice(["surrogate", "tag"]), default="tag", show_default=True,
              help="with --redact: [LABEL] tags or consistent surrogates")  # fmt: skip
@click.option(
    "--secret", envvar="HILUM_DEID_SECRET", default="", help="surrogate key (env HILUM_DEID_SECRET)"
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="de-id config TOML")
def text_command(
    input_path: str, output_path: str, redact: bool, mode: str, secret: str, config_path: str | None
) -> None:
    """Find PHI in each `{"id", "text"}` line of INPUT; write spans (or redacted text) to OUTPUT."""
    from annotators.deid import DeidConfigError, get_engine
    from annotators.deid import redact as apply_redaction
    from annotators.deid.engine import merge_spans

    if redact and mode == "surrogate" and not secret:
        raise click.UsageError("--mode surrogate needs --secret or HILUM_DEID_SECRET")
    try:
        engine = get_engine(config_path)
    except DeidConfigError as exc:
        raise click.ClickException(str(exc)) from None
    count = 0
    try:
        with open(input_path, encoding="utf-8") as src, open(output_path, "w", encoding="utf-8") as dst:
            for lineno, raw in enumerate(src, start=1):
                if not raw.strip():
                    continue
                doc_id, text, patient = _parse_line(raw, lineno)
                spans = _analyze_long(text, engine.analyze, merge_spans) if text.strip() else []
                out: dict[str, Any] = {"id": doc_id, "spans": [
                    {"start": s.start, "end": s.end, "label": s.label, "score": round(s.score, 3)}
                    for s in spans
                ]}  # fmt: skip
                if redact:
                    out["text"] = apply_redaction(text, spans, mode=mode, secret=secret, patient_key=patient)
                dst.write(json.dumps(out, ensure_ascii=False) + "\n")
                count += 1
    except OSError as exc:
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{input_path}: not UTF-8 text") from None
    click.echo(f"{count} document(s) written to {output_path}", err=True)
