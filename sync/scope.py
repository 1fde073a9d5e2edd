"""Who may see and change what: the one table of unit types, the one set of role lists,
and the scope tests in their Python form (rule 10 of docs/protocol.md). server/scope.py
builds the SQL form from the same table; tests/server/test_authorization_matrix.py holds
the two together."""

from typing import NamedTuple

from sync.fields import ROLES, in_int_range
from sync.store import Store
from sync.values import Place, Principal, Record, Rejection

STATE, DISTRICT, BLOCK, PANCHAYAT, BOOTH = "state", "district", "block", "panchayat", "booth"
LOK_SABHA, ASSEMBLY = "lok_sabha", "assembly"


class UnitType(NamedTuple):
    """How a place names its ancestor of one type of scope unit."""

    # The attributes to follow from a unit below (a booth, mostly) to the ancestor: one
    # that names it, or one naming an assembly seat and then the seat's `parent_id`.
    # Empty for the state, which holds every unit.
    path: tuple[str, ...]
    # The attribute of a booth record (member, grievance, change-index row) naming it;
    # None where a record does not carry it.
    record_key: str | None


UNIT_TYPES = {
    STATE: UnitType((), None),
    DISTRICT: UnitType(("district_id",), "district_id"),
    BLOCK: UnitType(("block_id",), "block_id"),
    # Only a booth has a panchayat for parent.
    PANCHAYAT: UnitType(("parent_id",), None),
    BOOTH: UnitType(("id",), "booth_id"),
    ASSEMBLY: UnitType(("assembly_id",), None),
    LOK_SABHA: UnitType(("assembly_id", "parent_id"), None),
}

VOLUNTEER, BLOCK_PRESIDENT, DISTRICT_PRESIDENT, CONNECT_CENTRE, ADMIN = ROLES
# The type of each role's scope unit.
ROLE_UNIT_TYPE = {
    VOLUNTEER: BOOTH,
    BLOCK_PRESIDENT: BLOCK,
    DISTRICT_PRESIDENT: DISTRICT,
    CONNECT_CENTRE: STATE,
    ADMIN: STATE,
}
# Who approves or refuses roster entries inside their scope.
REVIEWERS = (BLOCK_PRESIDENT, DISTRICT_PRESIDENT, CONNECT_CENTRE, ADMIN)
# Who handles grievances and leads meetings inside their scope: the same people.
LEADERS = REVIEWERS
# Who sees mobile numbers and EPICs in full, for booths in their scope.
FULL_PERSONAL_DATA = (VOLUNTEER, BLOCK_PRESIDENT)
# A complaint about a party office-bearer is never routed to the block or district
# leadership, who may be the people complained about: only the Connect Centre handles it.
SENSITIVE_CATEGORIES = {"party_conduct": (CONNECT_CENTRE, ADMIN)}
# The lists the app gets in /api/me instead of keeping copies.
ROLE_LISTS = {
    "reviewers": REVIEWERS,
    "leaders": LEADERS,
    "full_personal_data": FULL_PERSONAL_DATA,
}


def holds_everything(unit_type: str) -> bool:
    """Is a unit of this type the whole state (every unit and record inside it)?"""
    return unit_type in UNIT_TYPES and not UNIT_TYPES[unit_type].path


def seat_type(attribute: str) -> str:
    """The unit type an attribute names directly (`assembly_id`: an assembly seat)."""
    return next(t for t, entry in UNIT_TYPES.items() if entry.path == (attribute,))


def place_within(scope_type, scope_id, place, *, include_self=True, lookup=None) -> bool:
    """Is the unit `place` (a Place, a Unit row) inside the scope unit, or the unit itself
    unless `include_self` is false? `lookup(id)` gives a unit for the second step of a
    Lok Sabha seat's path; without it a Lok Sabha seat holds no unit but itself."""
    entry = UNIT_TYPES.get(scope_type)
    if entry is not None and not entry.path:
        return True
    if include_self and place.id == scope_id:
        return True
    if entry is None:
        return False
    value = getattr(place, entry.path[0], None)
    for attribute in entry.path[1:]:
        step = lookup(value) if lookup is not None and value is not None else None
        value = getattr(step, attribute, None)
    return value is not None and value == scope_id


def record_within(scope_type, scope_id, record) -> bool:
    """Is a booth record (anything with `booth_id`, `block_id`, `district_id`: a member,
    a grievance, a change-index row) inside the scope unit?"""
    entry = UNIT_TYPES.get(scope_type)
    if entry is None:
        return False
    if not entry.path:
        return True
    return entry.record_key is not None and getattr(record, entry.record_key) == scope_id


def hidden_categories(role) -> list[str]:
    """The grievance categories a role does not see in its scope (unless it reported
    the grievance): leaders who may be the people complained about."""
    return [
        category
        for category, roles in SENSITIVE_CATEGORIES.items()
        if role in LEADERS and role not in roles
    ]


def within(actor: Principal, place: Place) -> bool:
    """Is `place` inside the actor's scope unit (rule 10)?"""
    return place_within(actor.unit_type, actor.unit_id, place)


def can_see(store: Store, actor: Principal, record: Record) -> bool:
    """May the actor read this record (rule 10)? Answers never carry records they may not.

    Notes and conflict records (about a member, a grievance or a meeting) are exactly as
    visible as the record they belong to, in its current state (the change index of
    server/syncing/visibility.py says the same)."""
    values = record.values
    if record.entity in ("grievance_note", "conflict"):
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
    if record.entity == "rsvp":
        place = store.place(store.load("meeting", values["meeting_id"]).values["unit_id"])
        return values["user_id"] == actor.user_id or (
            actor.role in LEADERS and within(actor, place)
        )
    # A meeting: its audience, and the leaders whose scope holds its unit (the change
    # index of server/syncing/pull.py says the same).
    place = store.place(values["unit_id"])
    leads_there = actor.role in LEADERS and place is not None and within(actor, place)
    return leads_there or store.meeting_reaches(record, actor)


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
    return (
        record.values.get("category") not in hidden_categories(actor.role)
        or record.created_by == actor.user_id
    )
