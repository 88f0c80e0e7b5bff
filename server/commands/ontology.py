"""`hilum ontology ...`: list ontologies, build their knowledge bases, import licensed ones users bring."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("ontology")
def command() -> None:
    """Ontologies: list them, build knowledge bases and indexes, import UMLS / OBO / OWL sources."""


@command.command("list")
def list_ontologies() -> None:
    """Name, version, licence and concept count (or "not built") of every ontology."""
    from ontologies.concept import OntologyError
    from ontologies.kb import status
    from ontologies.registry import loaders

    for name, factory in loaders().items():
        try:
            info = factory().describe()
            state = status(name)
        except OntologyError as exc:
            click.echo(f"{name}\terror: {exc}")
            continue
        if not state.built:
            built = "not built"
        else:
            built = f"{state.concept_count} concepts" + (" (stale: rebuild)" if state.stale else "")
        click.echo(f"{name}\t{info.version}\t{info.licence}\t{built}")


@command.command("build")
@click.argument("name")
@click.option("--force", is_flag=True, help="Rebuild even when the cached build is current.")
def build_ontology(name: str, force: bool) -> None:
    """Build the knowledge base and ANN index of NAME (reused when its source has not changed)."""
    import time

    from ontologies.concept import OntologyError
    from ontologies.kb import build, read_manifest

    started = time.monotonic()
    try:
        folder = build(name, force=force)
    except OntologyError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot build {name}: {exc}") from exc
    manifest = read_manifest(name) or {}
    click.echo(
        f"{name}: {manifest.get('concept_count')} concepts, {manifest.get('alias_count')} aliases "
        f"in {folder} ({time.monotonic() - started:.1f} s)"
    )


@command.command("import")
@click.argument("kind", type=click.Choice(["umls", "obo", "owl"]))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="Name to register it under (lowercase, digits, '-', '_').")
@click.option("--licence", default="user-supplied (see the source's licence)", show_default=True)
@click.option("--version", "version", default=None, help="Version (default: read from the file if it says).")
@click.option(
    "--language",
    "languages",
    multiple=True,
    help="UMLS LAT codes to keep (default ENG); for OWL the xml:lang to keep (default en).",
)
@click.option("--source", "sources", multiple=True, help="UMLS only: source vocabularies (SAB) to keep.")
@click.option(
    "--mrsty",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="UMLS only: MRSTY.RRF for semantic types (found beside MRCONSO.RRF in a META folder).",
)
@click.option("--force", is_flag=True, help="Replace an ontology imported under the same name.")
def import_cmd(
    kind: str,
    path: Path,
    name: str,
    licence: str,
    version: str | None,
    languages: tuple[str, ...],
    sources: tuple[str, ...],
    mrsty: Path | None,
    force: bool,
) -> None:
    """Validate and copy a UMLS (MRCONSO.RRF or META folder), OBO or OWL (RDF/XML) file as ontology NAME."""
    from ontologies.concept import OntologyError
    from ontologies.registry import BUILTIN_LOADERS
    from ontologies.user import import_ontology

    options: dict[str, object] = {}
    if kind == "umls":
        options = {"languages": list(languages or ("ENG",)), "sources": list(sources)}
    elif kind == "owl":
        options = {"language": languages[0] if languages else "en"}
    try:
        info = import_ontology(
            kind,
            path,
            name,
            licence=licence,
            version=version,
            options=options,
            mrsty=mrsty,
            reserved=tuple(BUILTIN_LOADERS),
            overwrite=force,
        )
    except OntologyError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot import {path}: {exc}") from exc
    click.echo(f"imported {info.name} (version {info.version}); run `hilum ontology build {info.name}`")
