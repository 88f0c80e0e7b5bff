"""Shared pieces of the benchmarks: throwaway databases (a SQLite file, or a fresh PostgreSQL database created
and dropped by the run), an app from the factory on a temp instance folder, and percentile/report helpers."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PG_ADMIN_URL = os.environ.get("HILUM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Target:
    """One database to run against: `url` None means a SQLite file inside the run's instance folder; `fresh`
    means a new PostgreSQL database on `url`'s server, created before the run and dropped after it."""

    label: str
    url: str | None
    fresh: bool = False


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="run only on this database (sqlite:///... or postgresql+psycopg://...); it must exist and is "
        "migrated; the run adds its own project and users and does not clean up",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=PG_ADMIN_URL,
        metavar="ADMIN_URL",
        help="also run on PostgreSQL, in a fresh database created on ADMIN_URL's server and dropped afterwards "
        f"(default {PG_ADMIN_URL}, or $HILUM_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run (with --postgres)")


def targets(args: argparse.Namespace) -> list[Target]:
    if args.database:
        label = "postgresql" if args.database.startswith("postgres") else "sqlite"
        return [Target(label, args.database)]
    out = [] if args.no_sqlite else [Target("sqlite", None)]
    if args.postgres:
        out.append(Target("postgresql", args.postgres, fresh=True))
    return out


@contextlib.contextmanager
def database(target: Target, instance: str) -> Iterator[str]:
    """The URL to use for `target`: a SQLite file under `instance`, the given URL, or a fresh PG database."""
    if target.url is None:
        yield "sqlite:///" + os.path.join(instance, "hilum.sqlite3")
        return
    if not target.fresh:
        yield target.url
        return
    import sqlalchemy as sa

    admin = sa.create_engine(target.url, isolation_level="AUTOCOMMIT")
    name = f"hilum_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def instance_folder(prefix: str) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def build_app(instance: str, url: str, **overrides: Any) -> Any:
    """The real app from the factory, migrated, on `instance` and `url`."""
    from server import create_app

    return create_app(
        {"INSTANCE_PATH": instance, "DATABASE_URL": url, "AUTO_MIGRATE": True, "LOG_LEVEL": "WARNING", **overrides}
    )


def close_app(app: Any) -> None:
    runner = app.extensions.get("hilum.runner")
    if runner is not None and hasattr(runner, "shutdown"):
        runner.shutdown()
    app.extensions["hilum.engine"].dispose()


def machine() -> str:
    """CPU count and load average, printed with the figures: on a shared machine they explain a lot."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100); NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
