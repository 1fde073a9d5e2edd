"""/api/openapi.json, built from the marshmallow schemas recorded on each view."""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object"},
            },
            "required": ["code", "message", "fields"],
        }
    },
}


def build_spec(app):
    spec = APISpec(
        title="Booth Connect API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Offline-first sync and read API for booth rosters and grievances."},
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api") or rule.endpoint == "openapi":
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        operations = {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _operation(view, rule)
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in rule.arguments
        ]
        spec.path(path=path, operations=operations, parameters=params)
    return spec.to_dict()


def _operation(view, rule):
    doc = (view.__doc__ or "").strip().splitlines()
    op = {
        "summary": doc[0] if doc else rule.endpoint,
        "operationId": rule.endpoint,
        "tags": [rule.endpoint.split(".")[0]],
        "responses": {
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
    }
    if getattr(view, "api_auth", False):
        op["security"] = [{"bearer": []}]
        roles = getattr(view, "api_roles", ("any",))
        op["description"] = "Roles: " + ", ".join(roles)
    for schema, location in getattr(view, "api_arguments", []):
        if location == "json":
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        else:
            op["parameters"] = [{"in": "query", "schema": schema}]
    schema, status = getattr(view, "api_response", (None, 200))
    content = {"application/json": {"schema": schema}} if schema is not None else None
    op["responses"][str(status)] = {
        "description": "Success",
        **({"content": content} if content else {}),
    }
    return op


def init_app(app):
    @app.get("/api/openapi.json", endpoint="openapi")
    def openapi():
        """Describe this API as OpenAPI 3."""
        return jsonify(build_spec(current_app))
