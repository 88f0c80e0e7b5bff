"""Domain exceptions, mapped to HTTP in one place: `{"error": code, "message": text}` for the API, a page for
the UI. Messages never carry report text, file names or request bodies."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("hilum")


class HilumError(Exception):
    """Base of every error a client may see. `status` is the HTTP status, `code` a stable identifier."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra


class ValidationError(HilumError):
    status, code = 400, "invalid_request"


class AuthenticationError(HilumError):
    status, code = 401, "unauthenticated"


class PermissionDenied(HilumError):
    status, code = 403, "forbidden"


class NotFound(HilumError):
    status, code = 404, "not_found"


class Conflict(HilumError):
    status, code = 409, "conflict"


class PayloadTooLarge(HilumError):
    status, code = 413, "payload_too_large"


class UnsupportedMedia(HilumError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(HilumError):
    status, code = 422, "unprocessable"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _respond(status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> Any:
    if _wants_json():
        body = {"error": code, "message": message, **(extra or {})}
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    """Register the handlers that turn every exception into the error shape."""

    @app.errorhandler(HilumError)
    def _domain(exc: HilumError) -> Any:
        return _respond(exc.status, exc.code, exc.message, exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name or "error"
        if exc.code == 413:
            limit = app.config["MAX_UPLOAD_BYTES"]
            message = f"request body exceeds the upload limit of {limit} bytes"
        return _respond(exc.code or 500, code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        from server import db

        try:
            db.session().rollback()
        except Exception:  # noqa: BLE001 - the rollback must not hide the original failure
            pass
        # Type and location only: no arguments, bodies or report text.
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method, request.url_rule)
        return _respond(500, "internal_error", "the server hit an unexpected error; nothing was saved")
