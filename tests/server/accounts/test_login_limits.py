"""Login limits against a stranger who knows a phone number: a few wrong passwords from
their address no longer lock the owner out everywhere, and guessing from many addresses
is slowed by a growing delay (answered 429 with Retry-After, never a sleep).

Time is the test's: the login reads `now_ms` from server.accounts.sessions, replaced here
by a clock the test moves, so a 15-minute window passes in no time.
"""

import uuid

import pytest
from sqlalchemy import select

from server.accounts import sessions
from server.accounts.models import Device
from server.extensions import db
from tests.factories import PASSWORD

WINDOW_S = 900
OWNER_ADDRESS = "10.1.2.3"


class Clock:
    def __init__(self, ms):
        self.ms = ms

    def __call__(self):
        return self.ms

    def advance(self, seconds):
        self.ms += int(seconds * 1000)


@pytest.fixture
def clock(make, monkeypatch):
    clock = Clock(make.now())
    monkeypatch.setattr(sessions, "now_ms", clock)
    return clock


@pytest.fixture
def defaults(settings):
    """The shipped limits (server/config.py), whatever an earlier test set."""
    settings(
        LOGIN_LIMIT_PER_PHONE=5,
        LOGIN_LIMIT_PER_ADDRESS=30,
        LOGIN_LIMIT_WINDOW_SECONDS=WINDOW_S,
        LOGIN_SLOWDOWN_AFTER=5,
        LOGIN_SLOWDOWN_MAX_SECONDS=60,
    )


def test_five_wrong_passwords_from_a_stranger_do_not_lock_the_owner_out(
    make, login, clock, defaults
):
    user = make.user()
    for _ in range(5):
        assert login(user.phone, password="guess-123", address="10.6.6.6").status_code == 401
        clock.advance(1)

    # The stranger's own address is refused for this phone for the rest of the window ...
    refused = login(user.phone, address="10.6.6.6")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60
    # ... but the owner, from their own address, logs in at once with the right password.
    assert login(user.phone, address=OWNER_ADDRESS).status_code == 200


