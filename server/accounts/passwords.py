"""Password hashing with Argon2id (slow on purpose; cost from config)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verified against when the phone is unknown, so both failures take the same time.
_DUMMY_PASSWORD = "not-a-real-password"


def _hasher():
    cfg = current_app.config
    key = (cfg["PASSWORD_TIME_COST"], cfg["PASSWORD_MEMORY_COST"])
    cache = current_app.extensions.setdefault("password_hashers", {})
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=1)
    return cache[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None:
        # Made once per cost setting: hashing on every call would double the time of
        # an unknown phone's answer and give it away.
        cache = current_app.extensions.setdefault("password_dummy_hashes", {})
        key = (hasher.time_cost, hasher.memory_cost)
        if key not in cache:
            cache[key] = hasher.hash(_DUMMY_PASSWORD)
        password_hash = cache[key]
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Was this hash made with other costs than today's (so it should be made again)?"""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
