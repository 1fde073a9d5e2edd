"""The roster's rules (rules 3 to 7 of docs/protocol.md): one booth, at most 20 active
members and a waitlist behind them, one EPIC per member, approval by the block president,
and a member's personal data erased when they withdraw consent."""

from sync.fields import validated
from sync.hlc import millis
from sync.merge import delete_record, keep_clashes, lost_to_delete, merge, status_of, write
from sync.protocol import APPLIED, CONFLICT
from sync.records import RecordRules
from sync.scope import REVIEWERS, booth_for, within
from sync.store import Store
from sync.values import Mutation, Outcome, Place, Principal, Record, Rejection, not_found

SQUAD_SIZE = 20
ACTIVE = ("pending", "approved")
# What identifies a person beyond their name: erased with it when consent is withdrawn.
PERSONAL_FIELDS = ("phone", "epic")
# Member fields whose change means a reviewer's decision no longer holds (rules 3 and 4).
MEMBER_DETAILS = ("booth_id", "name", "age", "gender", "phone", "epic", "skills", "consent")


def apply_member(store: Store, actor: Principal, m: Mutation, now: int) -> Outcome:
    record = store.load("member", m.id)
    if m.op == "delete":
        return delete_member(store, actor, m, record)
    if record is None:
        return create_member(store, actor, m, now)
    if record.deleted:
        return edit_of_deleted(store, actor, m, record, now)
    return update_member(store, actor, m, record)


def member_place(store, actor, record):
    return booth_for(store, actor, record.values["booth_id"])


def is_reviewer_for(actor: Principal, place: Place) -> bool:
    return actor.role in REVIEWERS and within(actor, place)


def room_in_booth(store, booth_id, member_id) -> bool:
    return store.active_count(booth_id, member_id) < SQUAD_SIZE


def check_epic(store, actor, epic, member_id):
    """Rule 6. The booth holding the EPIC is named only when it is in the actor's area:
    anywhere else in the state it is "another booth" (who is on which roster is personal)."""
    if not epic:
        return
    holder = store.epic_holder(epic, member_id)
    if holder is not None:
        where = f"booth {holder.code}" if within(actor, holder) else "another booth"
        message = f"This voter ID is already on the roster of {where}."
        raise Rejection("epic_taken", message, {"epic": [message]})


def promote_waitlisted(store, booth_id, actor, hlc, place):
    """Rule 5: a place has freed in the booth, the earliest waitlisted member becomes pending."""
    if store.active_count(booth_id, "") >= SQUAD_SIZE:
        return
    member = store.earliest_waitlisted(booth_id)
    if member is not None:
        write(store, member, {"status": "pending"}, actor, hlc, place, "promote")


def check_decision(actor, place, wanted, reason):
    """Rule 3: only a reviewer over the booth approves or rejects, and a rejection says why."""
    if wanted in ("approved", "rejected") and not is_reviewer_for(actor, place):
        raise Rejection(
            "not_allowed",
            "Only a block president approves or rejects members.",
            {"status": ["Only a block president approves or rejects members."]},
        )
    if wanted == "rejected" and not reason:  # validated: already trimmed
        raise Rejection(
            "reason_required",
            "Give a reason for the rejection.",
            {"status_reason": ["Give a reason for the rejection."]},
        )


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
    check_decision(actor, place, wanted, values.get("status_reason"))
    record = restoring or Record("member", m.id, 1, {}, created=True)
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
        values.setdefault("consent_at", min(millis(m.hlc), now))  # skills default to []
    else:
        values["deleted"] = False
    write(store, record, values, actor, m.hlc, place, "restore" if restoring else "create")
    if wanted == "approved" and status == "waitlisted":
        return Outcome(CONFLICT, record, keep_waitlisted_approval(store, actor, m, record, place))
    return Outcome(APPLIED, record)


def keep_waitlisted_approval(store, actor, m, record, place):
    """Rule 5 over rule 3: a member approved as they are added to (or moved into) a full
    booth waits on the waitlist; the approval is kept as a conflict record (`squad_full`)
    that the reviewer sees and can apply once there is room, never dropped unseen."""
    lost, kept = {"status": "approved"}, {"status": "waitlisted"}
    store.add_conflict(record, place, "squad_full", lost, kept, m.hlc, actor.user_id, actor)
    return [{"field": "status", "kept": "waitlisted", "lost": "approved"}]


def check_status_change(actor, record, incoming, place):
    """Who may set a member's roster status (rule 3)."""
    wanted = incoming.get("status")
    if wanted is None or wanted == record.values["status"]:
        return
    if wanted in ("pending", "waitlisted") and actor.role not in REVIEWERS:
        raise Rejection(
            "not_allowed",
            "The roster status is set by the block president.",
            {"status": ["The roster status is set by the block president."]},
        )
    check_decision(actor, place, wanted, incoming.get("status_reason"))


