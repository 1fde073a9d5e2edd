"""Marshmallow at the edge: decorators that parse a request and dump a response.

They also record the schemas on the view, so /api/openapi.json describes the API from
the same schemas that validate it.

Before any schema sees a request, the edge refuses what no schema should have to think
about: JSON nested deeper than MAX_JSON_DEPTH (measured without recursion, before parsing),
NaN and Infinity, and text holding NUL or a lone surrogate anywhere in a body, a query
string or a path (the database cannot store them). Path integers are bounded to the
database's INTEGER range, so an id too large is simply a 404.
"""

import functools
import gzip
import io
import json
import re

from flask import current_app, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.routing import IntegerConverter

from server.errors import ApiError, validation_error
from sync.fields import INT_RANGES, UNSAFE_TEXT, UNSAFE_TEXT_MESSAGE
from sync.protocol import printable

MAX_JSON_DEPTH = 32
# Answers smaller than this are not worth compressing.
GZIP_MIN_BYTES = 1024
# A JSON string, skipped whole, or a bracket. Possessive quantifiers: one linear pass,
# no backtracking, whatever the body holds.
JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


class Int32Converter(IntegerConverter):
    """`<int:...>` in every route, bounded to the INTEGER columns ids live in."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, INT_RANGES[32][1] if max is None else max, signed)


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does this JSON text nest arrays and objects more than `limit` deep? (No recursion.)"""
    depth = 0
    for match in JSON_TOKEN.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > limit:
                return True
        elif token == "]" or token == "}":
            depth -= 1
    return False


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def unsafe_text_fields(data, skip=()) -> list[str]:
    """Top-level names under which some text (a key or a value) holds NUL or a lone
    surrogate, found by an iterative walk; names in `skip` are checked later, item by item."""
    if isinstance(data, dict):
        stack = [(value, key) for key, value in data.items() if key not in skip]
        bad = {printable(key) for key in data if UNSAFE_TEXT.search(key)}
    else:
        stack, bad = [(data, "_body")], set()
    while stack:
        value, name = stack.pop()
        if isinstance(value, str):
            if UNSAFE_TEXT.search(value):
                bad.add(printable(name))
        elif isinstance(value, dict):
            for key, item in value.items():
                if UNSAFE_TEXT.search(key):
                    bad.add(printable(name))
                stack.append((item, name))
        elif isinstance(value, list):
            stack.extend((item, name) for item in value)
    return sorted(bad)


def refuse_unsafe_text(data, skip=()):
    bad = unsafe_text_fields(data, skip)
    if bad:
        raise validation_error({name: [UNSAFE_TEXT_MESSAGE] for name in bad})


def request_json(text_checked_per_item=()):
    """The request body as JSON, gunzipped when sent with Content-Encoding: gzip.

    Refused before any schema: invalid UTF-8 or JSON, NaN/Infinity, nesting deeper than
    MAX_JSON_DEPTH, and text with NUL or a lone surrogate (except under the top-level
    names in `text_checked_per_item`, which their schema checks one item at a time).
    """
    raw = request.get_data(cache=True)
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        limit = current_app.config["MAX_UNCOMPRESSED_BODY"]
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise ApiError("malformed_body", "The gzip body could not be read.", 400) from exc
        if len(raw) > limit:
            raise ApiError("too_large", "The request is too large.", 413)
    if not raw:
        raise validation_error({"_body": ["A JSON body is required."]})
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is allowed (RFC 8259)
        if too_deep(text):
            raise ApiError(
                "malformed_json", f"The body is nested more than {MAX_JSON_DEPTH} levels deep.", 400
            )
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError("malformed_json", "The body is not valid JSON.", 400) from exc
    refuse_unsafe_text(data, text_checked_per_item)
    return data


def check_request_text():
    """Query strings and path values with NUL or a lone surrogate: refused, 422."""
    bad = set()
    for key, values in request.args.lists():
        if UNSAFE_TEXT.search(key) or any(UNSAFE_TEXT.search(v) for v in values):
            bad.add(printable(key))
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and UNSAFE_TEXT.search(value):
            bad.add(key)
    if bad:
        raise validation_error({name: [UNSAFE_TEXT_MESSAGE] for name in sorted(bad)})


def init_app(app):
    """Install the edge checks; call before any blueprint is registered (the converter)."""
    app.url_map.converters["int"] = Int32Converter

    @app.before_request
    def _check_request_text():
        if request.path.startswith("/api"):
            check_request_text()


def arguments(schema: Schema, location="json"):
    """Parse the JSON body (or the query string) with `schema` and pass it as a keyword."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if location == "json":
                data = request_json(getattr(schema, "text_checked_per_item", ()))
                if not isinstance(data, dict):
                    raise validation_error({"_body": ["Send a JSON object."]})
            else:
                data = request.args.to_dict()
            try:
                loaded = schema.load(data)
            except ValidationError as err:
                raise validation_error(err.messages) from err
            kwargs["args" if location == "query" else "body"] = loaded
            return view(*args, **kwargs)

        wrapper.api_arguments = [*getattr(view, "api_arguments", []), (schema, location)]
        if hasattr(view, "api_response"):
            wrapper.api_response = view.api_response
        return wrapper

    return decorator


def response(schema: Schema | None, status=200, compress=False):
    """Dump the view's return value with `schema` and answer with `status`; with `compress`,
    gzipped when the client accepts it and it is worth it (the sync endpoints)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            result = view(*args, **kwargs)
            if schema is None:
                return "", status
            answer = jsonify(schema.dump(result))
            answer.status_code = status
            return gzipped(answer) if compress else answer

        wrapper.api_response = (schema, status)
        if hasattr(view, "api_arguments"):
            wrapper.api_arguments = view.api_arguments
        return wrapper

    return decorator


def gzipped(answer):
    accepts = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    if accepts and answer.content_length and answer.content_length >= GZIP_MIN_BYTES:
        answer.set_data(gzip.compress(answer.get_data(), compresslevel=6))
        answer.headers["Content-Encoding"] = "gzip"
        answer.headers["Vary"] = "Accept-Encoding"
    return answer
