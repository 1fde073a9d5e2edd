"""The wire contract's own checks (sync/protocol.py) head-on: a pull cursor is taken back
only exactly as the server made it, a mutation's envelope is refused key by key with its
message, and envelope text is made safe to echo without ever becoming valid."""

import base64
import json

import pytest

from sync.protocol import (
    MAX_CURSOR_CHARS,
    decode_cursor,
    encode_cursor,
    is_cursor_state,
    mutation_problems,
    printable,
    printable_envelope,
)

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
HLC = "1767225600000-0000-phone"
GOOD = {
    "v": 1,
    "lo": 10,
    "hi": 20,
    "after": [15, "member", UUID, "b12"],
    "u": 3,
    "sv": 2,
    "db": "7312345678901234567:16384:1",
}


def changed(**kw):
    return {**GOOD, **kw}


def raw_cursor(state) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "state",
    [
        GOOD,
        changed(after=None),
        changed(hi=None, after=None),
        changed(lo=0, hi=0, after=[0, "rsvp", UUID, "u"]),
        changed(after=[15, "conflict", UUID, "u1234567890"]),
        # A complaint about an office-bearer is indexed under its booth's restricted key.
        changed(after=[15, "grievance", UUID, "b12r"]),
        changed(u=2**31 - 1, sv=-(2**31), lo=2**63 - 2, hi=2**63 - 1, after=None),
        # Change ids are BIGINT: a page can stop past the 32-bit range.
        changed(lo=2**40, hi=2**40 + 9, after=[2**40 + 5, "member", UUID, "b12"]),
    ],
)
def test_a_cursor_the_server_made_comes_back_whole(state):
    assert is_cursor_state(state) is True
    assert decode_cursor(encode_cursor(state)) == state


FORGED = [
    [],
    {**GOOD, "extra": 1},
    {k: v for k, v in GOOD.items() if k != "sv"},
    {k: v for k, v in GOOD.items() if k != "db"},
    changed(db=7312),
    changed(db=None),
    changed(db=""),
    changed(db="7312:16384:1:9"),
    changed(db="7312:16384:1\n"),
    changed(db="A" * 30),
    changed(v=2),
    changed(v=True),
    changed(v=1.0),
    changed(u="3"),
    changed(sv=2**31),
    changed(u=None),
    changed(lo=-1),
    changed(lo=2**63),
    changed(lo=True),
    changed(hi=9),
    changed(hi=2**63),
    changed(hi=None),  # an `after` needs its `hi`
    changed(after=[15, "member", UUID]),
    changed(after="15,member"),
    changed(after=[2**63, "member", UUID, "b1"]),
    changed(after=["15", "member", UUID, "b1"]),
    changed(after=[15, "user", UUID, "b1"]),
    changed(after=[15, 7, UUID, "b1"]),
    changed(after=[15, "member", UUID.upper(), "b1"]),
    changed(after=[15, "member", 5, "b1"]),
    changed(after=[15, "member", UUID, "x1"]),
    changed(after=[15, "member", UUID, "b12345678901"]),
    changed(after=[15, "member", UUID, "b1\n"]),
    changed(after=[15, "grievance", UUID, "b"]),
    changed(after=[15, "grievance", UUID, "br"]),
    changed(after=[15, "grievance", UUID, "b12rr"]),
    changed(after=[15, "grievance", UUID, "u12r"]),
    changed(after=[15, "member", UUID, 1]),
]


@pytest.mark.parametrize("state", FORGED, ids=range(len(FORGED)))
def test_a_forged_cursor_is_unknown(state):
    assert is_cursor_state(state) is False
    assert decode_cursor(raw_cursor(state)) is None


def test_a_cursor_state_holds_its_after_key_as_a_list():
    assert is_cursor_state(changed(after=(15, "member", UUID, "b1"))) is False


