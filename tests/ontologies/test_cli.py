"""`hilum ontology` commands through click's runner, on tiny invented files."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from server.commands.ontology import command


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_import_build_list(hilum_dirs: tuple[Path, Path], fixtures: Path) -> None:
    result = run("import", "owl", str(fixtures / "tiny.owl"), "--name", "tiny-owl", "--licence", "CC0")
    assert result.exit_code == 0, result.output
    assert "imported tiny-owl (version 2026-02-02)" in result.output
    result = run("build", "tiny-owl")
    assert result.exit_code == 0 and "tiny-owl: 3 concepts" in result.output
    result = run("list")
    assert result.exit_code == 0
    rows = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert rows["tiny-owl"].endswith("3 concepts") and "CC0" in rows["tiny-owl"]
    assert rows["mesh"].endswith("not built")


def test_bad_input_gives_a_message_not_a_traceback(hilum_dirs: tuple[Path, Path], fixtures: Path) -> None:
    result = run("build", "nonesuch")
    assert result.exit_code == 1 and "unknown ontology 'nonesuch'; valid names:" in result.output
    result = run("import", "obo", str(fixtures / "bad_quote.obo"), "--name", "broken")
    assert result.exit_code == 1 and "corrupt ontology file" in result.output
    assert "Traceback" not in result.output
    result = run("import", "umls", str(fixtures / "MRCONSO_unsorted.RRF"), "--name", "unsorted")
    assert result.exit_code == 1 and "not sorted by CUI" in result.output


def test_a_corrupt_import_folder_shows_in_list(hilum_dirs: tuple[Path, Path]) -> None:
    broken = hilum_dirs[1] / "broken"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{oops", encoding="utf-8")
    result = run("list")
    assert result.exit_code == 0 and "broken\terror: corrupt ontology file" in result.output
