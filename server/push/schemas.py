"""Schemas at the edge of the push API, and the check that keeps endpoints on push services."""

import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates

from server.push.vapid import b64url_decode
from server.ranges import MS_ANY_RANGE

LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_listed(host: str, allowed) -> bool:
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def endpoint_problem(url: str, allowed) -> str | None:
    """Why the server must not post to `url`, or None when it is a listed push service.

    https on the default port to a listed host; plain http only to a loopback host that is
    itself listed (a stand-in push service on a developer's machine or in tests).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Not a valid web address."
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        return "Not a valid push service address."
    if not _host_listed(host, allowed):
        return "This push service is not allowed."
    if parts.scheme == "https":
        if port not in (None, 443) and not _is_loopback(host):
            return "This push service is not allowed."
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    return "A push service address must start with https://."


def _key(length, what):
    def check(value):
        try:
            raw = b64url_decode(value)
        except ValueError as exc:
            raise ValidationError(f"Not a base64url {what}.") from exc
        if len(raw) != length:
            raise ValidationError(f"A {what} is {length} bytes.")
        return raw

    return check


class SubscriptionKeysSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    p256dh = fields.String(
        required=True,
        metadata={
            "description": "The browser's P-256 public key (65 bytes), base64url.",
            "pattern": "^[A-Za-z0-9_-]{87}=?$",
        },
    )
    auth = fields.String(
        required=True,
        metadata={
            "description": "The 16-byte auth secret, base64url.",
            "pattern": "^[A-Za-z0-9_-]{22}(==)?$",
        },
    )

    @validates("p256dh")
    def _p256dh(self, value, **_kw):
        raw = _key(65, "P-256 public key")(value)
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError as exc:
            raise ValidationError("Not a P-256 public key.") from exc

    @validates("auth")
    def _auth(self, value, **_kw):
        _key(16, "auth secret")(value)


class SubscriptionSchema(Schema):
    """The browser's `PushSubscription.toJSON()`, as the app sends it."""

    class Meta:
        # Browsers may add members; only these three matter.
        unknown = EXCLUDE

    endpoint = fields.String(
        required=True,
        metadata={
            "description": "An https address on a push service the server allows.",
            "format": "uri",
            "maxLength": 1024,
            "pattern": "^https?://",
        },
    )
    keys = fields.Nested(SubscriptionKeysSchema, required=True)
    expirationTime = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=MS_ANY_RANGE,
        metadata={"description": "Unix ms, or null."},
    )

    @validates("endpoint")
    def _endpoint(self, value, **_kw):
        if len(value) > 1024:
            raise ValidationError("At most 1024 characters.")
        problem = endpoint_problem(value, current_app.config["PUSH_ALLOWED_HOSTS"])
        if problem:
            raise ValidationError(problem)


class SubscriptionOutSchema(Schema):
    id = fields.Integer(required=True)
    endpoint = fields.String(required=True)
    expires_at = fields.Integer(required=True, allow_none=True)
    created_at = fields.Integer(required=True)
    updated_at = fields.Integer(required=True)


class PublicKeySchema(Schema):
    public_key = fields.String(required=True)
