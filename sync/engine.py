"""The merge and conflict rules of docs/protocol.md, applied one mutation at a time.

The engine decides; a store (server/syncing/store.py) reads and writes. Every function
here takes plain values: a `Principal` for who acts, `Record`s for what is stored.
A mutation that breaks a rule raises `Rejection`; the caller rolls back what the mutation
wrote (a savepoint) and answers `rejected`, so one bad mutation never blocks the rest.
"""

from dataclasses import dataclass

from marshmallow import ValidationError

from sync.fields import check_fields, in_int_range
from sync.protocol import APPLIED, CONFLICT, MERGED
from sync.scope import (
    LEADERS,
    REVIEWERS,
    SENSITIVE_CATEGORIES,
    booth_for,
    can_see,
    sees_grievance,
    within,
)
from sync.store import Store
from sync.values import Event, Mutation, Outcome, Place, Principal, Record, Rejection

DAY_MS = 86_400_000
SQUAD_SIZE = 20
ACTIVE = ("pending", "approved")
# What identifies a person beyond their name: erased with it when consent is withdrawn.
PERSONAL_FIELDS = ("phone", "epic")
# Member fields whose change means a reviewer's decision no longer holds (rules 3 and 4).
MEMBER_DETAILS = ("booth_id", "name", "age", "gender", "phone", "epic", "skills", "consent")
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


def validated(entity: str, m: Mutation, creating: bool) -> dict:
    try:
        return check_fields(entity, m.fields, creating)
    except ValidationError as err:
        raise Rejection("validation_error", "Some fields are not valid.", err.messages) from err


# ---------------------------------------------------------------- merge (rules 1 and 2)


@dataclass
class Merge:
    changes: dict
    # (field, kept value, lost value, hlc of the lost value)
    clashes: list
    concurrent: bool


def merge(record: Record, incoming: dict, base: int | None, hlc: str) -> Merge:
    """Three-way merge of `incoming` against the fields changed since `base`.

    A field changed only on the device is taken; a field changed on both sides goes to
    the later HLC, and the other value is reported as a clash to keep.
    """
    base = base or 0
    concurrent = bool(record.changed_since(base))
    changes, clashes = {}, []
    for name, value in incoming.items():
        current = record.values.get(name)
        if value == current:
            continue
        version, their_hlc = record.meta.get(name, (0, ""))
        if version <= base or same_device(hlc, their_hlc):
            # Unseen by nobody but this phone: its own writes are ordered by their seq,
            # even when a clock far ahead clamped two of them to the same moment.
            changes[name] = value
        elif hlc > their_hlc:
            changes[name] = value
            clashes.append((name, value, current, their_hlc))
        else:
            clashes.append((name, current, value, hlc))
    return Merge(changes, clashes, concurrent)


def same_device(hlc: str, other: str) -> bool:
    return bool(other) and hlc[19:] == other[19:]


def keep_clashes(store, record, place, clashes, actor, hlc, kind="field"):
    """Store each losing side of a merge as a conflict record; answer the protocol's list."""
    by_loser: dict[str, tuple[dict, dict]] = {}
    for name, kept, lost, lost_hlc in clashes:
        lost_side, kept_side = by_loser.setdefault(lost_hlc, ({}, {}))
        lost_side[name] = lost
        kept_side[name] = kept
    for lost_hlc, (lost_side, kept_side) in by_loser.items():
        author = actor.user_id if lost_hlc == hlc else store.author_of(lost_hlc)
        store.add_conflict(record, place, kind, lost_side, kept_side, lost_hlc, author, actor, hlc)
    return [{"field": n, "kept": k, "lost": lo} for n, k, lo, _h in clashes]


def write(store, record, changes, actor, hlc, place, action="update"):
    """Apply `changes` to `record`, bump its version, and stamp each changed field."""
    if not changes and not record.created:
        return False
    record.version = record.version + (0 if record.created else 1)
    for name, value in changes.items():
        if name == "deleted":
            record.deleted = value
        else:
            record.values[name] = value
        record.meta[name] = [record.version, hlc]
    store.save(record, sorted(changes), actor, hlc, place, action)
    return True


def status_of(merge_result: Merge, clashes_stored: bool) -> str:
    if clashes_stored:
        return CONFLICT
    return MERGED if merge_result.concurrent else APPLIED


# ---------------------------------------------------------------- members (rules 3 to 7)


def is_reviewer_for(actor: Principal, place: Place) -> bool:
    return actor.role in REVIEWERS and within(actor, place)


