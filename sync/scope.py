"""Who may see and change what: the role lists and the scope tests (rule 10)."""

from sync.fields import in_int_range
from sync.store import Store
from sync.values import Place, Principal, Record, Rejection

REVIEWERS = ("block_president", "district_president", "connect_centre", "admin")
LEADERS = REVIEWERS
# A complaint about a party office-bearer is never routed to the block or district
# leadership, who may be the people complained about: only the Connect Centre handles it.
SENSITIVE_CATEGORIES = {"party_conduct": ("connect_centre", "admin")}


def within(actor: Principal, place: Place) -> bool:
    """Is `place` inside the actor's scope unit (rule 10)?"""
    if actor.unit_type == "state":
        return True
    if place.id == actor.unit_id:
        return True
    if actor.unit_type == "district":
        return place.district_id == actor.unit_id
    if actor.unit_type == "block":
        return place.block_id == actor.unit_id
    return False


def can_see(store: Store, actor: Principal, record: Record) -> bool:
    """May the actor read this record (rule 10)? Answers never carry records they may not.

    Notes and conflict records are exactly as visible as the record they belong to, in
    its current state (the change index of server/syncing/visibility.py says the same)."""
    values = record.values
    if record.entity == "grievance_note" or (
        record.entity == "conflict" and values["entity"] in ("member", "grievance")
    ):
        parent = (
            store.peek("grievance", values["grievance_id"])
            if record.entity == "grievance_note"
            else store.peek(values["entity"], values["record_id"])
        )
        return parent is not None and can_see(store, actor, parent)
    if record.entity in ("member", "grievance"):
        place = store.place(values["booth_id"])
        if record.entity == "grievance" and record.created_by == actor.user_id:
            return True  # whoever reported a grievance follows it
        if place is None or not within(actor, place):
            return False
        return record.entity == "member" or sees_grievance(actor, record)
    if record.entity == "conflict":  # about a meeting: its leaders and the author
        place = store.place(values["booth_id"] or values["unit_id"])
        return values["author_id"] == actor.user_id or (place is not None and within(actor, place))
    if record.entity == "rsvp":
        place = store.place(store.load("meeting", values["meeting_id"]).values["unit_id"])
        return values["user_id"] == actor.user_id or (
            actor.role in LEADERS and within(actor, place)
        )
    place = store.place(values["unit_id"])
    return store.meeting_reaches(record, actor) or (place is not None and within(actor, place))


def booth_for(store: Store, actor: Principal, booth_id) -> Place:
    place = store.place(booth_id) if in_int_range(booth_id) else None
    if place is None or place.type != "booth":
        raise Rejection("unknown_booth", "No such booth.", {"booth_id": ["No such booth."]})
    if not within(actor, place):
        raise Rejection(
            "out_of_scope",
            "This booth is outside your area.",
            {"booth_id": ["This booth is outside your area."]},
        )
    return place


def sees_grievance(actor: Principal, record: Record) -> bool:
    """A complaint about an office-bearer is not for block or district leaders (who may be
    the subject), unless they reported it themselves."""
    allowed = SENSITIVE_CATEGORIES.get(record.values.get("category"))
    return (
        not allowed
        or actor.role not in LEADERS
        or actor.role in allowed
        or record.created_by == actor.user_id
    )
