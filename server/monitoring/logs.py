"""JSON log lines that carry the request id nginx passes in (X-Request-ID, made here when
absent or malformed, and answered in the same header), and one line per request.

A request line names the route's pattern (`/api/members/<int:member_id>`), never the path
or query string a person typed, and a last net masks anything shaped like a mobile number
or an EPIC in every line, whatever logged it."""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, has_request_context, request

log = logging.getLogger("server.requests")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
# India's mobile numbers (10 digits from 6-9, optionally +91/91/0 before) and EPICs.
MOBILE = re.compile(r"(?<![\w.])(?:\+?91[ -]?|0)?[6-9]\d{9}(?![\w.])")
EPIC = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}\d{7}(?![A-Za-z0-9])")
MASK = "[masked]"


def redact(text: str) -> str:
    """The text with mobile numbers and EPICs masked (a net under the careful log calls)."""
    return EPIC.sub(MASK, MOBILE.sub(MASK, text))


def request_id() -> str | None:
    """This request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and `fields`."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure(log_format: str, stream=None):
    """Send every log line of this process to stderr, as JSON when `log_format` is json."""
    root = logging.getLogger()
    if getattr(root, "_booth_configured", None) == log_format:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root._booth_configured = log_format


def route_of() -> str:
    """The matched route's pattern, never the path itself (which may hold anything)."""
    return request.url_rule.rule if request.url_rule is not None else "(unmatched)"


def init_app(app):
    if app.config["LOG_FORMAT"] == "json":
        configure("json")

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None:
            log.info(
                "%s %s %s",
                request.method,
                route_of(),
                response.status_code,
                extra={
                    "fields": {
                        "method": request.method,
                        "route": route_of(),
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
        return response