def room_in_booth(store, booth_id, member_id) -> bool:
    store.lock_booth(booth_id)
    return store.active_count(booth_id, member_id) < SQUAD_SIZE


def check_epic(store, actor, epic, member_id):
    """Rule 6. The booth holding the EPIC is named only when it is in the actor's area:
    anywhere else in the state it is "another booth" (who is on which roster is personal)."""
    if not epic:
        return
    store.lock_epic(epic)
    holder = store.epic_holder(epic, member_id)
    if holder is not None:
        where = f"booth {holder.code}" if within(actor, holder) else "another booth"
        message = f"This voter ID is already on the roster of {where}."
        raise Rejection("epic_taken", message, {"epic": [message]})


def promote_waitlisted(store, booth_id, actor, hlc, place):
    """A place has freed in the booth: the earliest waitlisted member becomes pending."""
    store.lock_booth(booth_id)
    if store.active_count(booth_id, "") >= SQUAD_SIZE:
        return
    member = store.earliest_waitlisted(booth_id)
    if member is not None:
        write(store, member, {"status": "pending"}, actor, hlc, place, "promote")


def apply_member(store: Store, actor: Principal, m: Mutation, now: int) -> Outcome:
    record = store.load("member", m.id)
    if m.op == "delete":
        return delete_record(store, actor, m, record, member_place)
    if record is None:
        return create_member(store, actor, m, now)
    if record.deleted:
        return edit_of_deleted(store, actor, m, record, member_place, now)
    return update_member(store, actor, m, record)


def member_place(store, actor, record):
    return booth_for(store, actor, record.values["booth_id"])


def create_member(store, actor, m, now, restoring: Record | None = None):
    values = validated("member", m, creating=restoring is None)
    consent = values.get("consent", restoring.values.get("consent") if restoring else None)
    if consent is not True:
        raise Rejection(
            "consent_required",
            "The member's consent is needed to add them.",
            {"consent": ["Ask for consent before adding a member."]},
        )
    place = booth_for(
        store, actor, values.get("booth_id", restoring and restoring.values["booth_id"])
    )
    wanted = values.pop("status", None)
    if wanted in ("approved", "rejected") and not is_reviewer_for(actor, place):
        raise Rejection(
            "not_allowed",
            "Only a block president approves or rejects members.",
            {"status": ["Only a block president approves or rejects members."]},
        )
    if wanted == "rejected" and not values.get("status_reason"):
        raise Rejection(
            "reason_required",
            "Give a reason for the rejection.",
            {"status_reason": ["Give a reason for the rejection."]},
        )
    record = restoring or Record("member", m.id, 1, {}, created_by=actor.user_id, created=True)
    check_epic(store, actor, values.get("epic", record.values.get("epic")), m.id)
    if wanted == "rejected":
        status = "rejected"
    elif room_in_booth(store, place.id, m.id):
        status = "approved" if wanted == "approved" else "pending"
    else:
        status = "waitlisted"
    values["status"] = status
    if status == "waitlisted":
        values["waitlisted_at"] = now
    if restoring is None:
        values.setdefault("consent_at", min(hlc_ms(m.hlc), now))
        values.setdefault("skills", [])
    else:
        values["deleted"] = False
    write(store, record, values, actor, m.hlc, place, "restore" if restoring else "create")
    return Outcome(APPLIED, record)


def hlc_ms(hlc: str) -> int:
    return int(hlc[:13])


