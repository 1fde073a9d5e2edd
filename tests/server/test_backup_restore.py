"""Backup and restore, rehearsed (docs/backup.md): phones sync, `pg_dump` is taken, phones
go on and sync more, the dump is restored into a new database and the app is pointed at it.
The phones carry on: their cursors from before the restore are answered `reset` and they
pull again, and what they had sent after the backup (which the restored server has
forgotten) goes out again from their journals and is applied once. Nothing is lost."""

import subprocess
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from server import create_app
from server.extensions import db
from tests.conftest import PG_ADMIN_URL
from tests.server.syncing.outbox_phone import OutboxPhone
from tests.server.syncing.phone import member_fields, new_id

pytestmark = pytest.mark.postgres_only

PG_BIN = Path("/usr/bin")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def restored_database():
    """The name of a new, empty database on the same server; dropped afterwards."""
    name = "booth_restored_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_on(app, database_url):
    """The same app (same secret: the phones' tokens still hold) on another database."""
    config = {
        key: app.config[key]
        for key in ("SECRET_KEY", "PASSWORD_TIME_COST", "PASSWORD_MEMORY_COST", "TESTING")
    }
    return create_app({**config, "SQLALCHEMY_DATABASE_URI": database_url})


class Story:
    """Two volunteers of booth 1 and their block president, and what each typed when."""

    def __init__(self, make, client):
        self.g = g = make.geo()
        self.first = OutboxPhone(client, make, make.user("volunteer", g.b1))
        self.second = OutboxPhone(client, make, make.user("volunteer", g.b1))
        self.president = OutboxPhone(client, make, make.user("block_president", g.k1))
        self.phones = [self.first, self.second, self.president]
        self.ids = {name: new_id() for name in ("m1", "m2", "m3", "m4", "m5", "g1", "n1")}

    def sync_all(self):
        for phone in self.phones:
            phone.sync()

    def before_backup(self):
        b1, i = self.g.b1, self.ids
        self.first.enqueue("member", i["m1"], member_fields(b1, name="सुनीता"))
        self.first.enqueue("member", i["m2"], member_fields(b1, name="बिरसा", epic="JHA1234567"))
        self.second.enqueue("member", i["m3"], member_fields(b1, name="सोमरा"))
        self.sync_all()

    def after_backup(self):
        """Changes the server acknowledges, and then loses with the restore; and one still
        waiting on a phone without signal when the server is restored."""
        b1, i = self.g.b1, self.ids
        self.first.enqueue("member", i["m4"], member_fields(b1, name="फूलमनी", epic="JHB7654321"))
        self.first.enqueue("member", i["m1"], {"name": "सुनीता देवी"}, base=1)
        grievance = {"booth_id": b1.id, "category": "water", "description": "चापाकल खराब है"}
        self.second.enqueue("grievance", i["g1"], grievance)
        self.second.enqueue(
            "grievance_note", i["n1"], {"grievance_id": i["g1"], "text": "मुखिया को बताया"}
        )
        self.sync_all()
        self.president.enqueue("member", i["m2"], {"status": "approved"}, base=1)
        self.president.sync()
        assert not any(p.outbox for p in self.phones)
        self.second.enqueue("member", i["m5"], member_fields(b1, name="सलोनी"))

    def expected_writes(self) -> dict:
        """(device, record) -> writes: each mutation once."""
        i, first, second = self.ids, self.first.device_id, self.second.device_id
        return {
            (first, i["m1"]): 2,  # made, then renamed
            (first, i["m2"]): 1,
            (first, i["m4"]): 1,
            (second, i["m3"]): 1,
            (second, i["g1"]): 1,
            (second, i["n1"]): 1,
            (second, i["m5"]): 1,
            (self.president.device_id, i["m2"]): 1,
        }


def take_dump(app, tmp_path, restored_database):
    """`pg_dump` of the database now; (the dump, the URL it will be restored to)."""
    dump = tmp_path / "booth.dump"
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    run(str(PG_BIN / "pg_dump"), "--format=custom", f"--file={dump}", libpq(url))
    return dump, url.rsplit("/", 1)[0] + "/" + restored_database


