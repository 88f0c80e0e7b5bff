"""`hilum deid ...`: de-identification from the command line (the interface evaluations use).

    hilum deid text --input IN.jsonl --output OUT.jsonl [--redact [--mode tag|surrogate]]
    hilum deid dicom IN_DIR OUT_DIR [--profile basic] [--option retain-longitudinal-modified-dates ...] [--report R]
                     [--pixels ocr|all-text|flag]

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
    """De-identify clinical text and DICOM (headers and burned-in pixel text)."""


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


_DICOM_OPTIONS = (
    "retain-safe-private", "retain-uids", "retain-device-identity", "retain-institution-identity",
    "retain-patient-characteristics", "retain-longitudinal-full-dates", "retain-longitudinal-modified-dates",
    "clean-descriptors", "clean-structured-content", "clean-graphics",
)  # fmt: skip


@command.command("dicom")
@click.argument("in_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--profile", type=click.Choice(["basic"]), default="basic", show_default=True,
              help="PS3.15 Annex E profile")  # fmt: skip
@click.option("--option", "options", multiple=True, type=click.Choice(_DICOM_OPTIONS),
              help="a Table E.1-1 Option (repeatable)")  # fmt: skip
@click.option(
    "--secret", envvar="HILUM_DEID_SECRET", default="", help="UID/date key (env HILUM_DEID_SECRET)"
)
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="JSONL: what changed per file")
@click.option("--pixels", type=click.Choice(["ocr", "all-text", "flag"]), default=None,
              help="burned-in text on flagged images: black out PHI words (ocr), every word (all-text) or only "
                   "flag for review; default ocr when tesseract is installed, else flag with a warning")  # fmt: skip
def dicom_command(
    in_dir: str,
    out_dir: str,
    profile: str,
    options: tuple[str, ...],
    secret: str,
    report_path: str | None,
    pixels: str | None,
) -> None:
    """De-identify every DICOM file under IN_DIR into OUT_DIR (same relative paths; originals untouched)."""
    from pathlib import Path

    from annotators.deid.dicom import UnknownOptionError, deidentify_bytes, normalize_options, tesseract_version
    from annotators.dicom import DicomDirError, DicomError, NotDicomError

    if not secret:
        raise click.UsageError("--secret or HILUM_DEID_SECRET is needed (it keys UIDs and date shifts)")
    try:
        normalize_options(options)
    except UnknownOptionError as exc:
        raise click.UsageError(str(exc)) from None
    pixel_warning = None
    if tesseract_version() is None:
        if pixels in ("ocr", "all-text"):
            raise click.UsageError(f"--pixels {pixels} needs the tesseract program (apt-get install tesseract-ocr)")
        if pixels is None:
            pixel_warning = "tesseract is not installed: burned-in text is only flagged for review, NOT removed"
            click.echo(f"WARNING: {pixel_warning} (apt-get install tesseract-ocr, or pass --pixels flag)", err=True)
    policy = pixels or ("flag" if pixel_warning else "ocr")
    src, dst = Path(in_dir).resolve(), Path(out_dir).resolve()
    if dst == src or src in dst.parents:
        raise click.UsageError("OUT_DIR must not be IN_DIR or inside it")
    counts = {"written": 0, "skipped": 0, "failed": 0, "review": 0, "read": 0, "boxes": 0, "redacted": 0}
    records: list[dict[str, Any]] = []
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = path.relative_to(src)
        record: dict[str, Any] = {"file": str(rel)}
        try:
            blob, report = deidentify_bytes(path.read_bytes(), secret=secret, options=options, pixels=policy)
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        except (NotDicomError, DicomDirError) as exc:
            counts["skipped"] += 1
            record.update(status="skipped", error=exc.code)
            click.echo(f"skipped {rel}: {exc.message}", err=True)
        except DicomError as exc:
            counts["failed"] += 1
            record.update(status="failed", error=exc.code)
            click.echo(f"failed {rel}: {exc.code}: {exc.message}", err=True)
        except OSError as exc:
            counts["failed"] += 1
            record.update(status="failed", error="io_error")
            click.echo(f"failed {rel}: {exc.strerror}", err=True)
        except Exception as exc:  # one bad file must not stop the batch nor print a traceback
            counts["failed"] += 1
            record.update(status="failed", error="deid_error")
            click.echo(f"failed {rel}: could not be de-identified ({type(exc).__name__})", err=True)
        else:
            counts["written"] += 1
            counts["review"] += report.needs_pixel_review
            record.update(status="written", actions=report.counts(), needs_pixel_review=report.needs_pixel_review,
                          burned_in_annotation=report.burned_in_annotation)  # fmt: skip
            if report.pixel_policy:
                record["pixels"] = report.pixels()
                counts["read"] += report.pixel_warning is None
                counts["boxes"] += len(report.pixel_boxes)
                counts["redacted"] += sum(box.redacted for box in report.pixel_boxes)
            if report.pixel_warning:
                click.echo(f"WARNING {rel}: {report.pixel_warning}", err=True)
            elif pixel_warning and report.needs_pixel_review:
                record["pixels"] = {"policy": "flag", "warning": pixel_warning}
        records.append(record)
    if report_path:
        with open(report_path, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in records)
    click.echo(
        f"{counts['written']} written, {counts['skipped']} skipped, {counts['failed']} failed; "
        f"{counts['review']} need pixel review (burned-in annotation) [profile {profile}]",
        err=True,
    )
    if policy != "flag":
        click.echo(f"pixels ({policy}): {counts['read']} image(s) read by OCR, {counts['boxes']} text box(es) found, "
                   f"{counts['redacted']} blacked out", err=True)  # fmt: skip
    elif pixel_warning and counts["review"]:
        click.echo(f"WARNING: {counts['review']} image(s) may carry burned-in PHI that was NOT removed", err=True)
    if counts["failed"]:
        raise SystemExit(1)
