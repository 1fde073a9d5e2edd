"""Database failures get the one error shape: 503 with Retry-After, never a 500.

A lost, refused or exhausted database connection is `database_unavailable` on any
endpoint; a push that loses a deadlock is run again inside the server and answered
`retry` only when it keeps losing. Runs on SQLite and PostgreSQL (the failures are
raised where the database would raise them).
"""

import logging
import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from server.extensions import db
from server.roster import services as roster
from server.roster.models import Member
from server.syncing import pull, push, retry
from server.syncing.locks import LockRestart
from tests.server.syncing.phone import Phone, member_fields, new_id

PERSONAL = "9876543210"


def wrapped(orig, cls=sa_exc.OperationalError):
    """How SQLAlchemy raises a driver's error: with the statement and its parameters."""
    return cls("SELECT * FROM members WHERE phone = %(phone)s", {"phone": PERSONAL}, orig)


LOST = {
    "admin_shutdown": wrapped(
        psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    ),
    "server_closed": wrapped(
        psycopg.OperationalError("consuming input failed: server closed the connection")
    ),
    "refused": wrapped(
        psycopg.OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "Connection refused"
        )
    ),
    "closed_connection": wrapped(
        psycopg.InterfaceError("the connection is closed"), sa_exc.InterfaceError
    ),
    "pool_exhausted": sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "sqlite_locked": wrapped(sqlite3.OperationalError("database is locked")),
    "raw_psycopg": psycopg.errors.AdminShutdown("terminating connection"),
}


def raiser(exc):
    def fail(*_args, **_kw):
        raise exc

    return fail


def assert_unavailable(response, caplog):
    assert response.status_code == 503, response.json
    assert response.json == {
        "error": {
            "code": "database_unavailable",
            "message": "The database is not reachable just now; try again shortly.",
            "fields": {},
        }
    }
    assert int(response.headers["Retry-After"]) > 0
    warnings = [r for r in caplog.records if "Database unavailable" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is None  # no stack trace
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PERSONAL not in logged and "SELECT" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", sorted(LOST))
def test_a_lost_database_on_pull_is_503_with_retry_after(app, make, monkeypatch, caplog, case):
    caplog.set_level(logging.INFO)
    phone = Phone(app.test_client(), make, make.user("volunteer"))
    monkeypatch.setattr(pull, "pull_changes", raiser(LOST[case]))
    response = phone.client.get("/api/sync/pull", headers=phone.headers)
    assert_unavailable(response, caplog)


@pytest.mark.parametrize("case", ["admin_shutdown", "closed_connection", "pool_exhausted"])
def test_a_lost_database_on_push_and_on_the_roster_is_503(app, make, monkeypatch, caplog, case):
    caplog.set_level(logging.INFO)
    g = make.geo()
    phone = Phone(app.test_client(), make, make.user("block_president", g.k1))
    monkeypatch.setattr(push, "push_once", raiser(LOST[case]))
    response = phone.push_raw([phone.mutation("member", new_id(), member_fields(g.b1))])
    assert_unavailable(response, caplog)
    caplog.clear()
    monkeypatch.setattr(roster, "list_members", raiser(LOST[case]))
    assert_unavailable(phone.client.get("/api/members", headers=phone.headers), caplog)


def test_an_operational_error_that_is_a_bug_stays_a_500(app, make, monkeypatch, caplog):
    phone = Phone(app.test_client(), make, make.user("volunteer"))
    monkeypatch.setattr(
        pull, "pull_changes", raiser(wrapped(sqlite3.OperationalError("no such table: x")))
    )
    response = phone.client.get("/api/sync/pull", headers=phone.headers)
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"


def deadlock():
    return wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))


@pytest.mark.parametrize("lost_with", ["deadlock", "serialization", "lock_restart"])
def test_a_push_lost_to_a_race_is_run_again_and_applied_once(
    app, make, monkeypatch, caplog, lost_with
):
    caplog.set_level(logging.INFO)
    g = make.geo()
    phone = Phone(app.test_client(), make, make.user("volunteer", g.b1))
    real_hook = push.before_commit
    calls = []
    failure = {
        "deadlock": deadlock(),
        "serialization": wrapped(psycopg.errors.SerializationFailure("could not serialize")),
        "lock_restart": LockRestart("a member moved"),
    }[lost_with]

    def lose_first(applied):
        # Called once the batch is written, before the commit: the first try is lost there.
        calls.append(applied)
        if len(calls) == 1:
            raise failure
        real_hook(applied)

    monkeypatch.setattr(push, "before_commit", lose_first)
    member_id = new_id()
    answer = phone.push(phone.mutation("member", member_id, member_fields(g.b1)))
    assert answer["results"][0]["status"] == "applied"
    assert calls == [1, 1]
    retried = [r for r in caplog.records if "tried again" in r.getMessage()]
    assert len(retried) == 1 and PERSONAL not in retried[0].getMessage()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_a_push_that_keeps_losing_is_503_retry_with_retry_after(app, make, monkeypatch):
    g = make.geo()
    phone = Phone(app.test_client(), make, make.user("volunteer", g.b1))
    calls = []

    def always_lose(actor, mutations, address=None):
        calls.append(1)
        raise deadlock()

    monkeypatch.setattr(push, "push_once", always_lose)
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0)
    response = phone.push_raw([phone.mutation("member", new_id(), member_fields(g.b1))])
    assert response.status_code == 503
    assert response.json["error"]["code"] == "retry"
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert int(response.headers["Retry-After"]) > 0
    assert len(calls) == retry.ATTEMPTS


def test_a_database_lost_after_the_answer_was_made_leaves_the_answer(
    app, make, monkeypatch, caplog
):
    """The soak found it: PostgreSQL restarted between a pull's answer and the end of the
    request, the session's ROLLBACK raised in Flask's teardown and gunicorn sent a 500 in
    place of the answer. The lost connection is discarded; the answer stands."""
    g = make.geo()
    phone = Phone(app.test_client(), make, make.user("volunteer", g.b1))
    phone.send("member", new_id(), member_fields(g.b1))
    scoped = type(db.session)
    original = scoped.remove
    calls = []

    def remove_on_a_lost_connection(self):
        calls.append(1)
        if len(calls) == 1:
            raise LOST["server_closed"]
        return original(self)

    monkeypatch.setattr(scoped, "remove", remove_on_a_lost_connection)
    answers = []

    def pull_as_a_server_thread():
        # A thread of its own has no app context (the test's `make` holds one): the
        # request makes and tears down its own, as under gunicorn.
        answers.append(phone.client.get("/api/sync/pull", headers=phone.headers))

    with caplog.at_level(logging.WARNING):
        worker = threading.Thread(target=pull_as_a_server_thread)
        worker.start()
        worker.join()
    (response,) = answers
    assert response.status_code == 200 and len(response.json["changes"]) == 1
    assert len(calls) >= 2, "the session was ended again after the failed end"
    warned = [r.getMessage() for r in caplog.records if "while ending a request" in r.getMessage()]
    assert warned and PERSONAL not in warned[0]
