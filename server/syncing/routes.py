"""The sync endpoints: a device pushes its outbox and pulls what changed."""

from flask import Blueprint, request

from server.api import arguments, response
from server.auth import current_actor, login_required
from server.monitoring.metrics import count_mutations
from server.openapi import documented
from server.syncing import pull as pulling
from server.syncing import push as pushing
from server.syncing import schemas
from sync.protocol import PullArgs, PushRequest

bp = Blueprint("sync", __name__, url_prefix="/api/sync")


@bp.post("/push")
@documented(request=schemas.PushRequestDocument())
@login_required()
@arguments(PushRequest())
@response(schemas.PushResponse(), compress=True)
def push(body):
    """Apply a device's outbox: each mutation is answered applied, merged, conflict,
    rejected or duplicate."""
    return count_mutations(
        pushing.push_changes(current_actor(), body, address=request.remote_addr)
    )


@bp.get("/pull")
@login_required()
@arguments(PullArgs(), location="query")
@response(schemas.PullResponse(), compress=True)
def pull(args):
    """Fetch the next page of changes in the caller's scope."""
    return pulling.pull_changes(current_actor(), args["cursor"], args["limit"])
