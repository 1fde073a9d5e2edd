"""What the app relies on when the server keeps failing on one change (docs/protocol.md,
"What the app must do"): an empty push answers the device's last_seq, so the phone can
tell whether the seq of a change it sets aside was consumed."""

from tests.server.syncing.phone import Phone, member_fields, new_id


def test_an_empty_push_answers_last_seq_and_applies_nothing(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    fresh = phone.push_raw([])
    assert fresh.status_code == 200
    assert fresh.json["last_seq"] == 0
    assert fresh.json["results"] == []
    phone.send("member", new_id(), member_fields(g.b1, name="पहला"))
    phone.send("member", new_id(), member_fields(g.b1, name="दूसरा"))
    answer = phone.push_raw([])
    assert answer.status_code == 200
    assert answer.json["last_seq"] == 2
    assert answer.json["results"] == []
    phone.pull()
    assert sorted(r["name"] for r in phone.records("member").values()) == ["दूसरा", "पहला"]