@pytest.mark.parametrize(
    "cursor",
    ["", None, "!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b"\xff\xfe").decode(), "e30"],
)
def test_a_cursor_that_is_not_ours_reads_as_none(cursor):
    assert decode_cursor(cursor) is None


def test_a_cursor_too_long_is_not_read():
    padded = changed(after=[15, "member", UUID, "b1"])
    cursor = raw_cursor(padded)
    assert decode_cursor(cursor) == padded
    long_cursor = cursor + "A" * (MAX_CURSOR_CHARS - len(cursor) + 1)
    assert decode_cursor(long_cursor) is None


def test_a_cursor_is_unpadded_url_safe_base64_of_compact_json():
    cursor = encode_cursor({"a": "??>"})
    assert cursor == base64.urlsafe_b64encode(b'{"a":"??>"}').decode().rstrip("=")
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


@pytest.mark.parametrize(
    ("text", "limit", "safe"),
    [
        ("member", 64, "member"),
        ("a\x00b", 64, "a\\x00b"),
        ("a\ud800b", 64, "a\\ud800b"),
        ("n" * 70, 64, "n" * 64),
        ("n" * 70, 100, "n" * 70),
    ],
)
def test_printable(text, limit, safe):
    assert printable(text, limit) == safe


def test_printable_cuts_at_64_unless_told():
    assert printable("n" * 65) == "n" * 64


def test_printable_envelope_escapes_the_envelope_text_and_leaves_the_fields():
    raw = {
        "seq": 1,
        "entity": ["member"],
        "op": "up\x00sert",
        "id": "i" * 150,
        "hlc": None,
        "base_version": 2,
        "fields": {"name": "a\x00"},
        "bad\x00key": 1,
    }
    assert printable_envelope(raw) == {
        "seq": 1,
        "entity": '["member"]',
        "op": "up\\x00sert",
        "id": "i" * 100,
        "hlc": None,
        "base_version": 2,
        "fields": {"name": "a\x00"},
        "bad\\x00key": 1,
    }
    assert printable_envelope({"entity": {"a": "ह"}})["entity"] == '{"a": "ह"}'
    assert printable_envelope({"hlc": "0\x00" + "h" * 120})["hlc"] == "0\\x00" + "h" * 95


def envelope(**kw):
    return {
        "seq": 1,
        "entity": "member",
        "op": "upsert",
        "id": UUID,
        "base_version": None,
        "hlc": HLC,
        **kw,
    }


ENTITY_MESSAGE = "Must be one of: member, grievance, grievance_note, meeting, rsvp, conflict."


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (envelope(), {}),
        (envelope(op="delete", base_version=0, fields={}), {}),
        (envelope(id=UUID.upper(), base_version=2**31 - 1), {}),
        (envelope(extra=1), {"extra": ["Unknown field."]}),
        (envelope(entity="user"), {"entity": [ENTITY_MESSAGE]}),
        (envelope(entity=["member"]), {"entity": [ENTITY_MESSAGE]}),
        (envelope(op="insert"), {"op": ["Must be upsert or delete."]}),
        (envelope(op=None), {"op": ["Must be upsert or delete."]}),
        (envelope(id="x"), {"id": ["Not a valid id."]}),
        (envelope(id=5), {"id": ["Not a valid id."]}),
        (envelope(base_version=-1), {"base_version": ["A version number or null."]}),
        (envelope(base_version=2**31), {"base_version": ["A version number or null."]}),
        (envelope(base_version=True), {"base_version": ["A version number or null."]}),
        (envelope(hlc="now"), {"hlc": ["Not a valid HLC."]}),
        (envelope(fields=[]), {"fields": ["Send an object."]}),
        (
            envelope(fields={"a\x00": 1}),
            {"fields": ["A field name contains a character that is not allowed."]},
        ),
    ],
)
def test_mutation_problems(raw, problems):
    assert mutation_problems(raw) == problems


def test_a_mutation_without_its_envelope_has_every_problem():
    assert set(mutation_problems({})) == {"entity", "op", "id", "hlc"}
