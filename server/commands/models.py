"""`hilum models ...`: the Whisper weights that registry packages ship, and their preparation.

    hilum models list
    hilum models prepare [--model tiny.en|base|PATH]

`prepare` joins split CTranslate2 weights, converts them into an openai-whisper checkpoint and verifies both
by SHA-256, in the cache (`$HILUM_CACHE_DIR`, default `~/.cache/hilum`). Nothing is downloaded.
"""

from __future__ import annotations

import json

import click


@click.group(name="models")
def command() -> None:
    """Whisper models for transcription (offline, from registry packages)."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def list_command(as_json: bool) -> None:
    """The packaged models: packages, installed or not, converted for openai-whisper or not."""
    from annotators.transcription import weights

    rows = weights.describe()
    if as_json:
        click.echo(json.dumps({"cache": str(weights.cache_dir()), "models": rows}, indent=2))
        return
    click.echo(f"cache: {weights.cache_dir()}")
    for row in rows:
        state = ("installed" if row["installed"] else "NOT installed") + (", converted" if row["converted"] else "")
        click.echo(f"{row['model']:<8} {state:<24} {', '.join(row['packages'])} ({row['licence']})")


@command.command("prepare")
@click.option("--model", "names", multiple=True, help="tiny.en, base or a CTranslate2 folder (default: tiny.en)")
def prepare_command(names: tuple[str, ...]) -> None:
    """Join, convert and verify weights so that both engines can load them offline."""
    from annotators.transcription import TranscriptionError, weights
    from annotators.transcription.convert import ConversionError

    for name in names or ("tiny.en",):
        try:
            info = weights.prepare(name)
        except (TranscriptionError, ConversionError) as exc:
            raise click.ClickException(f"{name}: {exc.message}") from None
        click.echo(f"{name}: openai-whisper checkpoint {info['openai_whisper']} "
                   f"({info['size'] / 1e6:.1f} MB, sha256 {info['sha256'][:16]}…); "
                   f"CTranslate2 {info['ctranslate2']}")