def test_phones_carry_on_after_a_restore_and_nothing_is_lost(
    app, make, client, tmp_path, restored_database
):
    story = Story(make, client)
    story.before_backup()
    dump, new_url = take_dump(app, tmp_path, restored_database)
    story.after_backup()
    acknowledged = {p.device_id: max(p.journal) for p in story.phones}

    run(
        str(PG_BIN / "pg_restore"),
        "--no-owner",
        "--exit-on-error",
        f"--dbname={libpq(new_url)}",
        str(dump),
    )
    assert restored_device_seqs(new_url) == {
        story.first.device_id: 2,
        story.second.device_id: 1,
    }, "the restore holds only what was sent before the backup"
    restored = app_on(app, new_url)
    try:
        new_client = restored.test_client()
        for phone in story.phones:
            phone.client, phone.resets = new_client, 0
        story.sync_all()
        for phone in story.phones:  # each hears what the others sent again
            phone.pull()
        check_carried_on(story, new_url, acknowledged)
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def check_carried_on(story, new_url, acknowledged):
    phones, i = story.phones, story.ids
    # Every cursor from before the restore was answered `reset`, and each phone sent
    # again exactly what the server had lost.
    assert [p.resets for p in phones] == [1, 1, 1]
    assert [p.requeued for p in phones] == [2, 2, 1]
    for phone in phones:
        assert not phone.outbox
        for seq, statuses in phone.answers.items():
            assert statuses[0] in ("applied", "merged"), (phone.device_id, seq, statuses)
    state = server_state(new_url)
    assert state["members"] == {
        i["m1"]: ("सुनीता देवी", "pending", 2),
        i["m2"]: ("बिरसा", "approved", 2),
        i["m3"]: ("सोमरा", "pending", 1),
        i["m4"]: ("फूलमनी", "pending", 1),
        i["m5"]: ("सलोनी", "pending", 1),
    }
    assert state["grievances"] == {i["g1"]} and state["notes"] == {i["n1"]}
    # Each mutation once on the server: one log row per seq, one write per mutation.
    assert state["applied"] == {
        story.first.device_id: [1, 2, 3, 4],
        story.second.device_id: [1, 2, 3, 4],
        story.president.device_id: [1],
    }
    for device_id, top in acknowledged.items():
        assert state["last_seq"][device_id] >= top
    assert state["writes"] == story.expected_writes()
    # And every phone holds what a new phone of its person would pull.
    for phone in phones:
        fresh = OutboxPhone.__new__(OutboxPhone)
        fresh.__dict__.update(phone.__dict__, cursor="", seen={}, journal={}, outbox=[])
        fresh.pull()
        assert phone.view() == fresh.view()


def restored_device_seqs(url) -> dict:
    with psycopg.connect(libpq(url)) as conn:
        return dict(conn.execute("SELECT id, last_seq FROM devices WHERE last_seq > 0"))


def server_state(url) -> dict:
    with psycopg.connect(libpq(url)) as conn:
        members = {
            row[0]: tuple(row[1:])
            for row in conn.execute("SELECT id, name, status, version FROM members")
        }
        applied: dict[str, list[int]] = {}
        for device_id, seq in conn.execute(
            "SELECT device_id, seq FROM applied_mutations ORDER BY device_id, seq"
        ):
            applied.setdefault(device_id, []).append(seq)
        writes = Counter(
            conn.execute(
                "SELECT device_id, record_id FROM audit_log WHERE device_id IS NOT NULL"
            ).fetchall()
        )
        return {
            "members": members,
            "grievances": {r[0] for r in conn.execute("SELECT id FROM grievances")},
            "notes": {r[0] for r in conn.execute("SELECT id FROM grievance_notes")},
            "applied": applied,
            "last_seq": dict(conn.execute("SELECT id, last_seq FROM devices")),
            "writes": writes,
        }
