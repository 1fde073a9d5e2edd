"""A grievance's rules (rule 8 of docs/protocol.md): its life cycle and who moves it, its
reference number and due date, edits by its author until it is acknowledged, and its
append-only notes (rule 9)."""

from sync.fields import validated
from sync.hlc import millis
from sync.merge import keep_clashes, merge, status_of, write
from sync.protocol import APPLIED
from sync.records import RecordRules
from sync.scope import LEADERS, SENSITIVE_CATEGORIES, booth_for, can_see, within
from sync.values import Outcome, Record, Rejection, not_found

DAY_MS = 86_400_000
GRIEVANCE_DUE_DAYS = 21
# Who may move a grievance from one state to the next (rule 8): "author" is the person who
# reported it or a volunteer of its booth; "handler" a block president or above in scope.
GRIEVANCE_TRANSITIONS = {
    ("new", "acknowledged"): "handler",
    ("new", "withdrawn"): "author",
    ("acknowledged", "in_progress"): "handler",
    ("acknowledged", "withdrawn"): "author",
    ("in_progress", "resolved"): "handler",
    ("in_progress", "withdrawn"): "author",
    ("resolved", "closed"): "either",
    ("resolved", "reopened"): "author",
    ("reopened", "in_progress"): "handler",
    ("reopened", "resolved"): "handler",
}


def apply_grievance(store, actor, m, now):
    record = store.load("grievance", m.id)
    if m.op == "delete":
        if record is None:
            raise not_found("grievance")
        grievance_place(store, actor, record)
        raise Rejection(
            "not_allowed",
            "A grievance is withdrawn, not deleted.",
            {"status": ["Withdraw the grievance instead."]},
        )
    if record is None:
        return create_grievance(store, actor, m, now)
    return update_grievance(store, actor, m, record, now)


def grievance_place(store, actor, record):
    # A complaint the actor may not read never reaches here: the engine's check_unseen and
    # apply_note's can_see answer it as missing, whatever hides it (sees_grievance).
    return booth_for(store, actor, record.values["booth_id"])


def create_grievance(store, actor, m, now):
    values = validated("grievance", m, creating=True)
    place = booth_for(store, actor, values["booth_id"])
    if values.pop("status", "new") != "new":
        raise Rejection(
            "transition_not_allowed",
            "A new grievance starts as new.",
            {"status": ["A new grievance starts as new."]},
        )
    # The time limit counts from when it was typed on the phone, never from the future,
    # nor from before the phone was registered (a wrong clock would make it overdue at birth).
    reported = min(max(values.pop("created_at", millis(m.hlc)), actor.registered_at or 0), now)
    values.update(
        reported_at=reported,
        due_at=reported + GRIEVANCE_DUE_DAYS * DAY_MS,
        status="new",
        ref_no=store.next_ref_no(place.district_id, now),
        status_history=[{"status": "new", "at": reported, "by": actor.user_id}],
    )
    record = Record("grievance", m.id, 1, {}, created=True)
    write(store, record, values, actor, m.hlc, place, "create")
    return Outcome(APPLIED, record)


def update_grievance(store, actor, m, record, now):
    incoming = validated("grievance", m)
    place = grievance_place(store, actor, record)
    current = record.values["status"]
    wanted = incoming.pop("status", current)
    incoming.pop("created_at", None)  # when it was typed never changes
    # Fields sent with the value they already have are not an edit (rule 8 is about edits).
    incoming = {k: v for k, v in incoming.items() if record.values.get(k) != v}
    changes = {}
    moved_to = None
    if incoming:
        if record.created_by != actor.user_id:
            raise Rejection("not_allowed", "Only the person who reported it edits a grievance.")
        if current != "new":
            message = f"The grievance is {current}: only notes can be added now."
            raise Rejection("grievance_locked", message, {"status": [message]})
        if "booth_id" in incoming:
            moved_to = booth_for(store, actor, incoming["booth_id"])
    result = merge(record, incoming, m.base_version, m.hlc)
    changes.update(result.changes)
    if wanted != current:
        role_needed = GRIEVANCE_TRANSITIONS.get((current, wanted))
        if role_needed is None or not may_move(actor, record, place, role_needed):
            message = f"The grievance is {current}; it cannot be moved to {wanted} by you."
            raise Rejection("transition_not_allowed", message, {"status": [message]})
        changes["status"] = wanted
        changes["status_history"] = [
            *record.values["status_history"],
            {"status": wanted, "at": min(millis(m.hlc), now), "by": actor.user_id},
        ]
    if "booth_id" in changes:
        # Moved by its reporter to another booth of their area: written (and its conflict
        # records filed) where it now is; the stores take a booth record's booth from it.
        place = moved_to
    conflicts = keep_clashes(store, record, place, result.clashes, actor, m.hlc)
    write(store, record, changes, actor, m.hlc, place)
    return Outcome(status_of(result, bool(conflicts)), record, conflicts)


def may_move(actor, record, place, role_needed):
    author = record.created_by == actor.user_id or (
        actor.role == "volunteer" and actor.unit_id == place.id
    )
    handler = actor.role in LEADERS and within(actor, place)
    allowed = SENSITIVE_CATEGORIES.get(record.values.get("category"))
    if allowed and actor.role not in allowed:
        handler = False
    return {"author": author, "handler": handler, "either": author or handler}[role_needed]


def apply_note(store, actor, m, now):
    record = store.load("grievance_note", m.id)
    if m.op == "delete" or record is not None:
        if (
            record is not None
            and m.op == "upsert"
            and all(record.values.get(k) == v for k, v in validated("grievance_note", m).items())
        ):
            return Outcome(APPLIED, record)  # the same note sent again
        raise Rejection("append_only", "Notes cannot be changed or removed.")
    values = validated("grievance_note", m, creating=True)
    grievance = store.load("grievance", values["grievance_id"])
    # One the writer may not read is answered as a missing one (its category unsaid).
    if grievance is None or grievance.deleted or not can_see(store, actor, grievance):
        raise Rejection(
            "grievance_missing",
            "The grievance of this note is not on the server.",
            {"grievance_id": ["No such grievance."]},
        )
    place = grievance_place(store, actor, grievance)
    values["booth_id"] = place.id
    record = Record("grievance_note", m.id, 1, {}, created=True)
    write(store, record, values, actor, m.hlc, place, "create")
    return Outcome(APPLIED, record)


RULES = (
    RecordRules(
        "grievance",
        order=1,
        apply=apply_grievance,
        booth_scoped=True,
        personal_fields=("complainant_phone",),
    ),
    RecordRules("grievance_note", order=2, apply=apply_note, booth_scoped=True),
)
