"""A meeting reaches its audience and the leaders over its unit (docs/protocol.md, rule 10):
its index row names its unit's block and district (server/syncing/visibility.py,
unit_columns), so a district president pulls the meetings of the district and of its
blocks even when not in their audience, and no other district's."""

from tests.server.syncing.phone import Phone, new_id

DAY = 86_400_000


def test_a_district_president_pulls_the_meetings_of_the_district_and_its_blocks(client, make):
    g = make.geo()
    organisers = {
        g.d1.id: Phone(client, make, make.user("district_president", g.d1)),
        g.k1.id: Phone(client, make, make.user("block_president", g.k1)),
    }
    meetings = {}
    for unit_id, phone in organisers.items():
        meeting_id = new_id()
        fields = {
            "title": "बैठक",
            "starts_at": phone.now() + DAY,
            "unit_id": unit_id,
            "audience_roles": ["volunteer"],
        }
        assert phone.send("meeting", meeting_id, fields)["status"] == "applied"
        meetings[unit_id] = meeting_id
    same_district = Phone(client, make, make.user("district_president", g.d1))
    same_district.pull()
    assert set(same_district.records("meeting")) == set(meetings.values())
    other_district = Phone(client, make, make.user("district_president", g.d2))
    other_district.pull()
    assert other_district.records("meeting") == {}


def test_a_conflict_about_a_meeting_goes_to_who_sees_the_meeting(client, make):
    """Its audience and the leaders over its unit, no one else (protocol change 22: a
    conflict record takes the meeting's index row, server/syncing/visibility.py)."""
    g = make.geo()
    president = make.user("district_president", g.d1)
    first, second = Phone(client, make, president), Phone(client, make, president)
    meeting_id = new_id()
    fields = {
        "title": "बैठक",
        "starts_at": first.now() + DAY,
        "unit_id": g.k1.id,
        "audience_roles": ["volunteer"],
    }
    assert first.send("meeting", meeting_id, fields)["status"] == "applied"
    first.send("meeting", meeting_id, {"title": "प्रखंड बैठक"}, base=1)
    lost = second.send(
        "meeting", meeting_id, {"title": "पुरानी बैठक"}, base=1, hlc=second.hlc(-60_000)
    )
    assert lost["status"] == "conflict", lost

    def conflicts(user):
        phone = Phone(client, make, user)
        phone.pull()
        return {cid: c["record_id"] for cid, c in phone.records("conflict").items()}

    (cid,) = conflicts(president)
    for viewer in (
        make.user("block_president", g.k1),
        make.user("district_president", g.d1),
        make.user("admin"),
        make.user("volunteer", g.b1),  # the audience: volunteers of the block's booths
    ):
        assert conflicts(viewer) == {cid: meeting_id}
    for outsider in (
        make.user("district_president", g.d2),
        make.user("block_president", g.k2),
        make.user("volunteer", g.b3),
    ):
        assert conflicts(outsider) == {}
