"""Rule 7 (a delete against an edit) at its edges, with what the conflict record keeps,
and the pull cursor's length limit at its edge (decided by sync/ alone)."""

import base64
import json

from sync.protocol import MAX_CURSOR_CHARS, decode_cursor
from tests.sync.memory_phone import member_fields, new_id


def test_a_delete_wins_over_an_edit_it_never_saw_and_keeps_the_edit(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    edit_hlc = world.a.hlc()
    edited = world.a.send("member", member_id, {"name": "सीता देवी"}, base=1, hlc=edit_hlc)
    assert edited["status"] == "applied"
    deleted = world.b.send("member", member_id, op="delete", base=1)
    assert (deleted["status"], deleted["conflicts"]) == (
        "conflict",
        [{"field": "name", "kept": None, "lost": "सीता देवी"}],
    )
    assert world.server.db.records[("member", member_id)].deleted is True
    world.a.pull()
    [conflict] = world.a.records("conflict").values()
    assert (conflict["kind"], conflict["lost"], conflict["kept"]) == (
        "delete",
        {"name": "सीता देवी"},
        {"deleted": True},
    )
    assert (conflict["lost_hlc"], conflict["author_id"]) == (edit_hlc, world.volunteer)


def test_a_delete_on_base_zero_saw_nothing_and_keeps_every_field(world):
    member_id = new_id()
    fields = member_fields(world.g.b1)
    world.a.send("member", member_id, fields)
    deleted = world.b.send("member", member_id, op="delete", base=0)
    assert deleted["status"] == "conflict"
    assert {c["field"] for c in deleted["conflicts"]} >= {"name", "age", "booth_id"}


def test_a_delete_that_saw_every_edit_is_applied_and_a_second_one_too(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    first = world.b.send("member", member_id, op="delete", base=1)
    assert (first["status"], first["version"], first["conflicts"]) == ("applied", 2, [])
    again = world.a.send("member", member_id, op="delete", base=1)
    assert (again["status"], again["version"]) == ("applied", 2)


def cursor_of_length(length: int) -> str:
    state = {"v": 1, "lo": 0, "hi": None, "after": None, "u": 1, "sv": 1, "db": "sqlite"}
    text = json.dumps(state)
    for pad in range(length):
        cursor = base64.urlsafe_b64encode((text + " " * pad).encode()).decode().rstrip("=")
        if len(cursor) >= length:
            return cursor
    raise AssertionError(length)


def test_a_cursor_of_the_longest_length_is_still_read():
    longest = cursor_of_length(MAX_CURSOR_CHARS)
    assert len(longest) == MAX_CURSOR_CHARS
    assert decode_cursor(longest) is not None
    assert decode_cursor(cursor_of_length(MAX_CURSOR_CHARS + 1)) is None


def test_a_delete_that_missed_a_restore_keeps_what_the_restore_typed_not_the_restore(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    deleted = world.a.send("member", member_id, op="delete", base=1)
    restored = world.a.send("member", member_id, {"notes": "लौटे"}, base=deleted["version"])
    assert restored["record"]["deleted"] is False
    stale = world.b.send("member", member_id, op="delete", base=1)
    assert stale["status"] == "conflict"
    assert sorted(c["field"] for c in stale["conflicts"]) == ["notes", "status"]
    world.a.pull()
    [conflict] = world.a.records("conflict").values()
    assert (conflict["lost"], conflict["kept"]) == (
        {"notes": "लौटे", "status": "pending"},
        {"deleted": True},
    )
