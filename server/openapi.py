"""Build the OpenAPI document from the app's URL map: every /api route, its methods, path parameters, summary
(the view's docstring), request body schema (`@body`) and authorization rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from server import __version__
from server.auth import PERMISSIONS

ERROR = {"$ref": "#/components/schemas/Error"}
_CONVERTERS = {"int": {"type": "integer"}, "string": {"type": "string"}, "path": {"type": "string"}}


def body(schema: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach a JSON request-body schema to a view for the OpenAPI document."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view.hilum_body = schema  # type: ignore[attr-defined]
        return view

    return decorator


def _describe_rule(view: Any) -> str:
    rule = view.hilum_rule
    if rule.kind == "permission":
        roles = ", ".join(sorted(r.value for r in PERMISSIONS[rule.permission]))
        return f"Requires `{rule.permission}` (project roles: {roles}; site admins always)."
    return {
        "public": "No authentication.",
        "authenticated": "Any authenticated user; results are scoped.",
        "site_admin": "Site administrators only.",
    }[rule.kind]


def build_spec(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", rule.rule)
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _CONVERTERS.get(conv or "string", {"type": "string"}),
            }
            for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)
        ]
        doc = (view.__doc__ or rule.endpoint).strip()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}_{method.lower()}".replace(".", "_"),
                "summary": doc.splitlines()[0],
                "description": doc + "\n\n" + _describe_rule(view),
                "tags": [rule.endpoint.split(".")[0]],
                "parameters": params,
                "responses": {
                    "200": {"description": "OK"},
                    "4XX": {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
                },
            }
            if view.hilum_rule.kind != "public":
                op["security"] = [{"bearer": []}, {"session": []}]
            schema = getattr(view, "hilum_body", None)
            if schema and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hilum API", "version": __version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
    }
