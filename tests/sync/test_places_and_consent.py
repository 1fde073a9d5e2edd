"""Places on a squad and consent at their edges (rules 5 and 7 of docs/protocol.md, and
what withdrawn consent erases): a delete that frees no place, and a withdrawal that
arrives after consent was given again. Decided by sync/ alone."""

from tests.sync.test_member_rules import add_member, stored


def test_deleting_a_member_who_held_no_place_moves_no_one_off_the_waitlist(world):
    # A president may put a rejected member on the waitlist of a booth with room; deleting
    # another member who held no place (rejected) frees none, so that member still waits.
    rejected = {"status": "rejected", "status_reason": "दोहराव"}
    other, w = add_member(world.b, world.g.b1)
    assert world.p.send("member", other, rejected, base=w)["record"]["status"] == "rejected"
    held, v = add_member(world.a, world.g.b1)
    assert world.p.send("member", held, rejected, base=v)["status"] == "applied"
    waitlisted = world.p.send("member", held, {"status": "waitlisted"}, base=v + 1)
    assert waitlisted["record"]["status"] == "waitlisted"
    assert world.a.send("member", other, op="delete", base=w + 1)["status"] == "applied"
    assert stored(world, held)["status"] == "waitlisted"


def test_a_withdrawal_of_consent_after_consent_was_given_again_still_erases(world):
    """Consent withdrawn on one phone, the member re-added with consent on another, then an
    older withdrawal arrives: it erases again, as any withdrawal does; it is no clash
    about `consent`, which no conflict record could then apply."""
    member_id, v = add_member(world.a, world.g.b1)
    late = world.b.mutation("member", member_id, {"consent": False}, base=v)
    erased = world.a.send("member", member_id, {"consent": False}, base=v)
    again = {"consent": True, "name": "फिर से", "phone": "9876543210"}
    restored = world.a.send("member", member_id, again, base=erased["version"])
    assert (restored["record"]["deleted"], restored["record"]["consent"]) == (False, True)
    result = world.b.push(late)["results"][0]
    assert (result["status"], result["conflicts"]) == ("applied", [])
    record = result["record"]
    assert (record["consent"], record["deleted"], record["name"]) == (False, True, "")
    assert not any(entity == "conflict" for entity, _id in world.server.db.records)
