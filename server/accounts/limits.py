"""Login limits: slow password guessing down without letting a stranger lock an owner out.

Three limits, checked before the password is (failures are counted in a sliding window of
`LOGIN_LIMIT_WINDOW_SECONDS`, 900 by default; refusals are `429 too_many_requests` with
`Retry-After` and `fields.retry_after` in seconds, and do not count as failures):

1. **One phone from one address** (`LOGIN_LIMIT_PER_PHONE`, 5): after that many failures
   for a phone from an address, that address is refused for that phone until the oldest
   counted failure leaves the window. Whoever guesses from one address gets 5 guesses.
2. **One address, any phones** (`LOGIN_LIMIT_PER_ADDRESS`, 30): as (1), across phones.
3. **One phone, any addresses, from a device new to the account: a growing delay, never
   a lockout.** Once a phone has `LOGIN_SLOWDOWN_AFTER` (5) failures in the window, from
   whatever addresses and devices, the next attempt for it from a device this account has
   never logged in on must wait 1 s after the latest failure, then 2 s, 4 s, ... doubling
   with each further failure up to `LOGIN_SLOWDOWN_MAX_SECONDS` (60); an attempt sooner
   is answered 429 with the seconds still to wait. Guessing from many addresses is
   slowed to one guess a minute (about 25 in a 15-minute window). 0 as the maximum
   turns (3) off.

Why the delay spares the account's own devices. Any answer that differs between a right
and a wrong password during a delay would tell the guesser whether the guess was right,
so the delay cannot let the right password through and refuse the wrong ones: it must
refuse both, before the password is looked at. It is therefore keyed on something the
owner has and a stranger usually has not: the `device_id` an installation makes once and
keeps, while its address changes with the mobile network. An attempt whose `device_id` is
one of this account's devices (a row in `devices` for this user, not revoked) is exempt
from (3): its password is checked at once, and only (1) and (2) apply. So strangers'
failures never keep the owner's phone out, from whatever address it comes, and a guesser
on a new device is slowed. A new phone of the owner's waits as a guesser does: at most
`LOGIN_SLOWDOWN_MAX_SECONDS`, and only while guessing is going on.

What an attacker who knows one of the owner's device ids can do. Device ids are not
secret: they appear in the HLCs of conflict records other members of the booth can read.
Presenting one skips (3), so such an attacker is bounded by (1) and (2) alone: 5 guesses
per address per window (and 30 per address across phones), that is, as many guesses as
addresses they control. A revoked device id is not exempt. The attacker cannot lock the
owner's devices out either: they are refused by (1) and (2) only from the attacker's own
addresses.

Nothing here sleeps: a delay is a `429` with a short `Retry-After`, so no worker is held.
The time is the `now` the caller passes (tests control it). A successful login clears the
failures of its own phone and address only: the owner logging in hands a stranger's
address no fresh allowance.
"""

import math

from flask import current_app
from sqlalchemy import and_, delete, func, select

from server.accounts.models import LoginAttempt
from server.errors import ApiError
from server.extensions import db


def check(phone: str, address: str, now: int, known_device: bool = False):
    """Raise 429 when an attempt for `phone` from `address` is not allowed at `now`.

    `known_device`: the attempt comes from a device of this account (not revoked), which
    the per-phone delay (3) spares.
    """
    cfg = current_app.config
    window_ms = cfg["LOGIN_LIMIT_WINDOW_SECONDS"] * 1000
    pair = and_(LoginAttempt.phone == phone, LoginAttempt.address == address)
    wait = max(
        _wait_for_window(pair, cfg["LOGIN_LIMIT_PER_PHONE"], window_ms, now),
        _wait_for_window(
            LoginAttempt.address == address, cfg["LOGIN_LIMIT_PER_ADDRESS"], window_ms, now
        ),
        0 if known_device else _wait_for_slowdown(phone, window_ms, now),
    )
    if wait:
        raise ApiError(
            "too_many_requests",
            "Too many failed logins; wait and try again.",
            429,
            fields={"retry_after": wait},
            headers={"Retry-After": str(wait)},
        )


def record_failure(phone: str, address: str, now: int):
    """Count a failed login (and drop failures that have left the window)."""
    window_ms = current_app.config["LOGIN_LIMIT_WINDOW_SECONDS"] * 1000
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - window_ms))
    db.session.add(LoginAttempt(phone=phone, address=address[:64], at=now))


def clear(phone: str, address: str):
    """A successful login forgets the failures of its own phone and address."""
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.phone == phone, LoginAttempt.address == address[:64]
        )
    )


def slowdown_seconds(failures: int) -> int:
    """How long after the latest failure a phone with `failures` in the window must wait."""
    cfg = current_app.config
    first, cap = cfg["LOGIN_SLOWDOWN_AFTER"], cfg["LOGIN_SLOWDOWN_MAX_SECONDS"]
    if cap <= 0 or failures < first:
        return 0
    # min() before the power would still build a huge int for a huge count: cap the exponent.
    return min(2 ** min(failures - first, 32), cap)


def _wait_for_slowdown(phone, window_ms, now) -> int:
    failures, latest = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.phone == phone, LoginAttempt.at > now - window_ms
        )
    ).one()
    spacing = slowdown_seconds(failures)
    if not spacing:
        return 0
    return max(0, math.ceil((latest + spacing * 1000 - now) / 1000))


def _wait_for_window(condition, limit, window_ms, now) -> int:
    """Seconds until one more attempt is allowed; 0 when it is allowed now."""
    if limit <= 0:
        return 0
    recent = db.session.scalars(
        select(LoginAttempt.at)
        .where(condition, LoginAttempt.at > now - window_ms)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return 0
    # Once the limit-th newest failure leaves the window, one more attempt fits.
    return max(1, math.ceil((recent[-1] + window_ms - now) / 1000))
