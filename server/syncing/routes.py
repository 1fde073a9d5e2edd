"""The sync endpoints: a device pushes its outbox and pulls what changed."""

import gzip

from flask import Blueprint, jsonify, request

from server.api import arguments
from server.auth import current_actor, login_required
from server.openapi import documented
from server.syncing import schemas, service
from sync.protocol import PullArgs, PushRequest

bp = Blueprint("sync", __name__, url_prefix="/api/sync")

# Answers smaller than this are not worth compressing.
GZIP_MIN_BYTES = 1024


@bp.post("/push")
@documented(request=schemas.PushRequestDocument(), response=schemas.PushResponse())
@login_required()
@arguments(PushRequest())
def push(body):
    """Apply a device's outbox: each mutation is answered applied, merged, conflict,
    rejected or duplicate."""
    return compressed(schemas.PushResponse().dump(service.push_changes(current_actor(), body)))


@bp.get("/pull")
@documented(response=schemas.PullResponse())
@login_required()
@arguments(PullArgs(), location="query")
def pull(args):
    """Fetch the next page of changes in the caller's scope."""
    answer = service.pull_changes(current_actor(), args["cursor"], args["limit"])
    return compressed(schemas.PullResponse().dump(answer))


def compressed(payload):
    """JSON, gzipped when the client accepts it and it is worth it."""
    response = jsonify(payload)
    accepts = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    if accepts and response.content_length and response.content_length >= GZIP_MIN_BYTES:
        response.set_data(gzip.compress(response.get_data(), compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    return response
