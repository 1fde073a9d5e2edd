"""HTTP routes for Web Push: the server's public key and the device's subscription."""

from flask import Blueprint

from server.api import arguments, response
from server.auth import current_actor, login_required
from server.errors import ApiError
from server.push import services
from server.push.schemas import PublicKeySchema, SubscriptionOutSchema, SubscriptionSchema
from server.push.vapid import PushNotConfigured, signer

bp = Blueprint("push", __name__, url_prefix="/api")


@bp.get("/push/key")
@response(PublicKeySchema())
def public_key():
    """Give the VAPID public key the app subscribes with."""
    try:
        return {"public_key": signer().public_key}
    except PushNotConfigured as exc:
        raise ApiError(
            "push_unavailable", "Notifications are not set up on this server.", 503
        ) from exc


@bp.post("/push/subscriptions")
@login_required()
@arguments(SubscriptionSchema())
@response(SubscriptionOutSchema(), 201)
def subscribe(body):
    """Save this device's push subscription, replacing an earlier one; an endpoint that
    another device registered is refused (409 endpoint_taken)."""
    return services.subscribe(
        current_actor(),
        body["endpoint"],
        body["keys"]["p256dh"],
        body["keys"]["auth"],
        body["expirationTime"],
    )


@bp.delete("/push/subscriptions")
@login_required()
@response(None, 204)
def unsubscribe():
    """Remove this device's push subscription."""
    services.unsubscribe(current_actor())
