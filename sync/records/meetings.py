"""Meetings and RSVPs: a leader calls a meeting for a unit in their scope and only its
organiser or a leader above them changes it (rule 12 of docs/protocol.md); one RSVP per
person and meeting, merged and never in conflict (rule 9). A meeting created, changed or
cancelled comes out as a `meeting_changed` event for its audience."""

from sync.fields import validated
from sync.merge import keep_clashes, merge, status_of, write
from sync.protocol import APPLIED, MERGED
from sync.records import RecordRules
from sync.scope import LEADERS, within
from sync.values import Event, Outcome, Record, Rejection, not_found


def meeting_place(store, actor, unit_id, for_write=True):
    place = store.place(unit_id)  # validated: an id in range
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
        if record is None:
            raise not_found("meeting")
        meeting_place(store, actor, record.values["unit_id"])
        raise Rejection(
            "not_allowed",
            "A meeting is cancelled, not deleted.",
            {"status": ["Cancel the meeting instead."]},
        )
    if record is None:
        values = validated("meeting", m, creating=True)
        place = meeting_place(store, actor, values["unit_id"])
        values.setdefault("status", "scheduled")  # the optional texts default to ""
        record = Record("meeting", m.id, 1, {}, created=True)
        write(store, record, values, actor, m.hlc, place, "create")
        return Outcome(APPLIED, record, events=[meeting_changed(record, "created")])
    incoming = validated("meeting", m)
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
    """Its audience hears of it by a push notification (server/push/alerts.py)."""
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
    # Its audience answers, and its organiser (who need not be in the audience).
    if not (store.meeting_reaches(meeting, actor) or meeting.created_by == actor.user_id):
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
            record = Record("rsvp", m.id, 1, {}, created=True)
            write(store, record, values, actor, m.hlc, place, "create")
            return Outcome(APPLIED, record)
    if record.values["user_id"] != actor.user_id:
        raise Rejection("not_allowed", "An RSVP is answered by its own person.")
    incoming.pop("meeting_id", None)
    result = merge(record, incoming, m.base_version, m.hlc)  # no base: saw nothing
    write(store, record, result.changes, actor, m.hlc, place)
    # Rule 9: two answers from one person are merged by rule 2 and never conflict.
    return Outcome(MERGED if result.concurrent or result.clashes else APPLIED, record)


RULES = (
    RecordRules("meeting", order=3, apply=apply_meeting),
    RecordRules("rsvp", order=4, apply=apply_rsvp),
)
