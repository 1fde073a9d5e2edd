"""/api/openapi.json, built from the marshmallow schemas recorded on each view.

The document declares what the server checks, so a client (or a fuzzer) can trust it:
lengths, patterns and formats of the project's own field types (sync/fields.py), the
range of every integer (what the validator allows, else what a bigint column holds), the
type and range of path parameters, and the answer of every endpoint, the sync ones
included.
"""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify
from marshmallow import fields
from werkzeug.routing import IntegerConverter

from server.ranges import INT32_MAX, INT64_MAX, INT64_MIN
from sync.fields import Epic, OnlineUrl, Phone, Text, Uuid

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Spaces and dashes are ignored, and +91 or a leading 0 is stripped, before this applies.
PHONE_PATTERN = r"^(\+91|0)?[6-9][0-9]{9}$"
EPIC_PATTERN = "^[A-Za-z]{3}[0-9]{7}$"
URL_PATTERN = r"^(https?://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?)?$"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer, from any endpoint (4xx and 5xx).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_]*$",
                    "description": "Stable and machine-readable, like validation_error.",
                },
                "message": {"type": "string", "minLength": 1},
                "fields": {
                    "type": "object",
                    "description": "Messages per field (nested for nested fields), or "
                    "details such as `expected` for seq_gap.",
                },
            },
            "required": ["code", "message", "fields"],
            "additionalProperties": False,
        }
    },
    "required": ["error"],
    "additionalProperties": False,
}


class OneOf(fields.Field):
    """A value that is exactly one of `schemas`: declared in the document, dumped as it is,
    never loaded."""

    def __init__(self, schemas, **kw):
        super().__init__(**kw)
        self.schemas = schemas


def documented(request):
    """Describe a view's body with `request` rather than with the schema that parses it (the
    push body, which sync/protocol.py parses mutation by mutation)."""

    def decorator(view):
        view.api_request_document = request
        return view

    return decorator


def edge_constraints(self, field, ret, **_kw) -> dict:
    """An apispec attribute function: what our own field types and integers accept."""
    out = {}
    if isinstance(field, Text):
        out["maxLength"] = field.max_length
        if field.min_length:
            out["minLength"] = field.min_length
            # Trimmed before the length is checked: spaces alone are empty.
            out["pattern"] = r"\S"
    elif isinstance(field, Phone):
        out["pattern"] = PHONE_PATTERN
    elif isinstance(field, Epic):
        out["pattern"] = EPIC_PATTERN
    elif isinstance(field, Uuid):
        out.update(format="uuid", pattern=UUID_PATTERN)
    elif isinstance(field, OnlineUrl):
        out.update(maxLength=500, pattern=URL_PATTERN)
    elif isinstance(field, OneOf):
        out["oneOf"] = [self.resolve_nested_schema(schema) for schema in field.schemas]
    types = ret.get("type")
    if types == "integer" or (isinstance(types, list) and "integer" in types):
        # Without a narrower validator an integer is what a bigint column holds.
        out.setdefault("minimum", ret.get("minimum", INT64_MIN))
        out.setdefault("maximum", ret.get("maximum", INT64_MAX))
    return out


def build_spec(app):
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Booth Connect API",
        version="1",
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": "Offline-first sync and read API for booth rosters and grievances."},
    )
    plugin.converter.add_attribute_function(edge_constraints)
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
        params = [_path_parameter(rule, name) for name in sorted(rule.arguments)]
        spec.path(path=path, operations=operations, parameters=params)
    return spec.to_dict()


def _path_parameter(rule, name) -> dict:
    """Integer ids of people and units (int32 columns); every other id is a UUID string."""
    if isinstance(rule._converters[name], IntegerConverter):
        schema = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
    else:
        schema = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation(view, rule):
    # The docstring's first paragraph is the summary, the rest the description.
    summary, _, rest = (view.__doc__ or "").strip().partition("\n\n")
    op = {
        "summary": " ".join(summary.split()) or rule.endpoint,
        "operationId": rule.endpoint,
        "tags": [rule.endpoint.split(".")[0]],
        "responses": {
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
    }
    if rest.strip():
        op["description"] = " ".join(rest.split())
    if getattr(view, "api_auth", False):
        op["security"] = [{"bearer": []}]
        roles = getattr(view, "api_roles", ("any",))
        op["description"] = (op.get("description", "") + " Roles: " + ", ".join(roles)).strip()
    for schema, location in getattr(view, "api_arguments", []):
        if location == "json":
            schema = getattr(view, "api_request_document", schema)
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
