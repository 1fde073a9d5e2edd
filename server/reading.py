"""Opening one record online: read inside the viewer's scope, masked for the viewer, and
the read written to the access log (DPDP), as it names a person."""

from sqlalchemy import select

from server.audit.services import log_change
from server.errors import not_found
from server.extensions import db
from server.serialize import to_record


def open_record(actor, entity, model, record_id, scope, with_parts=None) -> dict:
    """The record in full view for the actor, its read logged; `scope` is the SQL condition
    on `model` of what the actor may read, `with_parts(row, record)` adds to the answer.

    A record outside the viewer's scope is answered exactly like a missing one (404),
    so record ids cannot be probed.
    """
    row = db.session.scalar(
        select(model).where(model.id == record_id, model.deleted.is_(False), scope)
    )
    if row is None:
        raise not_found(entity)
    record = to_record(entity, row, actor.user)
    if with_parts is not None:
        with_parts(row, record)
    log_change(actor, "read", entity, row.id, row.version)
    db.session.commit()
    return record