def update_member(store, actor, m, record):
    incoming = validated("member", m)
    old_place = member_place(store, actor, record)
    place = old_place
    if "booth_id" in incoming and incoming["booth_id"] != record.values["booth_id"]:
        # Only a reviewer moves a member: the actor sees the member (the engine's
        # check_unseen) and has the new booth in their area, and a volunteer's is one booth.
        place = booth_for(store, actor, incoming["booth_id"])
    check_status_change(actor, record, incoming, place)
    if incoming.get("consent") is False:
        # Consent withdrawn: the member leaves the roster and their personal data goes;
        # anything else typed with it (the app folds unsent edits together) is kept.
        return erase_member(store, actor, m, record, old_place, place, incoming)
    check_epic(store, actor, incoming.get("epic"), record.id)  # its own EPIC is no clash

    result = merge(record, incoming, m.base_version, m.hlc)
    changes = result.changes
    before = record.values["status"]
    if changes.get("status") in ("approved", "rejected"):
        seen = record.changed_since(m.base_version or 0, MEMBER_DETAILS)
        if seen:
            return decision_on_changed(store, actor, m, record, result, seen, old_place, place)
    elif any(n in changes for n in MEMBER_DETAILS) and before in ("approved", "rejected"):
        # Rule 4: changed details go back for review.
        changes["status"] = "pending"
    conflicts = keep_clashes(store, record, place, result.clashes, actor, m.hlc)
    if apply_member_changes(store, actor, m, record, changes, old_place, place):
        conflicts += keep_waitlisted_approval(store, actor, m, record, place)
    return Outcome(status_of(result, bool(conflicts)), record, conflicts)


def decision_on_changed(store, actor, m, record, result, seen, old_place, place):
    """Rule 3: a decision counts only for what the reviewer saw; details changed since
    `base_version`, so it is kept as a conflict and the rest of the edit is applied."""
    changes = result.changes
    before = record.values["status"]
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
    )
    outcome_conflicts = keep_clashes(store, record, place, list(result.clashes), actor, m.hlc)
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


def apply_member_changes(store, actor, m, record, changes, old_place, place):
    """Write a member's merged changes, keeping the squad at 20 and promoting on departures.
    Answers whether an approval went to the waitlist instead (a move into a full booth)."""
    before = record.values["status"]
    waitlisted_approval = False
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
            waitlisted_approval = changes.get("status") == "approved"
            changes["status"] = "waitlisted"
            after = "waitlisted"
    if after == "waitlisted" and (before != "waitlisted" or moved):
        changes["waitlisted_at"] = millis(m.hlc)
    if after in ("approved", "rejected") and before != after:
        changes["reviewed_by"] = actor.user_id
        changes["reviewed_at"] = millis(m.hlc)
    write(store, record, changes, actor, m.hlc, place)
    if before in ACTIVE and (after not in ACTIVE or moved):
        promote_waitlisted(store, old_place.id, actor, m.hlc, old_place)
    return waitlisted_approval


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


def delete_member(store, actor, m, record):
    """Rule 7, and a place freed in the booth goes to the waitlist (rule 5)."""
    if record is None:
        raise not_found("member")
    place = member_place(store, actor, record)
    was_active = not record.deleted and record.values["status"] in ACTIVE
    outcome = delete_record(store, actor, m, record, place)
    if was_active:
        promote_waitlisted(store, place.id, actor, m.hlc, place)
    return outcome


def edit_of_deleted(store, actor, m, record, now):
    """An edit of a deleted member: a restore when the device saw the delete, else it
    loses (rule 7)."""
    place = member_place(store, actor, record)
    deleted_at_version = record.meta.get("deleted", (record.version, ""))[0]
    if m.base_version is not None and m.base_version >= deleted_at_version:
        return create_member(store, actor, m, now, restoring=record)
    incoming = validated("member", m)
    if not incoming:
        return Outcome(APPLIED, record)
    if record.values.get("consent") is False:
        # The person withdrew consent and was erased: an edit made before the phone knew
        # must not store their details again. The author sees why in "needs attention".
        raise Rejection(
            "consent_withdrawn",
            "This member withdrew consent and was removed from the roster.",
            {"consent": ["Consent was withdrawn; ask again before re-adding."]},
        )
    return lost_to_delete(store, actor, m, record, place, incoming)


RULES = (
    RecordRules(
        "member", order=0, apply=apply_member, booth_scoped=True, personal_fields=PERSONAL_FIELDS
    ),
)
