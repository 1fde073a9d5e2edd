"""Masking of personal data on every path that carries a record, as one table.

The one rule (server/masking.py, rule 11 of docs/protocol.md): a member's `phone` and
`epic` and a grievance's `complainant_phone` go out in full only to the record's booth
volunteer and its block president; everyone else who may read the record gets them
masked. Paths: pull, a push answer's `record`, a push answer's `conflicts`, conflict
records pulled, and the online API (one record and the lists). The expected masked
format is written out here (`******3210`, `ABC*****67`), not taken from the server.
"""

import types

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id

PHONE, EPIC, COMPLAINANT = "9876543210", "ABC1234567", "9812398123"
HOUR = 3_600_000
# Each viewer of booth b1's records: in full or masked.
VIEWERS = {
    "volunteer": "full",  # of booth b1
    "block_president": "full",  # of block k1, which holds b1
    "district_president": "masked",
    "connect_centre": "masked",
    "admin": "masked",
}
PATHS = (
    "pull",
    "push_record",
    "push_conflicts",
    "pulled_conflicts",
    "rest_one",
    "rest_list",
)
# The table: every path, every viewer, masked or full.
TABLE = {(path, viewer): VIEWERS[viewer] for path in PATHS for viewer in VIEWERS}
MASKS = {
    "phone": lambda v: "******" + v[-4:],
    "complainant_phone": lambda v: "******" + v[-4:],
    "epic": lambda v: v[:3] + "*****" + v[-2:],
}


def test_the_masked_format_is_exactly_the_documented_one():
    from server.scope import mask_epic, mask_phone

    assert MASKS["phone"](PHONE) == mask_phone(PHONE) == "******3210"
    assert MASKS["epic"](EPIC) == mask_epic(EPIC) == "ABC*****67"
    assert mask_phone(None) is None and mask_epic("") is None


def shown(how, field, value):
    return value if how == "full" or value is None else MASKS[field](value)


def clash(first, second, entity, record_id, fields_first, fields_second, base):
    """`first` writes `fields_first` now; `second` writes `fields_second` an hour earlier
    on the same base: the answer to `second` is a conflict (its values lose)."""
    won = first.send(entity, record_id, fields_first, base=base)
    assert won["status"] in ("applied", "merged"), won
    lost = second.send(entity, record_id, fields_second, base=base, hlc=second.hlc(-HOUR))
    assert lost["status"] == "conflict", lost
    return won, lost


@pytest.fixture
def world(client, make):
    """A member and a grievance of booth b1 by its volunteer, each with a conflict record
    (two phones of the volunteer clash on the personal field)."""
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.users = {
        "volunteer": make.user("volunteer", g.b1),
        "block_president": make.user("block_president", g.k1),
        "district_president": make.user("district_president", g.d1),
        "connect_centre": make.user("connect_centre"),
        "admin": make.user("admin"),
    }
    author = Phone(client, make, w.users["volunteer"])
    other = Phone(client, make, w.users["volunteer"])
    w.member_id, w.grievance_id = new_id(), new_id()
    made = author.send("member", w.member_id, member_fields(g.b1, phone="9000000001"))
    assert made["status"] == "applied", made
    clash(
        author,
        other,
        "member",
        w.member_id,
        {"phone": PHONE, "epic": EPIC},
        {"phone": "9111111111", "epic": "LOS7654321"},
        1,
    )
    grievance = {
        "booth_id": g.b1.id,
        "category": "road",
        "description": "सड़क टूटी",
        "complainant_phone": "9000000002",
    }
    made = author.send("grievance", w.grievance_id, grievance)
    assert made["status"] == "applied", made
    clash(
        author,
        other,
        "grievance",
        w.grievance_id,
        {"complainant_phone": COMPLAINANT},
        {"complainant_phone": "9222222222"},
        1,
    )
    w.lost = {"phone": "9111111111", "epic": "LOS7654321", "complainant_phone": "9222222222"}
    return w


# Each path returns (what, got, the full value) for every personal value it carries.


def personal(record, entity, full):
    fields = ("phone", "epic") if entity == "member" else ("complainant_phone",)
    return [(f"{entity}.{f}", record[f], full[f]) for f in fields]


FULL = {"phone": PHONE, "epic": EPIC, "complainant_phone": COMPLAINANT}


def via_pull(w, viewer):
    phone = Phone(w.client, w.make, w.users[viewer])
    phone.pull()
    return personal(phone.records("member")[w.member_id], "member", FULL) + personal(
        phone.records("grievance")[w.grievance_id], "grievance", FULL
    )


