"""The app for CLI commands, built once per process."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context; domain errors become a clean message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from server import create_app
        from server.errors import HilumError

        app = create_app()
        try:
            with app.app_context():
                return fn(*args, **kwargs)
        except HilumError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            app.extensions["hilum.runner"].shutdown()
            app.extensions["hilum.engine"].dispose()

    return wrapper
