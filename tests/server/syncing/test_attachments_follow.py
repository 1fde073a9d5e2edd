"""A grievance that changes scope (reclassified as a complaint about an office-bearer) takes
its own notes and conflict records along (their booth columns and index rows,
server/syncing/visibility.py's move_attachments), and nothing of any other record."""

import types

import pytest

from server.extensions import db
from server.grievances.models import GrievanceNote
from server.scope import unit_within
from server.syncing.models import Conflict
from tests.server.syncing.phone import Phone, new_id
from tests.server.syncing.test_visibility import held_of as held


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.b1 = make.user("volunteer", g.b1)
    w.b2 = make.user("volunteer", g.b2)
    return w


def grievance_with_note_and_conflict(world, user, booth):
    """A road grievance of `booth` by `user` with a note and a conflict record; its id."""
    author, second = Phone(world.client, world.make, user), Phone(world.client, world.make, user)
    gid = new_id()
    fields = {"booth_id": booth.id, "category": "road", "description": "सड़क टूटी"}
    assert author.send("grievance", gid, fields)["status"] == "applied"
    note = author.send("grievance_note", new_id(), {"grievance_id": gid, "text": "फोटो"})
    assert note["status"] == "applied"
    author.send("grievance", gid, {"against": "मुखिया"}, base=1)
    clash = second.send("grievance", gid, {"against": "सचिव"}, base=1, hlc=second.hlc(-60_000))
    assert clash["status"] == "conflict", clash
    return gid, author


def booths_of_attachments(app, gid):
    with app.app_context():
        notes = db.session.query(GrievanceNote.booth_id).filter_by(grievance_id=gid).all()
        conflicts = db.session.query(Conflict.booth_id).filter_by(record_id=gid).all()
        return sorted(b for (b,) in notes + conflicts)


def test_a_reclassified_grievance_takes_its_own_attachments_and_no_others(app, world, make):
    g = world.g
    other, _ = grievance_with_note_and_conflict(world, world.b2, g.b2)
    gid, author = grievance_with_note_and_conflict(world, world.b1, g.b1)
    moved = author.send("grievance", gid, {"category": "party_conduct"}, base=2)
    assert moved["status"] in ("applied", "merged"), moved["error"]
    assert booths_of_attachments(app, other) == [g.b2.id, g.b2.id]
    assert booths_of_attachments(app, gid) == [g.b1.id, g.b1.id]
    president = Phone(world.client, make, make.user("block_president", g.k1))
    president.pull()
    assert held(president, gid) == set()  # a complaint about an office-bearer
    assert len(held(president, other)) == 3
    for user, own, theirs in ((world.b1, gid, other), (world.b2, other, gid)):
        fresh = Phone(world.client, make, user)
        fresh.pull()
        assert len(held(fresh, own)) == 3
        assert held(fresh, theirs) == set()


def test_a_lok_sabha_seat_holds_the_booths_of_its_assembly_seats(app, make):
    """unit_within looks the assembly seat up to reach its Lok Sabha seat."""
    g = make.geo()
    with app.app_context():
        other_ls = make.unit("lok_sabha", "LS-2", "Dhanbad", parent=g.state, number=2)
        other_ac = make.unit("assembly", "AC-2", "Sindri", parent=other_ls, number=2)
        elsewhere = make.unit(
            "booth", "AC-2-1", "Booth 9", parent=g.p3, number=9, assembly_id=other_ac.id
        )
        ls, booth = db.session.merge(g.ls), db.session.merge(g.b1)
        assert unit_within(ls, booth) is True
        assert unit_within(ls, elsewhere) is False
        assert unit_within(ls, ls) is True


def test_a_grievance_moved_by_its_reporter_takes_its_note_to_the_new_booth(app, world, make):
    """A block president moves a new complaint to another booth of the block: it and its
    note leave booth b1's phones and reach booth b2's (it was answered `applied` and
    stayed on b1)."""
    g = world.g
    president = Phone(world.client, make, make.user("block_president", g.k1))
    gid = new_id()
    fields = {"booth_id": g.b1.id, "category": "water", "description": "हैंडपंप"}
    assert president.send("grievance", gid, fields)["status"] == "applied"
    note = president.send("grievance_note", new_id(), {"grievance_id": gid, "text": "फोटो"})
    assert note["status"] == "applied"
    first, second = (Phone(world.client, make, user) for user in (world.b1, world.b2))
    first.pull()
    assert len(held(first, gid)) == 2
    moved = president.send("grievance", gid, {"booth_id": g.b2.id}, base=1)
    assert (moved["status"], moved["record"]["booth_id"]) == ("applied", g.b2.id)
    first.pull()
    second.pull()
    assert held(first, gid) == set()
    assert len(held(second, gid)) == 2
    assert second.seen[("grievance", gid)]["record"]["booth_id"] == g.b2.id
    assert booths_of_attachments(app, gid) == [g.b2.id]
