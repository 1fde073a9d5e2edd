"""One error type with a stable code, and the one JSON error shape for every failure."""

import contextlib
import logging
import re
import sqlite3

import psycopg
from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# A deadlock or a serialization failure: the transaction was rolled back and may be run again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
# SQLite's own ways of saying it cannot be used now (its other OperationalErrors are bugs).
SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open",
    "disk i/o",
)
DATABASE_RETRY_AFTER = 5
RETRY_AFTER = 1

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


def sqlstate(exc) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None)


def is_retryable(exc) -> bool:
    """A deadlock or serialization failure (psycopg's own, or SQLAlchemy's wrapping it)."""
    return isinstance(exc, (sa_exc.OperationalError, psycopg.OperationalError)) and (
        sqlstate(exc) in RETRYABLE_SQLSTATES
    )


def is_database_unavailable(exc) -> bool:
    """The database cannot be used now (connection lost or refused, server shutting down,
    a statement cancelled, no pooled connection free): answered 503, not 500."""
    if isinstance(exc, sa_exc.TimeoutError):  # the connection pool is exhausted
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)):
        return True
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig).lower().startswith(SQLITE_UNAVAILABLE)
    return False


def describe_database_error(exc) -> str:
    """What a log line may say of a database error: its class, SQLSTATE, constraint and
    first line, never the statement, its parameters or a quoted value, which may hold
    personal data (PostgreSQL's DETAIL says `Key (epic)=(ABC1234567) already exists`)."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    kind = f"{type(orig).__name__} (sqlstate {sqlstate(exc) or '-'})"
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        return f"{kind} on {constraint}"
    message = getattr(diag, "message_primary", None) or str(orig)
    line = message.strip().splitlines()[0] if message.strip() else ""
    # `invalid input syntax for type integer: "9876543210"` quotes the value itself.
    line = re.sub(r'"[^"]*"|\'[^\']*\'', "…", line.split(" DETAIL")[0])
    return f"{kind}: {line[:200]}"


def database_unavailable(exc):
    """Answer 503 with Retry-After: `retry` when the transaction lost a deadlock or a
    serialization race (the connection is sound), else `database_unavailable`, after
    discarding this request's connections (a broken one must not go back to the pool)."""
    from server.extensions import db

    retry = is_retryable(exc)
    with contextlib.suppress(Exception):  # a lost connection cannot even roll back
        if retry:
            db.session.rollback()
        else:
            db.session.invalidate()
    log.warning(
        "Database %s on %s %s: %s",
        "collision" if retry else "unavailable",
        request.method,
        request.path,
        describe_database_error(exc),
    )
    err = (
        retry_later()
        if retry
        else ApiError(
            "database_unavailable",
            "The database is not reachable just now; try again shortly.",
            503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    )
    return error_response(err)


def retry_later():
    """Nothing of the request was kept; the same request may be sent again shortly."""
    return ApiError(
        "retry",
        "Another change collided with this one; send it again.",
        503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


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

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    @app.errorhandler(psycopg.Error)
    def handle_database_error(err):
        if is_database_unavailable(err) or is_retryable(err):
            return database_unavailable(err)
        return handle_unexpected(err)

    init_data_errors(app)

    @app.teardown_appcontext
    def remove_session_quietly(_exc):
        """End the request's session before Flask-SQLAlchemy's own teardown does (teardowns
        run last-registered first). Its ROLLBACK on a connection the database has just
        dropped (a restart) would raise after the answer was made, and gunicorn would send
        a 500 in place of it; the lost connection is discarded instead."""
        from server.extensions import db

        try:
            db.session.remove()
        except (sa_exc.DBAPIError, psycopg.Error) as err:
            if not is_database_unavailable(err):
                raise
            with contextlib.suppress(Exception):
                db.session.invalidate()
            db.session.registry.clear()
            log.warning("Database lost while ending a request: %s", describe_database_error(err))

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
        log.warning(
            "The database refused a value on %s %s: %s",
            request.method,
            request.path,
            describe_database_error(err),
        )
        return error_response(
            ApiError("invalid_value", "A value is not one the server can store.", 422)
        )
