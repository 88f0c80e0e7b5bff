"""Apply Table E.1-1 (and Table E.3.4-1 for SR content) to a copy of a dataset, recording what changed."""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom import dcmwrite
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from annotators.deid.dicom import values
from annotators.deid.dicom.burnin import PixelPolicy
from annotators.deid.dicom.ocr import OcrUnavailableError, tesseract_version
from annotators.deid.dicom.pixels import clean_pixels
from annotators.deid.dicom.report import Report, TagChange, burned_in, write_method
from annotators.deid.dicom.table import Rule, lookup, lookup_content, normalize_options, source_line
from annotators.dicom.errors import DicomDirError, MalformedDicomError
from annotators.dicom.reading import is_dicomdir, read_dataset

_MAX_LEN = {"AE": 16, "CS": 16, "SH": 16, "LO": 64, "PN": 64, "ST": 1024, "LT": 10240}
_FREE_TEXT = values.TEXT_VRS | {"PN"}
_CODE_KEYWORDS = {"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
                  "URNCodeValue", "ContextIdentifier", "MappingResource"}  # fmt: skip
_CONTENT_VALUE = {"TEXT": "TextValue", "PNAME": "PersonName", "DATE": "Date", "TIME": "Time",
                  "DATETIME": "DateTime", "UIDREF": "UID"}  # fmt: skip


@dataclass
class _Context:
    secret: str
    patient_key: str
    options: frozenset[str]
    report: Report
    safe_private: frozenset[tuple[str, int, int]]

    def record(self, path: str, tag: int, action: str, rule: str, name: str = "") -> None:
        label = name or keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        self.report.changes.append(TagChange(path, label, action, rule))


def _path(parent: str, tag: int) -> str:
    here = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return f"{parent}.{here}" if parent else here


def _resolve(code: str, vr: str) -> str:
    """Pick one alternative of a compound code: the one valid for any IOD Type, without module tables.

    X/Z keeps a zero-length attribute (fine for Type 2 and 3); X/D, X/Z/D and Z/D keep a dummy (fine for Type 1);
    X/Z/U* keeps a reference sequence whose UIDs the recursion remaps.
    """
    if code == "X/Z":
        return "Z"
    if code in ("X/D", "X/Z/D", "Z/D"):
        return "D"
    if code == "X/Z/U*":
        return "K" if vr == "SQ" else "Z"
    return code


def _fit(text: str, vr: str) -> str:
    limit = _MAX_LEN.get(vr)
    return text[:limit] if limit else text


def _pseudonym(value: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), b"dicom-id\x1f" + value.strip().encode(), hashlib.sha256).hexdigest()
    return "ANON" + digest[:12].upper()


def _dummy_element(elem: DataElement, ctx: _Context) -> None:
    if elem.VR == "UI":
        elem.value = _map_uids(elem.value, ctx.secret)
    elif elem.VR in ("LO", "SH") and (elem.keyword or "").endswith("ID") and elem.value:
        elem.value = _pseudonym(str(elem.value), ctx.secret)
    else:
        elem.value = values.dummy(elem.VR)


def _map_uids(value: object, secret: str) -> object:
    if isinstance(value, bytes):
        return values.remap_uid(value.decode("ascii", "replace").strip("\x00 "), secret).encode()
    if isinstance(value, list | tuple | MultiValue):
        return [values.remap_uid(str(v), secret) for v in value]
    return values.remap_uid(str(value), secret) if value else value


def _clean_element(ds: Dataset, elem: DataElement, ctx: _Context, path: str, rule: str) -> None:
    """Action C by VR: dates shift, names and free text get surrogates, binary values cannot be cleaned (X)."""
    vr, tag = elem.VR, int(elem.tag)
    if vr == "SQ":
        _walk_items(elem, ctx, path, mode="clean", codes=(elem.keyword or "").endswith("CodeSequence"))
        ctx.record(path, tag, "C", rule)
        return
    if elem.value in (None, "", b"") or vr == "TM":
        return
    if vr in ("DA", "DT"):
        shifted = values.shift_date(str(elem.value), vr, values.patient_offset(ctx.secret, ctx.patient_key))
        elem.value = shifted if shifted is not None else elem.empty_value
        ctx.record(path, tag, "C" if shifted is not None else "Z", rule)
    elif vr == "PN":
        items = elem.value if elem.VM > 1 else [elem.value]
        cleaned = [values.clean_name(str(v), secret=ctx.secret, patient_key=ctx.patient_key) for v in items]
        elem.value = [_fit(v, vr) for v in cleaned] if elem.VM > 1 else _fit(cleaned[0], vr)
        ctx.record(path, tag, "C", rule)
    elif vr == "AS":
        elem.value = values.clean_age(str(elem.value))
        ctx.record(path, tag, "C", rule)
    elif vr in values.TEXT_VRS or vr == "CS":
        items = list(elem.value) if elem.VM > 1 else [elem.value]
        cleaned = [values.clean_text(str(v), secret=ctx.secret, patient_key=ctx.patient_key) for v in items]
        if vr == "CS":
            cleaned = [c if c == str(o) else values.dummy("CS") for c, o in zip(cleaned, items, strict=True)]
        cleaned = [_fit(c, vr) for c in cleaned]
        elem.value = cleaned if elem.VM > 1 else cleaned[0]
        ctx.record(path, tag, "C", rule)
    elif isinstance(elem.value, bytes | bytearray):
        del ds[tag]
        ctx.record(path, tag, "X", rule)


