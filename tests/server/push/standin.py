"""A push service stand-in on 127.0.0.1: it checks the VAPID JWT against the published key
and decrypts the aes128gcm body (RFC 8291) with keys made as a browser makes them, then
answers 201, or whatever the test scripted (410, 429 with Retry-After, 500...).
"""

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_BODY = 4096


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


class BrowserKeys:
    """What `pushManager.subscribe()` makes: a P-256 key pair and a 16-byte auth secret."""

    def __init__(self, private_value: int | None = None, auth: bytes | None = None):
        self.private_key = (
            ec.derive_private_key(private_value, ec.SECP256R1())
            if private_value
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.auth = auth or os.urandom(16)
        self.public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription_json(self, endpoint: str) -> dict:
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(self.public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 + RFC 8188, as the browser does it; raises ValueError when it fails."""
        if len(body) < 21:
            raise ValueError("body shorter than the aes128gcm header")
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        server_public = body[21 : 21 + idlen]
        ciphertext = body[21 + idlen :]
        if idlen != 65 or rs < 18:
            raise ValueError("bad aes128gcm header")
        try:
            server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public)
        except ValueError as exc:
            raise ValueError("key id is not a P-256 point") from exc
        shared = self.private_key.exchange(ec.ECDH(), server_key)
        prk_key = _hkdf_extract(self.auth, shared)
        ikm = _hkdf_expand(prk_key, b"WebPush: info\x00" + self.public + server_public, 32)
        prk = _hkdf_extract(salt, ikm)
        cek = _hkdf_expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
        base_nonce = int.from_bytes(_hkdf_expand(prk, b"Content-Encoding: nonce\x00", 12), "big")
        records = [ciphertext[i : i + rs] for i in range(0, len(ciphertext), rs)]
        plain = b""
        for seq, record in enumerate(records):
            nonce = (base_nonce ^ seq).to_bytes(12, "big")
            try:
                chunk = AESGCM(cek).decrypt(nonce, record, None)
            except InvalidTag as exc:
                raise ValueError("record does not decrypt") from exc
            chunk = chunk.rstrip(b"\x00")
            last = seq == len(records) - 1
            if not chunk or chunk[-1:] != (b"\x02" if last else b"\x01"):
                raise ValueError("bad padding delimiter")
            plain += chunk[:-1]
        return plain


def verify_vapid(header: str, public_key_b64: str | None, audience: str, now: float) -> dict:
    """Check `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292); the JWT's claims."""
    scheme, _, params = (header or "").partition(" ")
    if scheme.lower() != "vapid":
        raise PermissionError("not a vapid Authorization header")
    parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    if public_key_b64 is not None and key != public_key_b64:
        raise PermissionError("k is not the published key")
    try:
        signing_input, _, signature = token.rpartition(".")
        header_b64, _, claims_b64 = signing_input.partition(".")
        jwt_header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        raw = unb64url(signature)
    except ValueError as exc:
        raise PermissionError("malformed JWT") from exc
    if jwt_header.get("alg") != "ES256" or len(raw) != 64:
        raise PermissionError("JWT is not ES256")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise PermissionError("bad JWT signature") from exc
    if claims.get("aud") != audience:
        raise PermissionError(f"aud {claims.get('aud')!r} is not {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        raise PermissionError("exp is not within the next 24 hours")
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https://")):
        raise PermissionError("sub is neither mailto: nor https:")
    return claims


@dataclass
class Message:
    """One push the stand-in accepted, decrypted."""

    name: str
    payload: dict
    ttl: int
    urgency: str | None
    topic: str | None
    body_length: int
    claims: dict


@dataclass
class Script:
    status: int
    retry_after: str | None = None


@dataclass
class State:
    keys: dict = field(default_factory=dict)
    scripts: dict = field(default_factory=lambda: defaultdict(deque))
    received: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    attempts: dict = field(default_factory=lambda: defaultdict(int))
    verified: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):
        pass

    def _answer(self, status, headers=None, body=b""):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_stats":
            state = self.server.state
            with state.lock:
                stats = {
                    "received": len(state.received),
                    "rejected": [list(r) for r in state.rejected[:20]],
                    "rejected_count": len(state.rejected),
                    "distinct": len({(m.name, m.payload.get("event")) for m in state.received}),
                    "max_body": max((m.body_length for m in state.received), default=0),
                }
            self._answer(200, {"Content-Type": "application/json"}, json.dumps(stats).encode())
        else:
            self._answer(404)

    def do_POST(self):
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        name = self.path.rsplit("/", 1)[-1]
        keys = state.keys.get(name)
        if not self.path.startswith("/push/") or keys is None:
            self._answer(404)
            return
        with state.lock:
            state.attempts[name] += 1
        try:
            claims = self._check(body)
            payload = json.loads(keys.decrypt(body))
        except PermissionError as exc:
            self._reject(name, 403, str(exc))
            return
        except ValueError as exc:
            self._reject(name, 400, str(exc))
            return
        except OverflowError as exc:
            self._reject(name, 413, str(exc))
            return
        with state.lock:
            script = state.scripts[name].popleft() if state.scripts[name] else Script(201)
            if script.status == 201:
                state.received.append(
                    Message(
                        name,
                        payload,
                        int(self.headers["TTL"]),
                        self.headers.get("Urgency"),
                        self.headers.get("Topic"),
                        len(body),
                        claims,
                    )
                )
        headers = {"Location": f"{self.server.origin}/message/{name}"}
        if script.retry_after is not None:
            headers["Retry-After"] = script.retry_after
        self._answer(script.status, headers)

    def _check(self, body) -> dict:
        state = self.server.state
        if len(body) > MAX_BODY:
            raise OverflowError(f"{len(body)} bytes is more than {MAX_BODY}")
        ttl = self.headers.get("TTL", "")
        if not ttl.isdigit():
            raise ValueError("TTL header missing")
        if self.headers.get("Content-Encoding") != "aes128gcm":
            raise ValueError("Content-Encoding is not aes128gcm")
        urgency = self.headers.get("Urgency")
        if urgency not in (None, "very-low", "low", "normal", "high"):
            raise ValueError("bad Urgency")
        topic = self.headers.get("Topic")
        if topic is not None and (
            len(topic) > 32
            or not all(c.isalnum() or c in "-_" for c in topic)
            or not topic.isascii()
        ):
            raise ValueError("bad Topic")
        auth = self.headers.get("Authorization", "")
        now = time.time()
        # Real push services cache verified tokens too; expiry is still checked each time.
        cached = state.verified.get(auth)
        if cached is None:
            cached = verify_vapid(auth, self.server.vapid_public_key, self.server.origin, now)
            state.verified[auth] = cached
        elif cached["exp"] <= now:
            raise PermissionError("JWT expired")
        return cached

    def _reject(self, name, status, reason):
        with self.server.state.lock:
            self.server.state.rejected.append((name, status, reason))
        self._answer(status, {"Content-Type": "text/plain"}, reason.encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class PushServiceStandin:
    """A threaded HTTP push service on 127.0.0.1 (a random port), for `with` blocks."""

    def __init__(self, vapid_public_key: str | None = None, port: int = 0):
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.state = State()
        self.server.vapid_public_key = vapid_public_key
        self.origin = self.server.origin = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = None

    @property
    def state(self) -> State:
        return self.server.state

    @property
    def received(self) -> list[Message]:
        with self.state.lock:
            return list(self.state.received)

    @property
    def rejected(self) -> list:
        with self.state.lock:
            return list(self.state.rejected)

    def set_vapid_key(self, public_key: str):
        self.server.vapid_public_key = public_key

    def add(self, name: str, keys: BrowserKeys | None = None) -> BrowserKeys:
        keys = keys or BrowserKeys()
        self.state.keys[name] = keys
        return keys

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def subscription(self, name: str) -> dict:
        """A fresh browser-made subscription on this service, as PushSubscription.toJSON()."""
        return self.add(name).subscription_json(self.endpoint(name))

    def script(self, name: str, *statuses: int, retry_after: str | None = None):
        """The next answers for `name`, in order (201 after they run out)."""
        with self.state.lock:
            for status in statuses:
                self.state.scripts[name].append(Script(status, retry_after))

    def attempts(self, name: str) -> int:
        with self.state.lock:
            return self.state.attempts[name]

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
