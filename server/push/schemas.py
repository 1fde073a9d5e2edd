"""Schemas at the edge of the push API, and the check that keeps endpoints on push services."""

import ipaddress
from urllib.parse import urlsplit, urlunsplit

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


def _canonical_host(host: str) -> str | None:
    """The host as the server will connect to it: lower case, IDNA (punycode) for names,
    brackets for IPv6; None when it is no valid host."""
    try:
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def endpoint_problem(url: str, allowed) -> str | None:
    """Why the server must not post to `url`, or None when it is a listed push service.

    The address is parsed and put back together (host lower-cased and IDNA-encoded); any
    address that does not come back exactly as sent is refused, so the host the check sees
    is the host the sender connects to. Refused besides: anything but printable ASCII
    (control characters, whitespace), backslashes, userinfo, percent-escapes or an empty
    port in the authority, a fragment, and an explicit port. https to a listed host; plain
    http (and a port) only to a loopback host that is itself listed (a stand-in push
    service on a developer's machine or in tests).
    """
    invalid = "Not a valid push service address."
    if not url.isascii() or not url.isprintable() or " " in url or "\\" in url:
        return invalid
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Not a valid web address."
    if parts.scheme not in ("https", "http"):
        return "A push service address must start with https://."
    host = _canonical_host(parts.hostname or "")
    if not host or "@" in parts.netloc or "%" in parts.netloc or parts.fragment:
        return invalid
    netloc = host if port is None else f"{host}:{port}"
    if urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")) != url:
        return invalid
    bare = host.strip("[]")
    if not _host_listed(bare, allowed):
        return "This push service is not allowed."
    if _is_loopback(bare):
        return None
    if parts.scheme != "https":
        return "A push service address must start with https://."
    if port is not None:
        return "A push service address has no port."
    return None


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
