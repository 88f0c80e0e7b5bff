"""Check DICOM header de-identification on every file of a folder (issue 4, "Show").

    .venv/bin/python bench/eval_deid_dicom.py ../shared/eval/dicom-samples [--option retain-longitudinal-modified-dates]

For each file that the DICOM engine reads (DICOMDIR indexes and non-DICOM files are counted as skipped), the
de-identified output must: (1) parse completely with pydicom; (2) keep no original value of an attribute that
PS3.15 Table E.1-1 says to remove or replace (X, Z, D, U and the compound codes, at any nesting level; X rows
must be gone; no private attribute may remain; with an Option, its K rows are not checked and C dates must
differ); (3) keep UIDs consistent: every original Study / Series / SOP Instance / Frame of Reference UID maps
to one new UID across the whole set, distinct originals stay distinct, File Meta agrees with SOP Instance UID,
and a reference to another instance of the set points at that instance's new UID. The figures have no answer
key: there is none for these files. A folder that does not exist is skipped with a message.

Burned-in text (``--pixels ocr|all-text|flag``, default ocr when tesseract is installed): the files the header
flags are read with OCR; the bench prints how many were read, text boxes found and blacked out, OCR seconds per
frame, and a leak check: words that match an identifier of the file's own header or look like a date or a long
number, readable by OCR in frame 0 before and after (after should be 0). Each file is also de-identified with
``flag`` (headers only) in the same run, as the timing peer.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

from annotators.deid.dicom import Report, deidentify_bytes, lookup, normalize_options, tesseract_version
from annotators.deid.dicom.burnin import header_terms, phi_shaped
from annotators.deid.dicom.ocr import read_words
from annotators.deid.dicom.values import dummy
from annotators.dicom import DicomDirError, DicomError, NotDicomError, read_dataset, render_frame

_LINKED = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
_DUMMIES = {str(dummy(vr)) for vr in ("LO", "PN", "DA", "DT", "TM", "AE", "AS", "UR", "IS")}


def _elements(ds: Dataset) -> list[Any]:
    meta = getattr(ds, "file_meta", None)
    return list(ds.iterall()) + (list(meta.iterall()) if meta is not None else [])


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _violations(original: Dataset, output: Dataset, options: frozenset[str]) -> tuple[int, list[str]]:
    """Attributes whose row says remove/replace but whose original value (or presence, for X) survived."""
    out_elements = _elements(output)
    present = {int(e.tag) for e in out_elements}
    pairs = {(int(e.tag), _text(e.value)) for e in out_elements if e.VR != "SQ" and e.value not in (None, "", b"")}
    checked, found = 0, []
    for elem in _elements(original):
        tag = int(elem.tag)
        rule = lookup(tag)
        if rule is None:
            continue
        if rule.tag == "private":
            checked += 1
            if tag in present:
                found.append(f"({elem.tag.group:04X},{elem.tag.element:04X}) private attribute kept")
            continue
        action = rule.action(options)
        if action == "K" or elem.VR == "SQ" or elem.value in (None, "", b""):
            continue
        checked += 1
        value = _text(elem.value)
        if action == "X" and tag in present:
            found.append(f"{rule.tag} {rule.name}: X but present")
        elif action == "C" and elem.VR not in ("DA", "DT"):
            continue  # cleaned text may rightly be unchanged when it holds no PHI
        elif (tag, value) in pairs and value not in _DUMMIES:
            found.append(f"{rule.tag} {rule.name}: {action} but original value kept")
    return checked, found


def _uid_checks(links: list[tuple[str, dict[str, str], dict[str, str], list[str]]]) -> list[str]:
    problems = []
    mapping: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _name, before, after, _refs in links:
        for keyword in _LINKED:
            if before.get(keyword):
                mapping[(keyword, before[keyword])].add(after.get(keyword, ""))
    for (keyword, _old), new in mapping.items():
        if len(new) != 1:
            problems.append(f"{keyword}: one original UID became {len(new)} different UIDs")
    for keyword in _LINKED:
        olds = [old for (k, old) in mapping if k == keyword]
        news = {next(iter(mapping[(keyword, old)])) for old in olds}
        if len(news) != len(olds):
            problems.append(f"{keyword}: distinct original UIDs collapsed ({len(olds)} -> {len(news)})")
    sop = {old: next(iter(new)) for (k, old), new in mapping.items() if k == "SOPInstanceUID"}
    for name, before, after, refs in links:
        meta_uid = after.get("MediaStorageSOPInstanceUID")
        if after.get("SOPInstanceUID") and meta_uid not in (None, after["SOPInstanceUID"]):
            problems.append(f"{name}: File Meta SOP Instance UID differs from SOP Instance UID")
        for old, new in zip(before.get("refs", "").split(), refs, strict=False):
            if old in sop and new != sop[old]:
                problems.append(f"{name}: a reference to another instance of the set was not remapped with it")
    return problems


def _uids(ds: Dataset) -> dict[str, str]:
    out = {k: str(ds.get(k, "") or "") for k in _LINKED}
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        out["MediaStorageSOPInstanceUID"] = str(meta.MediaStorageSOPInstanceUID)
    refs = [str(e.value) for e in ds.iterall() if e.keyword == "ReferencedSOPInstanceUID" and e.value]
    out["refs"] = " ".join(refs)
    return out


def _readable_phi(blob: bytes, terms: dict[str, str]) -> int:
    """Words in frame 0 that OCR reads and that match a header identifier or look like a date / long number."""
    return sum(phi_shaped(word.text, terms) for word in read_words(render_frame(blob, 0)))


def _pixel_figures(
    name: str, counts: Counter[str], timing: dict[str, float], report: Report, blob: bytes, out: bytes
) -> str | None:
    """Add one file's burned-in text figures to ``counts``/``timing``; its line for the per-file listing."""
    if report.pixel_policy is None:
        return None
    counts["pixels: files read by OCR"] += report.pixel_warning is None
    counts["pixels: files with a warning"] += report.pixel_warning is not None
    counts["pixels: frames read"] += report.pixel_frames
    counts["pixels: boxes found"] += len(report.pixel_boxes)
    counts["pixels: boxes blacked out"] += sum(box.redacted for box in report.pixel_boxes)
    counts["pixels: files left for review"] += report.needs_pixel_review
    timing["ocr"] += report.pixel_seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        terms = header_terms(read_dataset(blob))
        before, after = _readable_phi(blob, terms), _readable_phi(out, terms)
    counts["pixels: PHI-shaped words readable before"] += before
    counts["pixels: PHI-shaped words readable after"] += after
    redacted = sum(box.redacted for box in report.pixel_boxes)
    return (f"{name}: {report.pixel_frames} frame(s), {len(report.pixel_boxes)} box(es), {redacted} blacked out, "
            f"PHI-shaped words {before} -> {after}, {report.pixel_seconds:.2f} s"
            + (f", WARNING {report.pixel_warning}" if report.pixel_warning else ""))  # fmt: skip


