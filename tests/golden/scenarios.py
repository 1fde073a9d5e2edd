"""The recorded scenarios: each starts from an empty database at T0 and returns its exchanges.

A scenario's phone is the app's sync client (world.AppPhone); booth-mates' phones only set
the scene, and their requests are not part of the record.
"""

import base64
import json

import psycopg
from sqlalchemy import exc as sa_exc

from server.syncing import push
from tests.golden.world import AppPhone, exchange, fixed_id

DEVICE = fixed_id(1, 1)
OTHER_DEVICE = fixed_id(1, 2)
PRESIDENT_DEVICE = fixed_id(1, 3)
PHONE_NUMBER = "9000000001"
PASSWORD = "booth-demo"


def member_id(n: int) -> str:
    return fixed_id(2, n)


def member(booth, name="राम कुमार", **kw) -> dict:
    return {
        "booth_id": booth.id,
        "name": name,
        "age": 24,
        "gender": "male",
        "phone": "9876543210",
        "consent": True,
        **kw,
    }


def volunteer(world, booth=None, phone=PHONE_NUMBER):
    g = world.make.geo()
    return world.make.user("volunteer", booth or g.b1, phone=phone, name="सुनीता देवी")


def phones(world):
    """The recorded phone (a volunteer of booth 1) and a booth-mate's."""
    g = world.make.geo()
    mine = AppPhone(world, volunteer(world), DEVICE)
    mate = world.make.user("volunteer", g.b1, phone="9000000002", name="अमित महतो")
    return g, mine, AppPhone(world, mate, OTHER_DEVICE)


def recorded(phone, about: str) -> dict:
    return {
        "about": about,
        "device_id": phone.device_id,
        "steps": phone.steps,
        "exchanges": phone.exchanges,
    }


# ---------------------------------------------------------------- sessions


def register_device(world):
    world.make.geo()
    volunteer(world)
    body = {
        "phone": PHONE_NUMBER,
        "password": PASSWORD,
        "device_id": DEVICE,
        "device_name": "golden phone",
    }
    done = exchange(world.client, "POST", "/api/auth/login", body=body)
    return {
        "about": "Log in on a new device: the device is registered, a token pair comes back.",
        "device_id": DEVICE,
        "steps": [{"login": body}],
        "exchanges": [done],
    }


def login_throttled(world):
    world.make.geo()
    volunteer(world)
    body = {
        "phone": PHONE_NUMBER,
        "password": "wrong-password",
        "device_id": DEVICE,
        "device_name": "golden phone",
    }
    done = []
    for _ in range(6):
        world.tick()
        done.append(exchange(world.client, "POST", "/api/auth/login", body=body))
    return {
        "about": "Wrong passwords from a new device: 401 five times, then 429 with Retry-After.",
        "device_id": DEVICE,
        "steps": [{"login": body}] * 6,
        "exchanges": done,
    }


# ---------------------------------------------------------------- push


def push_applied(world):
    g, phone, _ = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    phone.sync()
    return recorded(phone, "A new member is pushed (applied) and pulled back.")


def push_duplicate(world):
    g, phone, _ = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    phone.lose_next_answer = True
    phone.sync()
    phone.sync()
    return recorded(
        phone, "The answer to a push is lost; the same batch is sent again and answered duplicate."
    )


def push_merged(world):
    g, phone, mate = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    phone.sync()
    mate.edit("member", member_id(1), {"age": 30}, base_version=1)
    mate.sync()
    phone.edit("member", member_id(1), {"notes": "बैठक में नियमित आते हैं"})
    phone.sync()
    return recorded(
        phone,
        "A booth-mate changed the age meanwhile; our notes edit on the old version is merged.",
    )


def push_conflict(world):
    g, phone, mate = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    phone.sync()
    phone.edit("member", member_id(1), {"name": "राम कुमार महतो"})
    mate.edit("member", member_id(1), {"name": "रामू"}, base_version=1)
    mate.sync()
    phone.sync()
    return recorded(
        phone,
        "Both phones renamed the member; the booth-mate's later stamp wins "
        "and our name is kept as a conflict record, pulled with the member.",
    )