def _apply(ds: Dataset, elem: DataElement, code: str, ctx: _Context, path: str, rule: str) -> None:
    tag = int(elem.tag)
    action = _resolve(code, elem.VR)
    if action == "X":
        del ds[tag]
    elif action == "Z":
        elem.value = elem.empty_value
    elif action == "D":
        if elem.VR == "SQ":
            _walk_items(elem, ctx, path, mode="dummy", codes=(elem.keyword or "").endswith("CodeSequence"))
        else:
            _dummy_element(elem, ctx)
    elif action == "U":
        elem.value = _map_uids(elem.value, ctx.secret)
    elif action == "C":
        _clean_element(ds, elem, ctx, path, rule)
        return
    elif action == "K":
        if elem.VR == "SQ":
            _walk_items(elem, ctx, path, mode="keep", codes=False)
        if code == "K":  # retained by an Option (X/Z/U* keeps the sequence, its UIDs are recorded inside)
            ctx.record(path, tag, "K", rule)
        return
    ctx.record(path, tag, action, rule)


def _untabled(ds: Dataset, elem: DataElement, ctx: _Context, path: str, mode: str, codes: bool) -> None:
    """An attribute Table E.1-1 does not list: kept, except free text inside a dummied or cleaned sequence."""
    if elem.VR == "SQ":
        _walk_items(elem, ctx, path, mode=mode, codes=codes)
        return
    if mode == "keep" or (elem.keyword in _CODE_KEYWORDS and not codes):
        return
    if elem.VR in _FREE_TEXT or elem.VR in ("DA", "DT"):
        if elem.value in (None, ""):
            return
        if mode == "dummy":
            _dummy_element(elem, ctx)
            ctx.record(path, int(elem.tag), "D", "E.1-1")
        else:
            _clean_element(ds, elem, ctx, path, "E.1-1")


def _private(ds: Dataset, elem: DataElement, rule: Rule, ctx: _Context, path: str) -> None:
    tag = int(elem.tag)
    if rule.action(ctx.options) == "C" and _is_safe_private(ds, tag, ctx):
        return
    del ds[tag]
    ctx.record(path, tag, "X", "private", name="private")


def _is_safe_private(ds: Dataset, tag: int, ctx: _Context) -> bool:
    group, element = tag >> 16, tag & 0xFFFF
    if 0x0010 <= element <= 0x00FF:  # a private creator: kept when any element of its block is kept
        block = element << 8
        return any(_is_safe_private(ds, (group << 16) | (block | low), ctx) for low in range(256)
                   if ((group << 16) | (block | low)) in ds)  # fmt: skip
    creator = ds.get((group << 16) | (element >> 8))
    if creator is None or not creator.value:
        return False
    return (str(creator.value).strip(), group, element & 0xFF) in ctx.safe_private


def _process(ds: Dataset, ctx: _Context, parent: str, mode: str = "keep", codes: bool = False) -> None:
    for tag in list(ds.keys()):
        elem = ds[tag]
        path = _path(parent, int(tag))
        rule = lookup(int(tag))
        if rule is None:
            _untabled(ds, elem, ctx, path, mode, codes)
        elif rule.tag == "private":
            _private(ds, elem, rule, ctx, path)
        elif elem.keyword == "ContentSequence":
            _content(elem, rule, ctx, path)
        else:
            _apply(ds, elem, rule.action(ctx.options), ctx, path, "E.1-1")


def _walk_items(elem: DataElement, ctx: _Context, path: str, *, mode: str, codes: bool) -> None:
    for index, item in enumerate(elem.value or []):
        _process(item, ctx, f"{path}[{index}]", mode, codes)


def _content(elem: DataElement, rule: Rule, ctx: _Context, path: str) -> None:
    """SR content: dummy values under the Basic Profile; Table E.3.4-1 per item with Clean Structured Content."""
    action = _resolve(rule.action(ctx.options), "SQ")
    if action != "C":
        _walk_items(elem, ctx, path, mode="dummy" if action == "D" else "keep", codes=False)
        ctx.record(path, int(elem.tag), action, "E.1-1")
        return
    kept = []
    for index, item in enumerate(elem.value or []):
        item_path = f"{path}[{index}]"
        mode = _content_mode(item, ctx)
        if mode == "remove":
            ctx.record(item_path, int(elem.tag), "X", "E.3.4-1", name="ContentItem")
            continue
        _process(item, ctx, item_path, mode)
        kept.append(item)
    elem.value = Sequence(kept)
    ctx.record(path, int(elem.tag), "C", "E.1-1")