def run(folder: Path, options: frozenset[str], pixels: str) -> int:
    counts: Counter[str] = Counter()
    timing = {"headers": 0.0, "with pixels": 0.0, "ocr": 0.0}
    violations: list[str] = []
    listing: list[str] = []
    links = []
    started = time.perf_counter()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        counts["files"] += 1
        blob = path.read_bytes()
        try:
            tick = time.perf_counter()
            deidentify_bytes(blob, secret="bench-secret", options=options)  # the peer: headers only
            tock = time.perf_counter()
            blob_out, report = deidentify_bytes(blob, secret="bench-secret", options=options, pixels=pixels)
            timing["headers"] += tock - tick
            timing["with pixels"] += time.perf_counter() - tock
        except (NotDicomError, DicomDirError) as exc:
            counts[f"skipped ({exc.code})"] += 1
            continue
        except DicomError as exc:
            counts["failed"] += 1
            violations.append(f"{name}: failed ({exc.code})")
            continue
        counts["de-identified"] += 1
        counts["need pixel review"] += report.needs_pixel_review
        counts["flagged for burned-in text"] += report.pixel_policy is not None or report.needs_pixel_review
        line = _pixel_figures(name, counts, timing, report, blob, blob_out)
        listing += [line] if line else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's complaints about values the source already had wrong
            original = read_dataset(blob)
            try:
                output = dcmread(io.BytesIO(blob_out), force=True)
                _elements(output)
            except Exception as exc:
                violations.append(f"{name}: output does not parse ({type(exc).__name__})")
                continue
            counts["outputs parse"] += 1
            checked, found = _violations(original, output, options)
            before, after = _uids(original), _uids(output)
        counts["attributes checked"] += checked
        violations += [f"{name}: {v}" for v in found]
        links.append((name, before, after, after["refs"].split()))
    elapsed = time.perf_counter() - started
    violations += _uid_checks(links)
    print(f"folder {folder}  options {', '.join(sorted(options)) or '(basic profile)'}")
    for key in sorted(counts):
        print(f"  {key:<42} {counts[key]}")
    studies = {before.get("StudyInstanceUID") for _, before, _, _ in links}
    print(f"  {'studies':<42} {len(studies)}")
    print(f"  {'violations':<42} {len(violations)}")
    print(f"  {'seconds':<42} {elapsed:.2f} ({elapsed / max(counts['de-identified'], 1) * 1000:.1f} ms/file)")
    files = max(counts["de-identified"], 1)
    print(f"  {'pixel policy':<42} {pixels}")
    print(f"  {'ms/file headers only (peer)':<42} {timing['headers'] / files * 1000:.1f}")
    print(f"  {'ms/file with pixel policy':<42} {timing['with pixels'] / files * 1000:.1f}")
    if counts["pixels: frames read"]:
        print(f"  {'OCR seconds per frame':<42} {timing['ocr'] / counts['pixels: frames read']:.2f}")
    for line in listing:
        print("  PIXELS", line)
    for line in violations:
        print("  VIOLATION", line)
    return 1 if violations else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--option", action="append", default=[], help="a Table E.1-1 Option (repeatable)")
    parser.add_argument("--pixels", choices=["ocr", "all-text", "flag"], default=None,
                        help="burned-in text policy (default: ocr when tesseract is installed, else flag)")  # fmt: skip
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"{args.folder}: not found, skipped")
        return
    pixels = args.pixels or ("ocr" if tesseract_version() else "flag")
    if tesseract_version() is None and pixels == "flag":
        print("WARNING: tesseract is not installed; burned-in text is only flagged")
    if pixels == "ocr":  # load the text engine before timing (spaCy model and lexicons, once per process)
        from annotators.deid import analyze

        tick = time.perf_counter()
        analyze("warm-up text")
        print(f"text engine loaded in {time.perf_counter() - tick:.1f} s (not counted below)")
    sys.exit(run(args.folder, normalize_options(args.option), pixels))


if __name__ == "__main__":
    main()
