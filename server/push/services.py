"""Writes for push subscriptions: one per device, replaced when the browser re-subscribes.

A browser's endpoint is one phone's: it belongs to the device that registered it. Another
device (of another person, or of the same one) that sends the same endpoint is refused
(`409 endpoint_taken`), never handed it: otherwise anyone who learnt an endpoint would
delete that phone's subscription and receive its alerts. Only a revoked device's claim
lapses (the phone was signed out for good; the app logs in again as a new device).
"""

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from server.accounts.models import Device
from server.audit.services import log_change
from server.errors import ApiError
from server.extensions import db
from server.push.models import PushSubscription
from server.records import now_ms


def endpoint_taken():
    message = "This push address is registered to another device."
    return ApiError("endpoint_taken", message, 409, {"endpoint": [message]})


def _release_lapsed_claim(endpoint: str, device_id: str):
    """Refuse an endpoint another live device holds; drop a revoked device's claim on it."""
    holder = db.session.execute(
        select(PushSubscription.id, Device.revoked_at)
        .join(Device, Device.id == PushSubscription.device_id)
        .where(PushSubscription.endpoint == endpoint, PushSubscription.device_id != device_id)
    ).first()
    if holder is None:
        return
    if holder.revoked_at is None:
        raise endpoint_taken()
    db.session.execute(delete(PushSubscription).where(PushSubscription.id == holder.id))


def subscribe(actor, endpoint: str, p256dh: str, auth: str, expires_at: int | None):
    """Store the device's subscription, replacing its previous one; sending the same one
    again only refreshes it."""
    now = now_ms()
    _release_lapsed_claim(endpoint, actor.device.id)
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
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Another device registered the same endpoint at the same moment: the unique
        # index decides, and this one is refused as if it had come second.
        db.session.rollback()
        raise endpoint_taken() from exc
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
