"""Writes for push subscriptions: one per device, replaced when the browser re-subscribes."""

from sqlalchemy import delete, select

from server.audit.services import log_change
from server.extensions import db
from server.push.models import PushSubscription
from server.records import now_ms


def subscribe(actor, endpoint: str, p256dh: str, auth: str, expires_at: int | None):
    """Store the device's subscription, replacing its previous one and any other claim on
    the same endpoint (a phone passed to another person keeps its browser subscription)."""
    now = now_ms()
    db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.device_id != actor.device.id
        )
    )
    sub = db.session.scalar(
        select(PushSubscription).where(PushSubscription.device_id == actor.device.id)
    )
    action = "update" if sub else "create"
    if sub is None:
        sub = PushSubscription(device_id=actor.device.id, created_at=now)
        db.session.add(sub)
    # Pending alerts of this device follow it to the new endpoint and keys.
    sub.user_id = actor.user.id
    sub.endpoint = endpoint
    sub.p256dh = p256dh
    sub.auth = auth
    sub.expires_at = expires_at
    sub.updated_at = now
    db.session.flush()
    log_change(actor, action, "push_subscription", sub.id)
    db.session.commit()
    return sub


def unsubscribe(actor) -> None:
    """Forget the device's subscription (and the alerts still queued for it)."""
    sub = db.session.scalar(
        select(PushSubscription).where(PushSubscription.device_id == actor.device.id)
    )
    if sub is not None:
        log_change(actor, "delete", "push_subscription", sub.id)
        db.session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
    db.session.commit()