def update_member(store, actor, m, record):
    incoming = validated("member", m, creating=False)
    old_place = member_place(store, actor, record)
    place = old_place
    if "booth_id" in incoming and incoming["booth_id"] != record.values["booth_id"]:
        place = booth_for(store, actor, incoming["booth_id"])
        if not is_reviewer_for(actor, old_place):
            raise Rejection(
                "not_allowed",
                "Only a block president moves a member to another booth.",
                {"booth_id": ["Only a block president moves a member."]},
            )
    wanted = incoming.get("status")
    if wanted is not None and wanted != record.values["status"]:
        if wanted in ("approved", "rejected") and not is_reviewer_for(actor, place):
            raise Rejection(
                "not_allowed",
                "Only a block president approves or rejects members.",
                {"status": ["Only a block president approves or rejects members."]},
            )
        if wanted in ("pending", "waitlisted") and actor.role not in REVIEWERS:
            raise Rejection(
                "not_allowed",
                "The roster status is set by the block president.",
                {"status": ["The roster status is set by the block president."]},
            )
        if wanted == "rejected" and not (incoming.get("status_reason") or "").strip():
            raise Rejection(
                "reason_required",
                "Give a reason for the rejection.",
                {"status_reason": ["Give a reason for the rejection."]},
            )
    if incoming.get("consent") is False:
        # Consent withdrawn: the member leaves the roster and their personal data goes;
        # anything else typed with it (the app folds unsent edits together) is kept.
        return erase_member(store, actor, m, record, old_place, place, incoming)
    if incoming.get("epic") and incoming["epic"] != record.values.get("epic"):
        check_epic(store, actor, incoming["epic"], record.id)

    result = merge(record, incoming, m.base_version, m.hlc)
    changes = result.changes
    clashes = list(result.clashes)
    before = record.values["status"]
    decided = changes.get("status") in ("approved", "rejected")
    if decided:
        seen = record.changed_since(m.base_version or 0, MEMBER_DETAILS)
        if seen:
            # Rule 3: a decision counts only for what the reviewer saw.
            lost = {"status": changes.pop("status")}
            if "status_reason" in changes:
                lost["status_reason"] = changes.pop("status_reason")
            store.add_conflict(
                record,
                place,
                "changed_since_review",
                lost,
                {"status": before, **{n: record.values.get(n) for n in seen}},
                m.hlc,
                actor.user_id,
                actor,
                m.hlc,
            )
            outcome_conflicts = keep_clashes(store, record, place, clashes, actor, m.hlc)
            outcome_conflicts.append({"field": "status", "kept": before, "lost": lost["status"]})
            apply_member_changes(store, actor, m, record, changes, old_place, place)
            return Outcome(
                CONFLICT,
                record,
                outcome_conflicts,
                {
                    "code": "changed_since_review",
                    "message": "The member's details changed after you reviewed them; review again.",
                    "fields": {"status": [f"Still {before}: details changed since your review."]},
                },
            )
    elif any(n in changes for n in MEMBER_DETAILS) and before in ("approved", "rejected"):
        # Rule 4: changed details go back for review.
        changes["status"] = "pending"
    conflicts = keep_clashes(store, record, place, clashes, actor, m.hlc)
    apply_member_changes(store, actor, m, record, changes, old_place, place)
    return Outcome(status_of(result, bool(conflicts)), record, conflicts)


def apply_member_changes(store, actor, m, record, changes, old_place, place):
    """Write a member's merged changes, keeping the squad at 20 and promoting on departures."""
    before = record.values["status"]
    moved = place.id != old_place.id
    after = changes.get("status", before)
    if moved and after == "waitlisted" and "status" not in changes:
        after = changes["status"] = "pending"  # a new booth with room takes them in
    if after in ACTIVE and (before not in ACTIVE or moved):
        if not room_in_booth(store, place.id, record.id):
            if changes.get("status") == "approved" and not moved:
                raise Rejection(
                    "squad_full",
                    "This booth already has 20 members.",
                    {"status": ["This booth already has 20 members."]},
                )
            changes["status"] = "waitlisted"
            after = "waitlisted"
    if after == "waitlisted" and (before != "waitlisted" or moved):
        changes["waitlisted_at"] = hlc_ms(m.hlc)
    if after in ("approved", "rejected") and before != after:
        changes["reviewed_by"] = actor.user_id
        changes["reviewed_at"] = hlc_ms(m.hlc)
    write(store, record, changes, actor, m.hlc, place)
    if before in ACTIVE and (after not in ACTIVE or moved):
        promote_waitlisted(store, old_place.id, actor, m.hlc, old_place)


def erase_member(store, actor, m, record, old_place, place, incoming):
    """Consent withdrawn: the member leaves the roster and their personal data is erased,
    from the record and from every conflict record that holds some of it (DPDP)."""
    was_active = record.values["status"] in ACTIVE
    erasable = (*PERSONAL_FIELDS, "name", "notes")
    kept = {k: v for k, v in incoming.items() if k not in erasable and k != "consent"}
    result = merge(record, kept, m.base_version, m.hlc)
    conflicts = keep_clashes(store, record, place, result.clashes, actor, m.hlc)
    changes = dict(result.changes)
    changes.update(consent=False, deleted=True, name="", notes="")
    changes.update({n: None for n in PERSONAL_FIELDS if record.values.get(n) is not None})
    write(store, record, changes, actor, m.hlc, place, "erase")
    store.erase_from_conflicts(record, erasable)
    if was_active:
        promote_waitlisted(store, old_place.id, actor, m.hlc, old_place)
    return Outcome(CONFLICT if conflicts else APPLIED, record, conflicts)


