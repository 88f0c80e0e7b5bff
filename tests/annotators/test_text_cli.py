"""`hilum annotate text` and `hilum train ner` from the command line: contract shapes and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.annotators.test_text_pipeline import FIXTURES, TEST_CONFIG, load_test_pipeline

SPAN_KEYS = {"start", "end", "text", "label", "assertion", "section", "concepts"}
CONCEPT_KEYS = {"ontology", "id", "name", "score"}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from server.cli import main

    load_test_pipeline(tmp_path_factory.getbasetemp() / "hilum-text-cache")  # built once, reused by the CLI
    return main


def run(cli: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_annotate_text_writes_the_contract_shape(cli: Any, tmp_path: Path, workers: str) -> None:
    source = tmp_path / "in.jsonl"
    lines = (FIXTURES / "reports.jsonl").read_text(encoding="utf-8").splitlines() * (8 if workers == "2" else 1)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(cli, "annotate", "text", "--input", str(source), "--output", str(out), "--config",
                 str(TEST_CONFIG), "--workers", workers)  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    inputs = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [i["id"] for i in inputs]  # input order, ids as given
    for record, given in zip(records, inputs, strict=True):
        assert set(record) == {"id", "spans"}
        for span in record["spans"]:
            assert set(span) == SPAN_KEYS
            assert given["text"][span["start"] : span["end"]] == span["text"]
            assert all(set(c) == CONCEPT_KEYS for c in span["concepts"])
            scores = [c["score"] for c in span["concepts"]]
            assert scores == sorted(scores, reverse=True)
    first: dict[str, Any] = {}
    for span in records[0]["spans"]:
        first.setdefault(span["text"], span)
    assert first["pleural effusion"]["assertion"] == "negated"
    assert first["nodule"]["section"] == "findings"
    assert records[2]["spans"] == []


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', "line 2: not valid JSON"),
        ('{"id": 1}\n', "line 1: expected a JSON object with 'id' and 'text'"),
        ('["id", "text"]\n', "line 1: expected a JSON object"),
        ('{"id": 1, "text": 5}\n', "line 1: 'text' must be a string"),
        ('{"id": null, "text": "x"}\n', "line 1: 'id' must be a string or an integer"),
    ],
)
def test_annotate_text_names_the_bad_line(cli: Any, tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(cli, "annotate", "text", "--input", str(source), "--output", str(out), "--config", str(TEST_CONFIG))
    assert result.exit_code != 0 and message in result.output
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_annotate_text_rejects_non_utf8_and_bad_config(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": 1, "text": "caf\xe9"}\n')
    result = run(cli, "annotate", "text", "--input", str(source), "--output", str(tmp_path / "o.jsonl"))
    assert result.exit_code != 0 and "not UTF-8" in result.output
    config = tmp_path / "pipeline.toml"
    config.write_text('components = ["hilum_sentences", "hilum_negex"]\n', encoding="utf-8")
    source.write_text('{"id": 1, "text": "x"}\n', encoding="utf-8")
    result = run(cli, "annotate", "text", "--input", str(source), "--output", str(tmp_path / "o.jsonl"),
                 "--config", str(config))  # fmt: skip
    assert result.exit_code != 0 and "unknown component 'hilum_negex'" in result.output


def test_training_corpora_mark_labels_a_corpus_lacks_as_missing(tmp_path: Path) -> None:
    """NCBI-style corpora (diseases only) must not teach that chemicals are plain words."""
    import spacy
    from spacy.tokens import DocBin

    from annotators.text.training import build_docbins
    from annotators.text.training_config import training_config

    chemicals = tmp_path / "chem.jsonl"
    chemicals.write_text(json.dumps({"id": "a", "text": "Aspirin caused gastritis.", "spans": [
        {"start": 0, "end": 7, "label": "CHEMICAL"}, {"start": 15, "end": 24, "label": "FINDING"}]}) + "\n")
    diseases = tmp_path / "disease.txt"
    diseases.write_text("1|t|Aspirin and asthma.\n1|a|Rare.\n1\t12\t18\tasthma\tSpecificDisease\tD001249\n")
    path, documents, mentions = build_docbins([chemicals, diseases], tmp_path, "train")
    assert (documents, mentions) == (2, 3)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))
    second = docs[1]
    assert [(e.text, e.label_) for e in second.ents] == [("asthma", "FINDING")]
    assert second[0].ent_iob_ == "" and second[1].ent_iob_ == "O"  # "Aspirin": missing, "and": outside
    config = spacy.util.load_config_from_str(training_config(seed=3))
    assert config["components"]["ner"]["factory"] == "ner" and config["system"]["seed"] == 3
    with pytest.raises(ValueError, match="unknown training settings: widht"):
        training_config(widht=3)


def test_train_ner_reports_a_bad_corpus(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("1|t|Title\n1\tx\ty\tmention\tDisease\n", encoding="utf-8")
    result = run(cli, "train", "ner", "--train", str(bad), "--dev", str(bad), "--output", str(tmp_path / "run"))
    assert result.exit_code != 0 and "line 2: not a PubTator" in result.output


def test_train_aliases_collects_training_mentions_by_id(cli: Any, tmp_path: Path) -> None:
    corpus = tmp_path / "train.txt"
    corpus.write_text(
        "1|t|Aspirin and ASA.\n1|a|Breast cancer.\n"
        "1\t0\t7\tAspirin\tChemical\tD001241\n1\t12\t15\tASA\tChemical\tD001241\n"
        "1\t17\t30\tBreast cancer\tDisease\tD001943|D009369\n",
        encoding="utf-8",
    )
    out = tmp_path / "aliases.json"
    result = run(cli, "train", "aliases", "--train", str(corpus), "--output", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["aliases"] == {"D001241": ["ASA", "Aspirin"]}  # composite mentions name no single concept
    assert document["labels"] == {"D001241": {"CHEMICAL": 2}, "D001943": {"FINDING": 1}, "D009369": {"FINDING": 1}}
