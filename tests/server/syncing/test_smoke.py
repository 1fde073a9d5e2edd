"""First contact: a member pushed from one phone is pulled by another."""

from tests.server.syncing.phone import Phone, member_fields, new_id


def test_push_then_pull(client, make):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    president = make.user("block_president", g.k1)
    phone = Phone(client, make, volunteer)
    member_id = new_id()
    result = phone.send("member", member_id, member_fields(g.b1))
    assert result["status"] == "applied", result
    assert result["record"]["status"] == "pending"
    other = Phone(client, make, president)
    other.pull()
    assert other.records("member")[member_id]["name"] == "राम कुमार"