# ---------------------------------------------------------------- delete (rule 7)


def delete_record(store, actor, m, record, place_of):
    if record is None:
        raise not_found(m.entity)
    place = place_of(store, actor, record)
    check_may_delete(store, actor, record, place)
    if record.deleted:
        return Outcome(APPLIED, record)
    edited = record.changed_since(m.base_version or 0)
    conflicts = []
    if m.base_version is not None and edited:
        # Rule 7: the delete wins; the concurrent edit is kept so it can be restored.
        lost = {n: record.values.get(n) for n in edited}
        for lost_hlc in sorted({record.meta[n][1] for n in edited}):
            names = [n for n in edited if record.meta[n][1] == lost_hlc]
            store.add_conflict(
                record,
                place,
                "delete",
                {n: lost[n] for n in names},
                {"deleted": True},
                lost_hlc,
                store.author_of(lost_hlc),
                actor,
                m.hlc,
            )
        conflicts = [{"field": n, "kept": None, "lost": lost[n]} for n in edited]
    was_active = record.entity == "member" and record.values["status"] in ACTIVE
    write(store, record, {"deleted": True}, actor, m.hlc, place, "delete")
    if was_active:
        promote_waitlisted(store, place.id, actor, m.hlc, place)
    return Outcome(CONFLICT if conflicts else APPLIED, record, conflicts)


def check_may_delete(store, actor, record, place):
    if record.entity == "member":
        return
    if record.entity == "grievance":
        raise Rejection(
            "not_allowed",
            "A grievance is withdrawn, not deleted.",
            {"status": ["Withdraw the grievance instead."]},
        )
    if record.entity == "grievance_note":
        raise Rejection("append_only", "Notes cannot be changed or removed.")
    if record.entity == "meeting":
        raise Rejection(
            "not_allowed",
            "A meeting is cancelled, not deleted.",
            {"status": ["Cancel the meeting instead."]},
        )
    raise Rejection("not_allowed", "This record cannot be deleted.")


def edit_of_deleted(store, actor, m, record, place_of, now):
    """An edit of a deleted record: a restore when the device saw the delete, else it loses."""
    place = place_of(store, actor, record)
    deleted_at_version = record.meta.get("deleted", (record.version, ""))[0]
    if m.base_version is not None and m.base_version >= deleted_at_version:
        if record.entity != "member":
            raise Rejection("not_allowed", "This record was deleted.")
        return create_member(store, actor, m, now, restoring=record)
    incoming = validated(record.entity, m, creating=False)
    if not incoming:
        return Outcome(APPLIED, record)
    if record.entity == "member" and record.values.get("consent") is False:
        # The person withdrew consent and was erased: an edit made before the phone knew
        # must not store their details again. The author sees why in "needs attention".
        raise Rejection(
            "consent_withdrawn",
            "This member withdrew consent and was removed from the roster.",
            {"consent": ["Consent was withdrawn; ask again before re-adding."]},
        )
    store.add_conflict(
        record, place, "delete", incoming, {"deleted": True}, m.hlc, actor.user_id, actor, m.hlc
    )
    return Outcome(
        CONFLICT, record, [{"field": n, "kept": None, "lost": v} for n, v in incoming.items()]
    )


# ---------------------------------------------------------------- grievances (rule 8)


def apply_grievance(store, actor, m, now):
    record = store.load("grievance", m.id)
    if m.op == "delete":
        return delete_record(store, actor, m, record, grievance_place)
    if record is None:
        return create_grievance(store, actor, m, now)
    return update_grievance(store, actor, m, record, now)


def grievance_place(store, actor, record):
    place = booth_for(store, actor, record.values["booth_id"])
    if not sees_grievance(actor, record):
        raise Rejection("out_of_scope", "This complaint is handled by the Connect Centre.")
    return place


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
    reported = min(max(values.pop("created_at", hlc_ms(m.hlc)), actor.registered_at or 0), now)
    values.update(
        reported_at=reported,
        due_at=reported + GRIEVANCE_DUE_DAYS * DAY_MS,
        status="new",
        ref_no=store.next_ref_no(place.district_id, now),
        status_history=[{"status": "new", "at": reported, "by": actor.user_id}],
    )
    for name in ("complainant_name", "against"):
        values.setdefault(name, "")
    record = Record("grievance", m.id, 1, {}, created_by=actor.user_id, created=True)
    write(store, record, values, actor, m.hlc, place, "create")
    return Outcome(APPLIED, record)


