"""Login limits against a stranger who knows a phone number: a few wrong passwords from
their address no longer lock the owner out everywhere, and guessing from many addresses
is slowed by a growing delay (answered 429 with Retry-After, never a sleep).

Time is the test's: the login reads `now_ms` from server.accounts.services, replaced here
by a clock the test moves, so a 15-minute window passes in no time.
"""

import pytest

from server.accounts import services
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
    monkeypatch.setattr(services, "now_ms", clock)
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