def _content_mode(item: Dataset, ctx: _Context) -> str:
    """Table E.3.4-1 action for one content item, as a walking mode (or ``remove``)."""
    concept = (item.get("ConceptNameCodeSequence") or [None])[0]
    value_type = str(item.get("ValueType", ""))
    found = None
    if concept is not None:
        found = lookup_content(str(concept.get("CodeValue", "")), str(concept.get("CodingSchemeDesignator", "")),
                               value_type)  # fmt: skip
    if found is None:
        return "clean"
    code = found.action(ctx.options)
    return {"X": "remove", "X/D": "dummy", "D": "dummy", "K": "keep", "C": "clean"}.get(code, "dummy")


def deidentify_dataset(
    ds: Dataset,
    *,
    secret: str,
    patient_key: str | None = None,
    options: Iterable[str] = (),
    safe_private: Iterable[tuple[str, int, int]] = (),
    pixels: str | PixelPolicy = "flag",
) -> tuple[Dataset, Report]:
    """A de-identified copy of ``ds`` (which is never modified) and the `Report` of what changed.

    ``secret`` keys UID remapping, ID pseudonyms and date offsets (required, the project's secret);
    ``patient_key`` picks the date offset (default: the original Patient ID, else the Study Instance UID);
    ``options`` are Table E.1-1 Option names (``retain-uids``, ``clean-descriptors``…); ``safe_private`` lists
    (private creator, group, element low byte) kept under ``retain-safe-private``; ``pixels`` is the burned-in
    text policy (``flag``: only flag for review; ``ocr``: black out PHI words; ``all-text``: black out every
    word; or a `PixelPolicy`), applied to instances the report flags (see `annotators.deid.dicom.pixels`).
    Raises `UnknownOptionError` for a bad option, `UnknownPixelPolicyError` for a bad policy, `DicomDirError`
    for a DICOMDIR, ValueError without a secret; `OcrUnavailableError` when OCR is asked for without tesseract.
    """
    if not secret:
        raise ValueError("DICOM de-identification needs a secret")
    chosen = normalize_options(options)
    policy = pixels if isinstance(pixels, PixelPolicy) else PixelPolicy(mode=pixels)
    if policy.mode != "flag" and tesseract_version() is None:
        raise OcrUnavailableError("Pixel policy needs the tesseract program (Debian package tesseract-ocr).")
    if is_dicomdir(ds):
        raise DicomDirError("A DICOMDIR is an index of other files: rebuild it from the de-identified files.")
    report = Report(profile=f"{source_line()} Basic Profile", options=tuple(sorted(chosen)))
    with warnings.catch_warnings(record=True) as caught:  # pydicom's complaints about the input's values
        warnings.simplefilter("always")
        out = copy.deepcopy(ds)
        key = patient_key or str(ds.get("PatientID", "") or "") or str(ds.get("StudyInstanceUID", "") or "")
        ctx = _Context(secret, key, chosen, report, frozenset(safe_private))
        burned_in(out, report)
        _process(out, ctx, "")
        meta = getattr(out, "file_meta", None)
        if isinstance(meta, FileMetaDataset) and "MediaStorageSOPInstanceUID" in meta:
            _process(meta, ctx, "")
            if out.get("SOPInstanceUID"):  # some sources disagree with themselves; the output does not
                meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        cleaned = clean_pixels(out, ds, report, policy)
        write_method(out, report, chosen, clean_pixels=cleaned)
    report.warnings = len(caught)
    return out, report


def deidentify_bytes(
    blob: bytes,
    *,
    secret: str,
    patient_key: str | None = None,
    options: Iterable[str] = (),
    safe_private: Iterable[tuple[str, int, int]] = (),
    pixels: str | PixelPolicy = "flag",
) -> tuple[bytes, Report]:
    """Parse ``blob`` (raising the DICOM engine's `NotDicomError` / `MalformedDicomError`), de-identify it
    with `deidentify_dataset` and write it back in its own transfer syntax (Explicit VR Little Endian when
    burned-in text was removed from compressed or big-endian pixel data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = read_dataset(blob)
        try:  # pydicom parses sequences lazily: read everything now, so a truncated file fails here
            for _ in ds.iterall():
                pass
        except Exception as exc:
            raise MalformedDicomError("The DICOM file could not be parsed (truncated?).") from exc
    out, report = deidentify_dataset(ds, secret=secret, patient_key=patient_key, options=options,
                                     safe_private=safe_private, pixels=pixels)  # fmt: skip
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dcmwrite(buffer, out, enforce_file_format=False)
    report.warnings += len(caught)
    return buffer.getvalue(), report