def update_grievance(store, actor, m, record, now):
    incoming = validated("grievance", m, creating=False)
    place = grievance_place(store, actor, record)
    current = record.values["status"]
    wanted = incoming.pop("status", current)
    incoming.pop("created_at", None)  # when it was typed never changes
    # Fields sent with the value they already have are not an edit (rule 8 is about edits).
    incoming = {k: v for k, v in incoming.items() if record.values.get(k) != v}
    changes = {}
    if incoming:
        if record.created_by != actor.user_id:
            raise Rejection("not_allowed", "Only the person who reported it edits a grievance.")
        if current != "new":
            message = f"The grievance is {current}: only notes can be added now."
            raise Rejection("grievance_locked", message, {"status": [message]})
        if "booth_id" in incoming:
            booth_for(store, actor, incoming["booth_id"])
    result = merge(record, incoming, m.base_version, m.hlc)
    changes.update(result.changes)
    if wanted != current:
        role_needed = GRIEVANCE_TRANSITIONS.get((current, wanted))
        if role_needed is None or not may_move(actor, record, place, role_needed):
            message = f"The grievance is {current}; it cannot be moved to {wanted} by you."
            raise Rejection("transition_not_allowed", message, {"status": [message]})
        changes["status"] = wanted
        changes["status_history"] = [
            *record.values.get("status_history", []),
            {"status": wanted, "at": min(hlc_ms(m.hlc), now), "by": actor.user_id},
        ]
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
            and all(
                record.values.get(k) == v for k, v in validated("grievance_note", m, False).items()
            )
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
    record = Record("grievance_note", m.id, 1, {}, created_by=actor.user_id, created=True)
    write(store, record, values, actor, m.hlc, place, "create")
    return Outcome(APPLIED, record)


# ---------------------------------------------------------------- meetings and RSVPs


def meeting_place(store, actor, unit_id, for_write=True):
    place = store.place(unit_id) if in_int_range(unit_id) else None
    if place is None or place.type in ("panchayat",):
        raise Rejection("unknown_unit", "No such unit.", {"unit_id": ["No such unit."]})
    if for_write and (actor.role not in LEADERS or not within(actor, place)):
        raise Rejection(
            "not_allowed",
            "Only leaders call meetings, for their own area.",
            {"unit_id": ["Outside your area."]},
        )
    return place


def check_may_change_meeting(store, actor, record):
    """Only the organiser, or a leader whose own scope unit contains the organiser's, changes
    or cancels a meeting: a block president never rewrites the Connect Centre's meeting."""
    if record.created_by == actor.user_id:
        return
    organiser = store.user_place(record.created_by) if record.created_by is not None else None
    if organiser is None or not within(actor, organiser):
        message = "Only the organiser of this meeting, or a leader above them, changes it."
        raise Rejection("not_allowed", message, {"unit_id": [message]})


def apply_meeting(store, actor, m, now):
    record = store.load("meeting", m.id)
    if m.op == "delete":
        return delete_record(
            store, actor, m, record, lambda s, a, r: meeting_place(s, a, r.values["unit_id"])
        )
    if record is None:
        values = validated("meeting", m, creating=True)
        place = meeting_place(store, actor, values["unit_id"])
        values.setdefault("status", "scheduled")
        for name in ("agenda", "place", "online_url"):
            values.setdefault(name, "")
        record = Record("meeting", m.id, 1, {}, created_by=actor.user_id, created=True)
        write(store, record, values, actor, m.hlc, place, "create")
        return Outcome(APPLIED, record, events=[meeting_changed(record, "created")])
    incoming = validated("meeting", m, creating=False)
    place = meeting_place(store, actor, record.values["unit_id"])
    check_may_change_meeting(store, actor, record)
    if "unit_id" in incoming:
        place = meeting_place(store, actor, incoming["unit_id"])
    result = merge(record, incoming, m.base_version, m.hlc)
    conflicts = keep_clashes(store, record, place, result.clashes, actor, m.hlc)
    before = record.values["status"]
    events = []
    if write(store, record, result.changes, actor, m.hlc, place):
        cancelled = before != "cancelled" and record.values["status"] == "cancelled"
        events.append(meeting_changed(record, "cancelled" if cancelled else "changed"))
    return Outcome(status_of(result, bool(conflicts)), record, conflicts, events=events)


