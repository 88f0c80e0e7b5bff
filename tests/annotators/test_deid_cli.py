"""`hilum deid text`: JSONL in, spans or redacted text out; bad input gives a message with the line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.commands.deid import command

FIXTURES = Path(__file__).parent.parent / "fixtures" / "deid"


def run(*args: str) -> tuple[int, str]:
    """Invoke `deid` with `args`; exit code and combined output."""
    result = CliRunner().invoke(command, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        result.output
    )
    return result.exit_code, result.output


def test_spans_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code, _ = run("text", "--input", str(FIXTURES / "notes.jsonl"), "--output", str(out))
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["n1", "n2", "n3"]
    labels = {s["label"] for s in lines[0]["spans"]}
    assert {"NAME", "DATE", "PHONE"} <= labels
    assert set(lines[0]["spans"][0]) == {"start", "end", "label", "score"}
    assert lines[1]["spans"] == [] and lines[2]["spans"] == []


def test_redact_tag_and_surrogate(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code, _ = run("text", "--input", str(FIXTURES / "notes.jsonl"), "--output", str(out), "--redact")
    assert code == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert "Okonkwo" not in first["text"] and "[NAME]" in first["text"]
    code, _ = run("text", "--input", str(FIXTURES / "notes.jsonl"), "--output", str(out), "--redact",
                  "--mode", "surrogate", "--secret", "k")  # fmt: skip
    assert code == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert "Okonkwo" not in first["text"] and "555-201-7788" not in first["text"]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": 1, "text": "ok"}\n{not json}\n', "line 2: not valid JSON"),
        ('{"id": 1}\n', "line 1: missing field(s) text"),
        ("[1, 2]\n", "line 1: expected a JSON object"),
        ('{"id": 1, "text": 5}\n', "line 1: 'text' must be a string"),
    ],
)
def test_bad_input_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(content, encoding="utf-8")
    code, output = run("text", "--input", str(src), "--output", str(tmp_path / "o.jsonl"))
    assert code != 0 and message in output and "Traceback" not in output


def test_missing_input_and_surrogate_without_secret(tmp_path: Path) -> None:
    code, output = run("text", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl"))
    assert code != 0 and "No such file" in output
    out = str(tmp_path / "o.jsonl")
    code, output = run("text", "--input", str(FIXTURES / "notes.jsonl"), "--output", out,
                       "--redact", "--mode", "surrogate")  # fmt: skip
    assert code != 0 and "secret" in output


def test_large_text_is_bounded(tmp_path: Path) -> None:
    import server.commands.deid as deid

    src = tmp_path / "big.jsonl"
    text = ("Lungs clear. " * 800) + "Seen 7/22 by Dr. Okonkwo. " + ("Abd soft. " * 800)
    src.write_text(json.dumps({"id": "big", "text": text}) + "\n", encoding="utf-8")
    old = deid.MAX_TEXT_CHARS
    deid.MAX_TEXT_CHARS = 4000  # exercise the chunking path on a small text
    try:
        code, _ = run("text", "--input", str(src), "--output", str(tmp_path / "o.jsonl"))
    finally:
        deid.MAX_TEXT_CHARS = old
    assert code == 0
    spans = json.loads((tmp_path / "o.jsonl").read_text())["spans"]
    found = {text[s["start"] : s["end"]] for s in spans}
    assert "7/22" in found and any("Okonkwo" in f for f in found)
