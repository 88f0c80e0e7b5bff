"""Readers of annotated corpora for training and evaluating NER: PubTator and Hilum JSONL.

Both give `AnnotatedText`s: an id, the text, and `(start, end, label)` mentions with Hilum labels. PubTator
types map to Hilum labels through `PUBTATOR_LABELS` (BC5CDR `Chemical`/`Disease`, NCBI-disease's four disease
classes); mention ids (MeSH, OMIM) are kept for linking evaluation. JSONL lines are
`{"id", "text", "spans": [{"start", "end", "label"}]}` — the shape `hilum annotate text` writes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from annotators.text.errors import CorpusError

PUBTATOR_LABELS = {
    "Chemical": "CHEMICAL",
    "Disease": "FINDING",
    "SpecificDisease": "FINDING",
    "DiseaseClass": "FINDING",
    "Modifier": "FINDING",
    "CompositeMention": "FINDING",
}


@dataclass(frozen=True)
class Mention:
    """A gold mention: character offsets, Hilum label, text, and the gold concept ids (may be empty)."""

    start: int
    end: int
    label: str
    text: str = ""
    ids: tuple[str, ...] = ()


@dataclass
class AnnotatedText:
    """One document of a corpus and its gold mentions."""

    doc_id: str
    text: str
    mentions: list[Mention] = field(default_factory=list)

    @property
    def labels(self) -> set[str]:
        """The labels annotated in this document's corpus (set by the reader)."""
        return {m.label for m in self.mentions}


def read_pubtator(path: Path) -> list[AnnotatedText]:
    """Documents (title + ' ' + abstract) with their mentions; `CorpusError` names a malformed line."""
    texts: dict[str, list[str]] = defaultdict(list)
    mentions: dict[str, list[Mention]] = defaultdict(list)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read PubTator corpus {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        head = line[:40]
        if "|t|" in head or "|a|" in head:
            pmid, _kind, text = line.split("|", 2)
            texts[pmid].append(text)
            continue
        fields = line.split("\t")
        if len(fields) == 4 and fields[1] == "CID":  # BC5CDR relation lines
            continue
        if len(fields) < 5 or not fields[1].isdigit() or not fields[2].isdigit():
            raise CorpusError(f"{path}, line {number}: not a PubTator title, abstract or mention line")
        label = PUBTATOR_LABELS.get(fields[4])
        if label is None:
            continue
        ids = tuple(i for i in (fields[5] if len(fields) > 5 else "").replace("+", "|").split("|") if i and i != "-1")
        mentions[fields[0]].append(Mention(int(fields[1]), int(fields[2]), label, fields[3], ids))
    docs = []
    for pmid, parts in texts.items():
        text = " ".join(parts)
        found = mentions.get(pmid, [])
        if any(not 0 <= m.start < m.end <= len(text) for m in found):
            raise CorpusError(f"{path}: a mention of document {pmid} lies outside its text")
        docs.append(AnnotatedText(pmid, text, found))
    return docs


def read_jsonl(path: Path) -> list[AnnotatedText]:
    """Documents of a Hilum JSONL corpus; `CorpusError` names a malformed line."""
    docs = []
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read JSONL corpus {path}: {exc}") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                text = record["text"]
                spans = [Mention(int(s["start"]), int(s["end"]), str(s["label"])) for s in record.get("spans", [])]
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}, line {number}: expected {{'id', 'text', 'spans'}} ({exc})") from None
            if not isinstance(text, str) or any(not 0 <= s.start < s.end <= len(text) for s in spans):
                raise CorpusError(f"{path}, line {number}: span offsets outside the text")
            docs.append(AnnotatedText(str(record.get("id", number)), text, spans))
    return docs


def read_corpus(path: Path) -> list[AnnotatedText]:
    """A corpus file by its form: `.jsonl` is Hilum JSONL, anything else PubTator."""
    return read_jsonl(path) if path.suffix == ".jsonl" else read_pubtator(path)


def find_pubtator_pair(folder: Path) -> tuple[Path, Path] | None:
    """(training file, development file) of the PubTator corpus in `folder`, or None."""
    files = [p for p in sorted(folder.iterdir()) if p.is_file()] if folder.is_dir() else []
    train = next((p for p in files if "train" in p.name.lower() and p.suffix == ".txt"), None)
    dev = next((p for p in files if "develop" in p.name.lower() and p.suffix == ".txt"), None)
    return (train, dev) if train and dev else None
