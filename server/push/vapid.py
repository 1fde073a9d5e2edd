"""The server's VAPID key pair: from config, or made once into instance/ by `vapid-keys`."""

import base64
import os
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid02

KEY_FILE = "vapid_private_key.pem"
# Push services refuse a VAPID token that expires more than 24 h ahead; a token is
# reused for a few hours, then signed again (signing each message would cost as much
# as encrypting it).
TOKEN_SECONDS = 12 * 3600
REUSE_SECONDS = 6 * 3600


class PushNotConfigured(RuntimeError):
    """No VAPID key in the config nor in instance/: run `flask --app server vapid-keys`."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The uncompressed point, base64url: what `applicationServerKey` takes in the browser."""
    return b64url(
        private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A PEM key, or base64url of the raw 32-byte scalar (what most Web Push tools print)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = b64url_decode(text)
        if len(raw) != 32:
            raise ValueError("VAPID_PRIVATE_KEY is neither PEM nor a 32-byte base64url key.")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("A VAPID key must be an ECDSA P-256 key.")
    return key


def make_key_file(instance_path: str) -> tuple[str, bool]:
    """Write a new key pair into instance/ unless one is there; (public key, made now)."""
    path = Path(instance_path) / KEY_FILE
    if path.exists():
        return public_key_b64(parse_private_key(path.read_text())), False
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes racing to make the key cannot both win.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return public_key_b64(key), True


class VapidSigner:
    """Signs `Authorization: vapid t=<JWT>, k=<public key>` headers, one per push origin."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str):
        self._vapid = Vapid02(private_key)
        self.subject = subject
        self.public_key = public_key_b64(private_key)
        self._tokens: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def authorization(self, origin: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        with self._lock:
            cached = self._tokens.get(origin)
            if cached and cached[0] > now:
                return cached[1]
            claims = {"aud": origin, "sub": self.subject, "exp": int(now) + TOKEN_SECONDS}
            header = self._vapid.sign(claims)["Authorization"]
            self._tokens[origin] = (now + REUSE_SECONDS, header)
            return header


_signers: dict[tuple[str, str], VapidSigner] = {}


def signer(app=None) -> VapidSigner:
    """The signer for the app's configured key (cached per key and subject)."""
    app = app or current_app
    text = app.config.get("VAPID_PRIVATE_KEY")
    if not text:
        path = Path(app.instance_path) / KEY_FILE
        if not path.exists():
            raise PushNotConfigured(
                "No VAPID key: set VAPID_PRIVATE_KEY or run `flask --app server vapid-keys`."
            )
        text = path.read_text()
    subject = app.config["VAPID_SUBJECT"]
    cache_key = (text, subject)
    if cache_key not in _signers:
        private_key = parse_private_key(text)
        expected = app.config.get("VAPID_PUBLIC_KEY")
        if expected and expected.rstrip("=") != public_key_b64(private_key):
            raise PushNotConfigured("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
        _signers[cache_key] = VapidSigner(private_key, subject)
    return _signers[cache_key]
