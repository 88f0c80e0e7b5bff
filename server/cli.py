"""The `hilum` command line: one click group, one module per command family in `server.commands`."""

from __future__ import annotations

import importlib

import click

# Each module defines a click command or group named `command`. Heavy imports stay inside the functions.
COMMAND_MODULES = [
    "server.commands.serve",
    "server.commands.db",
    "server.commands.user",
    "server.commands.project",
    "server.commands.imports",
    "server.commands.restore",
    "server.commands.audit",
    "server.commands.blobs",
    "server.commands.worker",
    "server.commands.demo",
    "server.commands.deid",
    "server.commands.ontology",
    "server.commands.annotate",
    "server.commands.train",
    "server.commands.transcribe",
    "server.commands.models",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Hilum: annotation server for clinical images, reports and dictation."""


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command family not written yet
        if exc.name != _name:
            raise
        continue
    main.add_command(_module.command)
