"""The one error base of every engine: a stable snake_case ``code`` and a human message without PHI (no file
names, no element values, no text copied from a parser)."""

from __future__ import annotations


class EngineError(Exception):
    """Base of the errors engines raise about their input; callers map ``code`` to their own error shape."""

    code: str = "engine_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message (PHI-free)."""
        return str(self)
