"""Web Push tables: each device's subscription, alert events, and the delivery outbox."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import now_ms

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL needs room for billions.
BigId = BigInteger().with_variant(Integer, "sqlite")

# Delivery states: waiting to be sent (or retried), claimed by a worker, and the ends.
PENDING, SENDING, SENT, FAILED, EXPIRED = "pending", "sending", "sent", "failed", "expired"


class PushSubscription(db.Model):
    """The browser's PushSubscription for one device; re-subscribing replaces it in place."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    # One browser subscription is one phone: another device sending the same endpoint is
    # refused (409 endpoint_taken), unless the device holding it was revoked.
    endpoint: Mapped[str] = mapped_column(String(1024), nullable=False, unique=True)
    p256dh: Mapped[str] = mapped_column(String(100), nullable=False)
    auth: Mapped[str] = mapped_column(String(40), nullable=False)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)


class PushEvent(db.Model):
    """One alert about a meeting (created, changed, cancelled, or a reminder).

    `key` makes each event happen once: a version of the meeting for the write alerts,
    the start time for reminders. `snapshot` is the meeting as it was alerted, so the
    text matches the event even when the meeting changes again before delivery. A
    reminder whose moment had already passed when the meeting was created or moved is
    recorded with `skipped` (the write's own alert told people), so it never fires late.
    """

    __tablename__ = "push_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    snapshot: Mapped[dict] = mapped_column(JSON, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    skipped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    recipients: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)


class PushDelivery(db.Model):
    """The outbox: one row per (event, subscription), written with the meeting itself.

    A worker claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marks them
    `sending` under a random `claim_token` with a lease, sends outside any transaction,
    and records the outcome only where its token still holds, so a row is never sent by
    two workers at once; a worker that dies leaves rows whose lease runs out and are
    claimed again.
    """

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_push_deliveries_event_sub"),
        Index("ix_push_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("push_events.id", ondelete="CASCADE"), nullable=False
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(8), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[int | None] = mapped_column(BigInteger)
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))
