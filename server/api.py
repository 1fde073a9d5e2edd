"""Marshmallow at the edge: decorators that parse a request and dump a response.

They also record the schemas on the view, so /api/openapi.json describes the API from
the same schemas that validate it.
"""

import functools
import gzip
import io
import json

from flask import current_app, jsonify, request
from marshmallow import Schema, ValidationError

from server.errors import ApiError, validation_error


def request_json():
    """The request body as JSON, gunzipped when sent with Content-Encoding: gzip."""
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
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("malformed_json", "The body is not valid JSON.", 400) from exc


def arguments(schema: Schema, location="json"):
    """Parse the JSON body (or the query string) with `schema` and pass it as a keyword."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if location == "json":
                data = request_json()
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


def response(schema: Schema | None, status=200):
    """Dump the view's return value with `schema` and answer with `status`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            result = view(*args, **kwargs)
            if schema is None:
                return "", status
            return jsonify(schema.dump(result)), status

        wrapper.api_response = (schema, status)
        if hasattr(view, "api_arguments"):
            wrapper.api_arguments = view.api_arguments
        return wrapper

    return decorator
