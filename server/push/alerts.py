"""Meeting alerts: raise push events for meeting writes and reminders, and fan them out
into the push outbox inside the caller's transaction (the alert is durable iff the write is).
"""

import logging

from sqlalchemy import literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.accounts.models import Device, User
from server.extensions import db
from server.geo.models import Unit
from server.meetings.audience import recipients
from server.meetings.models import Meeting
from server.push import notification
from server.push.models import PENDING, PushDelivery, PushEvent, PushSubscription
from server.records import now_ms

log = logging.getLogger(__name__)

HOUR_MS = 3600 * 1000
WRITE_KINDS = (notification.CREATED, notification.CHANGED, notification.CANCELLED)
# (kind, how long before the start it fires, until when it may still fire): a 24-hour
# reminder that is late past the 1-hour mark gives way to the 1-hour one.
REMINDERS = (
    (notification.REMINDER_24H, 24 * HOUR_MS, HOUR_MS),
    (notification.REMINDER_1H, HOUR_MS, 0),
)


def _insert(model):
    """INSERT … ON CONFLICT DO NOTHING for this database."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def _actor_user_id(actor):
    user = getattr(actor, "user", actor)
    return getattr(user, "id", None)


def reminder_key(meeting_id: str, kind: str, starts_at: int) -> str:
    return f"m:{meeting_id}:{kind}:{starts_at}"


def _raise_event(meeting, kind, key, now, actor_id=None, skipped=False):
    """Insert the event unless its key exists, then (unless skipped) queue one delivery per
    live subscription of each recipient. Returns the number queued, None if it existed."""
    unit = db.session.get(Unit, meeting.unit_id)
    event_id = db.session.scalar(
        _insert(PushEvent)
        .values(
            key=key,
            meeting_id=meeting.id,
            kind=kind,
            snapshot=notification.snapshot(meeting, unit),
            actor_id=actor_id,
            skipped=skipped,
            recipients=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(PushEvent.id)
    )
    if event_id is None or skipped:
        return None if event_id is None else 0
    people = recipients(meeting).with_only_columns(User.id)
    if actor_id is not None:
        # The organiser made the change; their own phones need no alert about it.
        people = people.where(User.id != actor_id)
    subscriptions = (
        select(
            literal(event_id),
            PushSubscription.id,
            literal(PENDING),
            literal(0),
            literal(now),
        )
        .join(Device, Device.id == PushSubscription.device_id)
        .where(
            PushSubscription.user_id.in_(people),
            Device.revoked_at.is_(None),
            or_(PushSubscription.expires_at.is_(None), PushSubscription.expires_at > now),
        )
    )
    # Counted from RETURNING: psycopg reports no rowcount (-1) for INSERT … SELECT here.
    queued = len(
        db.session.execute(
            _insert(PushDelivery)
            .from_select(
                ["event_id", "subscription_id", "status", "attempts", "next_attempt_at"],
                subscriptions,
            )
            .returning(PushDelivery.id)
        ).all()
    )
    db.session.execute(update(PushEvent).where(PushEvent.id == event_id).values(recipients=queued))
    log.info("Meeting %s %s: %s alerts queued", meeting.id, kind, queued)
    return queued


def meeting_changed(meeting, kind, actor, now=None):
    """Queue the alert for a meeting just created, changed or cancelled by `actor`.

    Called by the sync engine inside the transaction that writes the meeting; commits
    nothing. A meeting already under way gets no alert. Reminders whose moment has passed
    by now are marked done: this alert is the one people get.
    """
    if kind not in WRITE_KINDS:
        raise ValueError(f"Unknown meeting alert kind: {kind!r}")
    now = now_ms() if now is None else now
    if meeting.deleted and kind != notification.CANCELLED:
        kind = notification.CANCELLED
    db.session.flush()
    if meeting.starts_at <= now:
        return None
    actor_id = _actor_user_id(actor)
    queued = _raise_event(meeting, kind, f"m:{meeting.id}:{kind}:v{meeting.version}", now, actor_id)
    if kind != notification.CANCELLED:
        for reminder, before, _until in REMINDERS:
            if now >= meeting.starts_at - before:
                key = reminder_key(meeting.id, reminder, meeting.starts_at)
                _raise_event(meeting, reminder, key, now, actor_id, skipped=True)
    db.session.info["push_queued"] = True
    return queued


def due_reminders(now: int) -> list[tuple[Meeting, str]]:
    """Scheduled meetings whose 24-hour or 1-hour reminder is due and not yet raised."""
    meetings = db.session.scalars(
        select(Meeting).where(
            Meeting.status == "scheduled",
            Meeting.deleted.is_(False),
            Meeting.starts_at > now,
            Meeting.starts_at <= now + REMINDERS[0][1],
        )
    ).all()
    due = {
        reminder_key(m.id, kind, m.starts_at): (m, kind)
        for m in meetings
        for kind, before, until in REMINDERS
        if m.starts_at - before <= now < m.starts_at - until
    }
    if not due:
        return []
    raised = set(db.session.scalars(select(PushEvent.key).where(PushEvent.key.in_(list(due)))))
    return [pair for key, pair in due.items() if key not in raised]


def schedule_reminders(now=None) -> int:
    """Raise every due reminder once and commit; returns how many were raised. Safe to run
    in several workers at once: the event key is unique, and a second insert is a no-op."""
    now = now_ms() if now is None else now
    raised = 0
    for meeting, kind in due_reminders(now):
        key = reminder_key(meeting.id, kind, meeting.starts_at)
        if _raise_event(meeting, kind, key, now) is not None:
            raised += 1
        db.session.commit()
    db.session.commit()
    return raised
