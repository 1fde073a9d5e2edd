"""One error type with a stable code, and the one JSON error shape for every failure."""

import logging

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Codes for the HTTP errors Flask and Werkzeug raise themselves.
HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Log in first."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Nothing is here."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("too_large", "The request is too large."),
    415: ("unsupported_media_type", "Send JSON."),
    422: ("validation_error", "Some fields are not valid."),
    429: ("too_many_requests", "Too many attempts; wait and try again."),
    500: ("internal_error", "Something went wrong on the server."),
}


class ApiError(Exception):
    """An error the API answers with: HTTP status, stable code, text and field messages."""

    def __init__(self, code, message, status=400, fields=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}

    def to_dict(self):
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


def validation_error(fields, message="Some fields are not valid."):
    return ApiError("validation_error", message, 422, fields)


def not_found(what="record"):
    return ApiError("not_found", f"No such {what}.", 404)


def forbidden(message="You are not allowed to do this."):
    return ApiError("forbidden", message, 403)


def error_response(err: ApiError):
    response = jsonify(err.to_dict())
    response.status_code = err.status
    for name, value in err.headers.items():
        response.headers[name] = value
    return response


def init_app(app: Flask):
    @app.errorhandler(ApiError)
    def handle_api_error(err):
        return error_response(err)

    @app.errorhandler(ValidationError)
    def handle_validation_error(err):
        messages = err.messages if isinstance(err.messages, dict) else {"_body": err.messages}
        return error_response(validation_error(messages))

    @app.errorhandler(HTTPException)
    def handle_http_error(err):
        if not request.path.startswith("/api") and err.code == 404:
            return err
        code, message = HTTP_CODES.get(err.code, ("http_error", err.description))
        if err.code == 400 and "JSON" in (err.description or ""):
            code, message = "malformed_json", "The body is not valid JSON."
        api_err = ApiError(code, message, err.code)
        if err.code == 405 and err.valid_methods:
            api_err.headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return error_response(api_err)

    init_data_errors(app)

    @app.errorhandler(Exception)
    def handle_unexpected(err):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_CODES[500]
        return error_response(ApiError(code, message, 500))


# ---------------------------------------------------------------- the database's refusals


def init_data_errors(app: Flask):
    """A last net under the validation, never instead of it: a value the database refuses
    (a number out of a column's range, NUL in text, text it cannot encode) is the caller's
    bad input, so it is a 422 `invalid_value`, not a 500. Each one is logged as a warning:
    it means some validation let the value through and should be tightened."""

    @app.errorhandler(DataError)
    @app.errorhandler(UnicodeEncodeError)
    def handle_data_error(err):
        from server.extensions import db

        db.session.rollback()
        reason = getattr(err, "orig", None) or err
        log.warning(
            "The database refused a value on %s %s: %s: %s",
            request.method,
            request.path,
            type(reason).__name__,
            str(reason).splitlines()[0] if str(reason) else "",
        )
        return error_response(
            ApiError("invalid_value", "A value is not one the server can store.", 422)
        )
