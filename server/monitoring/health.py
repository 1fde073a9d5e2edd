"""GET /api/health for the load balancer: 200 with the figures when this node can serve,
503 in the one error shape (each failing check under `fields`) when it cannot."""

import contextlib
import functools
import logging
import time

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, or_, select, text

from server.api import response
from server.errors import ApiError, describe_database_error
from server.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__, url_prefix="/api")

COUNT = validate.Range(min=0, max=2**63 - 1)


class OutboxHealthSchema(Schema):
    waiting = fields.Integer(required=True, validate=COUNT)
    lag_seconds = fields.Integer(required=True, validate=COUNT)


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))
    database = fields.String(required=True, validate=validate.OneOf(["ok"]))
    schema_revision = fields.String(required=True)
    push_outbox = fields.Nested(OutboxHealthSchema(), required=True)


@functools.cache
def migration_heads() -> tuple[str, ...]:
    """The latest revisions the code ships (read once per process)."""
    from server import MIGRATIONS

    return tuple(sorted(ScriptDirectory(MIGRATIONS).get_heads()))


def outbox_lag(now_ms: int) -> tuple[int, int]:
    """(alerts waiting, seconds the oldest due one has waited); a claimed alert whose lease
    ran out is due again, so a dead push worker shows here too."""
    from server.push.models import PENDING, SENDING, PushDelivery

    due = or_(
        and_(PushDelivery.status == PENDING, PushDelivery.next_attempt_at <= now_ms),
        and_(PushDelivery.status == SENDING, PushDelivery.lease_until < now_ms),
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(PushDelivery)
        .where(PushDelivery.status.in_((PENDING, SENDING)))
    )
    oldest = db.session.scalar(select(func.min(PushDelivery.next_attempt_at)).where(due))
    return waiting or 0, max(0, (now_ms - oldest) // 1000) if oldest is not None else 0


def check() -> tuple[dict, dict]:
    """(the report, the failed checks with their messages)."""
    failed = {}
    try:
        db.session.execute(text("SELECT 1"))
        revisions = tuple(
            sorted(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        )
        waiting, lag = outbox_lag(int(time.time() * 1000))
    except Exception as exc:  # every database failure is "not reachable" to a balancer
        with contextlib.suppress(Exception):  # a lost connection cannot even roll back
            db.session.rollback()
        log.warning("Health: database not usable: %s", describe_database_error(exc))
        return {}, {"database": ["The database is not reachable."]}
    if revisions != migration_heads():
        failed["schema_revision"] = [
            f"The database is at {', '.join(revisions) or 'no revision'}; "
            f"the code needs {', '.join(migration_heads())}."
        ]
    limit = current_app.config["HEALTH_OUTBOX_LAG_SECONDS"]
    if lag > limit:
        failed["push_outbox"] = [f"A due meeting alert has waited {lag} s (limit {limit} s)."]
    report = {
        "status": "ok",
        "database": "ok",
        "schema_revision": ",".join(revisions),
        "push_outbox": {"waiting": waiting, "lag_seconds": lag},
    }
    return report, failed


@bp.get("/health")
@response(HealthSchema())
def health():
    """Say whether this node can serve: the database answers, its schema is the latest
    migration, and meeting alerts are being delivered (503 `unhealthy` when not)."""
    report, failed = check()
    if failed:
        raise ApiError("unhealthy", "This node cannot serve now.", 503, fields=failed)
    return report