def meeting_changed(record: Record, kind: str) -> Event:
    """Its audience hears of it by a push notification (server/meetings/alerts.py)."""
    return Event("meeting_changed", "meeting", record.id, kind)


def apply_rsvp(store, actor, m, now):
    if m.op == "delete":
        raise Rejection("not_allowed", "Change the answer instead of deleting it.")
    record = store.load("rsvp", m.id)
    incoming = validated("rsvp", m, creating=record is None)
    meeting_id = record.values["meeting_id"] if record else incoming["meeting_id"]
    meeting = store.load("meeting", meeting_id)
    if meeting is None or meeting.deleted:
        raise Rejection("meeting_missing", "No such meeting.", {"meeting_id": ["No such meeting."]})
    if not store.meeting_reaches(meeting, actor):
        raise Rejection("not_allowed", "This meeting is not meant for you.")
    place = store.place(meeting.values["unit_id"])
    if record is None:
        # One RSVP per person and meeting: a second one from another phone merges into it.
        record = store.find_rsvp(meeting_id, actor.user_id)
        if record is None:
            values = {
                "meeting_id": meeting_id,
                "user_id": actor.user_id,
                "answer": incoming["answer"],
            }
            record = Record("rsvp", m.id, 1, {}, created_by=actor.user_id, created=True)
            write(store, record, values, actor, m.hlc, place, "create")
            return Outcome(APPLIED, record)
        base = m.base_version if m.base_version is not None else 0
    else:
        base = m.base_version
    if record.values["user_id"] != actor.user_id:
        raise Rejection("not_allowed", "An RSVP is answered by its own person.")
    incoming.pop("meeting_id", None)
    result = merge(record, incoming, base, m.hlc)
    write(store, record, result.changes, actor, m.hlc, place)
    # Rule 9: two answers from one person are merged by rule 2 and never conflict.
    return Outcome(MERGED if result.concurrent or result.clashes else APPLIED, record)


def apply_conflict(store, actor, m, now):
    record = store.load("conflict", m.id)
    if record is None:
        raise not_found("conflict")
    if m.op == "delete":
        raise Rejection("not_allowed", "Resolve a conflict instead of deleting it.")
    incoming = validated("conflict", m, creating=False)
    place = store.place(record.values["booth_id"] or record.values["unit_id"])
    mine = record.values.get("author_id") == actor.user_id
    if not mine and not (actor.role in REVIEWERS and within(actor, place)):
        raise Rejection("not_allowed", "Only its author or the block president resolves it.")
    result = merge(record, incoming, m.base_version, m.hlc)
    write(store, record, result.changes, actor, m.hlc, place)
    return Outcome(MERGED if result.concurrent else APPLIED, record)


HANDLERS = {
    "member": apply_member,
    "grievance": apply_grievance,
    "grievance_note": apply_note,
    "meeting": apply_meeting,
    "rsvp": apply_rsvp,
    "conflict": apply_conflict,
}


def apply_mutation(store: Store, actor: Principal, m: Mutation, now: int) -> Outcome:
    """Apply one mutation by the rules; raises Rejection when it breaks one."""
    check_unseen(store, actor, m)
    check_base(store, m)
    return HANDLERS[m.entity](store, actor, m, now)


def not_found(entity: str) -> Rejection:
    """The one answer for a record that is not on the server, or not for the pusher."""
    if entity == "conflict":
        return Rejection("not_found", "There is no such conflict on the server.")
    return Rejection("not_found", "There is no such record on the server.")


def check_unseen(store: Store, actor: Principal, m: Mutation):
    """A record the pusher may not read (can_see, rule 10) is answered exactly as one
    that does not exist, on every entity's update and delete path: neither its existence
    nor why it is hidden (a complaint's category, another booth) is revealed."""
    record = store.load(m.entity, m.id)
    if record is not None and not can_see(store, actor, record):
        raise not_found(m.entity)


def check_base(store: Store, m: Mutation):
    """A base_version above the record's version was never given out by the server: taken
    as is, it would hide every change since and overwrite them without a conflict."""
    record = store.load(m.entity, m.id) if m.base_version is not None else None
    if record is not None and m.base_version > record.version:
        message = (
            f"The server never had version {m.base_version}; the record is at {record.version}."
        )
        raise Rejection("base_ahead", message, {"base_version": [message]})