def test_the_owner_waits_seconds_at_most_while_many_addresses_guess(make, login, clock, defaults):
    user = make.user()
    for n in range(12):
        answer = login(user.phone, password="guess-123", address=f"10.7.0.{n}")
        if answer.status_code == 429:
            clock.advance(int(answer.headers["Retry-After"]))
            answer = login(user.phone, password="guess-123", address=f"10.7.0.{n}")
        assert answer.status_code == 401

    owner = login(user.phone, address=OWNER_ADDRESS)
    # Refused only for a short while, with the wait said; then the right password works.
    assert owner.status_code == 429
    wait = int(owner.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert owner.json["error"]["fields"]["retry_after"] == wait
    clock.advance(wait)
    assert login(user.phone, address=OWNER_ADDRESS).status_code == 200


def test_guessing_from_many_addresses_is_slowed_by_a_doubling_delay(make, login, clock, defaults):
    user = make.user()
    start, guesses, waits, n = clock.ms, 0, [], 0
    while clock.ms - start < WINDOW_S * 1000:
        n += 1  # a fresh address for every attempt: the per-address limits never bite
        answer = login(user.phone, password="guess-123", address=f"10.8.{n // 250}.{n % 250}")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock.advance(waits[-1])
        else:
            assert answer.status_code == 401
            guesses += 1

    # 5 free failures at 0 s, then waits of 1, 2, 4 ... 32 s (guesses at 1, 3, 7, 15, 31
    # and 63 s), then one guess a minute: at 123, 183 ... 843 s. A per-phone lockout let
    # 5 guesses in, and locked the owner out with them.
    assert waits[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert max(waits) == 60
    assert guesses == 5 + 6 + 13


def test_the_slowdown_can_be_turned_off(make, login, clock, settings):
    settings(LOGIN_LIMIT_PER_PHONE=100, LOGIN_SLOWDOWN_AFTER=1, LOGIN_SLOWDOWN_MAX_SECONDS=0)
    user = make.user()
    for n in range(5):
        assert login(user.phone, password="wrong-one", address=f"10.9.0.{n}").status_code == 401
    assert login(user.phone, password=PASSWORD, address=OWNER_ADDRESS).status_code == 200


def test_the_owners_success_gives_the_strangers_address_no_fresh_allowance(
    make, login, clock, defaults
):
    user = make.user()
    for _ in range(5):
        assert login(user.phone, password="guess-123", address="10.6.6.6").status_code == 401
        clock.advance(1)
    assert login(user.phone, address=OWNER_ADDRESS).status_code == 200

    assert login(user.phone, password="guess-123", address="10.6.6.6").status_code == 429


# The per-phone delay spares the account's own devices: a right password from the owner's
# phone on a new address is never refused for strangers' failures, and a guesser on a new
# device is slowed. (Any answer that differed between a right and a wrong password during
# the delay would tell the guesser which guess was right, so the delay is keyed on the
# device, never on the password.)


def _guess_from_fresh_addresses(login, clock, user, count, prefix="10.20.0"):
    """`count` wrong passwords, each from a fresh address and a fresh device."""
    for n in range(count):
        answer = login(user.phone, password="guess-123", address=f"{prefix}.{n}")
        if answer.status_code == 429:
            clock.advance(int(answer.headers["Retry-After"]))
            answer = login(user.phone, password="guess-123", address=f"{prefix}.{n}")
        assert answer.status_code == 401


def test_reviewer_scenario_the_owners_known_device_logs_in_from_a_new_address(
    make, login, clock, defaults
):
    user = make.user()
    phone = make.device(user)
    for _ in range(3):
        assert login(user.phone, password="guess-123", address="10.0.0.1").status_code == 401
    for _ in range(2):
        assert login(user.phone, password="guess-123", address="10.0.0.2").status_code == 401

    # The owner's phone, on a new mobile address, is let in with the right password at once.
    assert login(user.phone, device_id=phone.id, address="10.0.0.3").status_code == 200


def test_reviewer_scenario_an_unknown_device_on_a_new_address_is_slowed(
    make, login, clock, defaults
):
    user = make.user()
    make.device(user)
    for _ in range(3):
        assert login(user.phone, password="guess-123", address="10.0.0.1").status_code == 401
    for _ in range(2):
        assert login(user.phone, password="guess-123", address="10.0.0.2").status_code == 401

    # Right password or not, a device new to the account waits: the answer says nothing
    # about the password.
    for password in (PASSWORD, "guess-123"):
        refused = login(user.phone, password=password, address="10.0.0.3")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_owners_known_device_is_never_kept_out_while_strangers_guess(
    make, login, clock, defaults
):
    user = make.user()
    phone = make.device(user)
    for round_ in range(3):
        _guess_from_fresh_addresses(login, clock, user, 12, prefix=f"10.21.{round_}")
        # The owner's phone, from yet another address, gets in at once every time ...
        owner = login(user.phone, device_id=phone.id, address=f"10.22.0.{round_}")
        assert owner.status_code == 200, owner.json
        # ... and its success does not lift the delay for a guesser on a new device.
        guess = login(user.phone, password="guess-123", address=f"10.23.0.{round_}")
        assert guess.status_code == 429
        assert 1 <= int(guess.headers["Retry-After"]) <= 60


def test_guesses_from_fresh_addresses_and_fresh_devices_stay_slowed(make, login, clock, defaults):
    user = make.user()
    make.device(user)
    _guess_from_fresh_addresses(login, clock, user, 12)
    # Every new address and new device, one after another without waiting, is refused.
    for n in range(10):
        answer = login(user.phone, password="guess-123", address=f"10.24.0.{n}")
        assert answer.status_code == 429
        assert 1 <= int(answer.headers["Retry-After"]) <= 60


def test_a_revoked_device_of_the_owner_is_not_spared_the_delay(make, login, clock, defaults):
    user = make.user()
    phone = make.device(user)
    phone.revoked_at = clock.ms
    db.session.commit()
    _guess_from_fresh_addresses(login, clock, user, 6)

    assert login(user.phone, device_id=phone.id, address="10.25.0.1").status_code == 429


def test_a_device_of_another_account_is_not_spared_the_delay(make, login, clock, defaults):
    user, other = make.user(), make.user()
    others_phone = make.device(other)
    _guess_from_fresh_addresses(login, clock, user, 6)

    answer = login(user.phone, password="guess-123", device_id=others_phone.id, address="10.26.0.1")
    assert answer.status_code == 429


def test_the_known_device_still_meets_the_limit_per_phone_and_address(make, login, clock, defaults):
    # Device ids are not secret (they are in the HLCs of conflict records): one known to an
    # attacker skips the delay, but 5 guesses per address per window still bound it.
    user = make.user()
    phone = make.device(user)
    for _ in range(5):
        answer = login(user.phone, password="guess-123", device_id=phone.id, address="10.27.0.1")
        assert answer.status_code == 401
    refused = login(user.phone, password="guess-123", device_id=phone.id, address="10.27.0.1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60


def test_an_upper_case_device_id_is_the_same_device(make, login, clock, defaults):
    user = make.user()
    device_id = str(uuid.uuid4())
    assert login(user.phone, device_id=device_id).status_code == 200
    _guess_from_fresh_addresses(login, clock, user, 6)

    # Upper case, from a new address: the same device (spared the delay), not a second row.
    answer = login(user.phone, device_id=device_id.upper(), address="10.28.0.1")
    assert answer.status_code == 200, answer.json
    db.session.expire_all()
    assert db.session.scalars(select(Device.id).where(Device.user_id == user.id)).all() == [
        device_id
    ]