def push_rejected(world):
    g, phone, _ = phones(world)
    elsewhere = world.make.user("volunteer", g.b3, phone="9000000003", name="बिरसा मुंडा")
    outsider = AppPhone(world, elsewhere, fixed_id(1, 4))
    outsider.edit("member", member_id(9), member(g.b3, name="दूर का सदस्य"))
    outsider.sync()
    phone.edit("member", member_id(1), member(g.b1, age=17))
    phone.edit("member", member_id(9), {"notes": "x"}, base_version=1)
    phone.edit("member", member_id(2), member(g.b1, name="सीमा", gender="female"))
    phone.sync()
    return recorded(
        phone,
        "Too young (validation_error), another booth's member (not_found, "
        "as if it did not exist), then a good one: only the good one is applied.",
    )


def squad_full(world):
    g, phone, mate = phones(world)
    for n in range(20):
        mate.edit("member", member_id(100 + n), member(g.b1, name=f"सदस्य {n}"))
    mate.sync()
    phone.edit("member", member_id(1), member(g.b1))
    phone.sync()
    return recorded(phone, "The booth has 20 members: the 21st is applied as waitlisted.")


def push_delete(world):
    g, phone, _ = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    phone.sync()
    phone.edit("member", member_id(1), op="delete")
    phone.sync()
    return recorded(phone, "A member is created, then deleted.")


def database_unavailable(world):
    g, phone, _ = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    lost = sa_exc.OperationalError(
        "SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection")
    )
    real = push.push_once

    def fail(*_args, **_kw):
        raise lost

    push.push_once = fail
    try:
        phone.sync()
    finally:
        push.push_once = real
    wait = int(phone.exchanges[-1]["response"]["headers"]["Retry-After"]) * 1000
    phone.sync(wait_ms=wait + 1000)
    return recorded(
        phone,
        "The database is gone for a moment: 503 database_unavailable with "
        "Retry-After; after the delay the same batch is applied.",
    )


def push_retry(world):
    g, phone, _ = phones(world)
    phone.edit("member", member_id(1), member(g.b1))
    real = push.before_commit

    def deadlock(_applied):
        raise sa_exc.OperationalError(
            "UPDATE devices", {}, psycopg.errors.DeadlockDetected("deadlock detected")
        )

    push.before_commit = deadlock
    try:
        phone.sync()
    finally:
        push.before_commit = real
    wait = int(phone.exchanges[-1]["response"]["headers"]["Retry-After"]) * 1000
    phone.sync(wait_ms=wait + 1000)
    return recorded(
        phone,
        "The push keeps losing a deadlock: 503 retry with Retry-After; "
        "the same batch is applied after the delay.",
    )


# ---------------------------------------------------------------- pull


def pull_pages(world):
    g, phone, mate = phones(world)
    for n in range(5):
        mate.edit("member", member_id(100 + n), member(g.b1, name=f"सदस्य {n}"))
    mate.sync()
    phone.pull_limit = 2
    phone.pull_only()
    return recorded(
        phone,
        "Five members pulled two a page (the app asks for 500): has_more "
        "and the next cursor until the last page.",
    )


def forged_cursor(world):
    g, phone, mate = phones(world)
    mate.edit("member", member_id(100), member(g.b1))
    mate.sync()
    forged = base64.urlsafe_b64encode(json.dumps({"v": 1, "lo": "0"}).encode()).decode()
    phone.set_cursor(forged)
    phone.pull_only()
    return recorded(phone, "A cursor the server never made: reset, then a pull from the start.")


def foreign_cursor(world):
    g, phone, mate = phones(world)
    mate.edit("member", member_id(100), member(g.b1))
    mate.sync()
    phone.set_cursor(mate.cursor)
    phone.pull_only()
    return recorded(phone, "A cursor made for another user: reset, then a pull from the start.")


SCENARIOS = {
    "register_device": register_device,
    "login_throttled": login_throttled,
    "push_applied": push_applied,
    "push_duplicate": push_duplicate,
    "push_merged": push_merged,
    "push_conflict": push_conflict,
    "push_rejected": push_rejected,
    "squad_full": squad_full,
    "push_delete": push_delete,
    "database_unavailable": database_unavailable,
    "push_retry": push_retry,
    "pull_pages": pull_pages,
    "forged_cursor": forged_cursor,
    "foreign_cursor": foreign_cursor,
}
