"""Reads of grievances for people who work online: scoped, filtered, searched, paged."""

from sqlalchemy import and_, not_, or_, select

from server.extensions import db
from server.grievances.models import Grievance, GrievanceNote
from server.listing import contains_text, paginate
from server.reading import open_record
from server.records import now_ms
from server.roster.services import scope_conditions
from server.scope import grievance_filter
from server.serialize import to_record

# Statuses in which a grievance no longer waits on anyone, so it cannot be overdue.
SETTLED_STATUSES = ("resolved", "closed", "withdrawn")


def overdue_condition(now):
    return and_(Grievance.due_at < now, Grievance.status.not_in(SETTLED_STATUSES))


def list_grievances(
    viewer,
    page=1,
    per_page=50,
    booth_id=None,
    block_id=None,
    status=None,
    category=None,
    overdue=None,
    q=None,
) -> dict:
    """A page of the grievances the viewer may read, newest first, masked for the viewer."""
    conditions = scope_conditions(viewer, Grievance, booth_id, block_id)
    conditions.append(grievance_filter(viewer, Grievance))
    if status is not None:
        conditions.append(Grievance.status == status)
    if category is not None:
        conditions.append(Grievance.category == category)
    if overdue is not None:
        late = overdue_condition(now_ms())
        conditions.append(late if overdue else not_(late))
    if q:
        conditions.append(
            or_(
                contains_text(Grievance.ref_no, q),
                contains_text(Grievance.description, q),
                contains_text(Grievance.complainant_name, q),
            )
        )
    # Newest by when it was typed on the phone, as the app shows it.
    order = (Grievance.reported_at.desc(), Grievance.id.desc())
    return paginate(
        Grievance,
        conditions,
        order,
        page,
        per_page,
        item=lambda grievance: to_record("grievance", grievance, viewer),
    )


def open_grievance(actor, grievance_id: str) -> dict:
    """One grievance with its notes (oldest first); the read is logged, as it names a person."""

    def with_notes(grievance, record):
        notes = db.session.scalars(
            select(GrievanceNote)
            .where(GrievanceNote.grievance_id == grievance.id, GrievanceNote.deleted.is_(False))
            .order_by(GrievanceNote.created_at, GrievanceNote.id)
        ).all()
        record["notes"] = [to_record("grievance_note", n, actor.user) for n in notes]

    scope = grievance_filter(actor.user, Grievance)
    return open_record(actor, "grievance", Grievance, grievance_id, scope, with_notes)