def via_push_record(w, viewer):
    """A harmless edit of each record: the answer's `record` (applied, or rejected for
    a grievance the viewer did not report) carries the stored values."""
    phone = Phone(w.client, w.make, w.users[viewer])
    member = phone.send("member", w.member_id, {"notes": "मिले"}, base=2)
    assert member["status"] == "applied", member
    grievance = phone.send("grievance", w.grievance_id, {"against": "ठेकेदार"}, base=2)
    assert grievance["record"] is not None, grievance
    return personal(member["record"], "member", FULL) + personal(
        grievance["record"], "grievance", FULL
    )


def via_push_conflicts(w, viewer):
    """The viewer's two phones clash on a member it edits and a grievance it reports
    in booth b1: the answer's `conflicts` carry kept and lost values, the viewer's own."""
    first, second = (Phone(w.client, w.make, w.users[viewer]) for _ in range(2))
    _, member = clash(
        first,
        second,
        "member",
        w.member_id,
        {"phone": "9333333333", "epic": "KPT1111111"},
        {"phone": "9444444444", "epic": "LST2222222"},
        2,
    )
    gid = new_id()
    fields = {
        "booth_id": w.g.b1.id,
        "category": "road",
        "description": "पानी",
        "complainant_phone": "9000000003",
    }
    assert first.send("grievance", gid, fields)["status"] == "applied"
    _, grievance = clash(
        first,
        second,
        "grievance",
        gid,
        {"complainant_phone": "9555555555"},
        {"complainant_phone": "9666666666"},
        1,
    )
    full = {
        "member.phone.kept": "9333333333",
        "member.phone.lost": "9444444444",
        "member.epic.kept": "KPT1111111",
        "member.epic.lost": "LST2222222",
        "grievance.complainant_phone.kept": "9555555555",
        "grievance.complainant_phone.lost": "9666666666",
    }
    got = []
    for entity, answer in (("member", member), ("grievance", grievance)):
        for c in answer["conflicts"]:
            for side in ("kept", "lost"):
                label = f"{entity}.{c['field']}.{side}"
                got.append((label, c[side], full[label]))
    assert sorted(label for label, _, _ in got) == sorted(full), (member, grievance)
    return got


def via_pulled_conflicts(w, viewer):
    phone = Phone(w.client, w.make, w.users[viewer])
    phone.pull()
    conflicts = {c["entity"]: c for c in phone.records("conflict").values()}
    assert set(conflicts) == {"member", "grievance"}, conflicts
    got = []
    for entity, conflict in conflicts.items():
        for field in conflict["lost"]:
            got.append((f"{entity}.{field}.kept", conflict["kept"][field], FULL[field]))
            got.append((f"{entity}.{field}.lost", conflict["lost"][field], w.lost[field]))
    assert len(got) == 6, conflicts
    return got


def via_rest_one(w, viewer):
    headers = Phone(w.client, w.make, w.users[viewer]).headers
    member = w.client.get(f"/api/members/{w.member_id}", headers=headers)
    grievance = w.client.get(f"/api/grievances/{w.grievance_id}", headers=headers)
    assert (member.status_code, grievance.status_code) == (200, 200)
    return personal(member.json, "member", FULL) + personal(grievance.json, "grievance", FULL)


def via_rest_list(w, viewer):
    headers = Phone(w.client, w.make, w.users[viewer]).headers
    got = []
    for path, entity, record_id in (
        ("/api/members", "member", w.member_id),
        ("/api/grievances", "grievance", w.grievance_id),
    ):
        answer = w.client.get(path, headers=headers)
        assert answer.status_code == 200, answer.json
        (item,) = [i for i in answer.json["items"] if i["id"] == record_id]
        got += personal(item, entity, FULL)
    return got


VIA = {
    "pull": via_pull,
    "push_record": via_push_record,
    "push_conflicts": via_push_conflicts,
    "pulled_conflicts": via_pulled_conflicts,
    "rest_one": via_rest_one,
    "rest_list": via_rest_list,
}


@pytest.mark.parametrize(("path", "viewer"), list(TABLE))
def test_personal_data_is_masked_by_the_one_rule_on_every_path(world, path, viewer):
    how = TABLE[(path, viewer)]
    got = VIA[path](world, viewer)
    assert got, "the path carried no personal value"
    for what, value, full in got:
        assert value == shown(how, what.split(".")[1], full), (path, viewer, what, value)
