"""The demo's sample records (server/syncing/samples.py), written through the sync engine as
a phone would: what they are, who wrote them, from which device, and that seeding again
only adds what is missing."""

import uuid

import pytest
from sqlalchemy import select

from server.accounts.models import Device
from server.extensions import db
from server.grievances.models import Grievance, GrievanceNote
from server.roster.models import Member
from server.syncing import samples
from server.syncing.samples import GRIEVANCES, MEMBERS, NAMESPACE, sample_id, seed_samples


@pytest.fixture
def people(app, make):
    g = make.geo()
    return make.user("volunteer", g.b1), make.user("block_president", g.k1)


def test_the_samples_are_the_booths_members_and_grievances(app, people):
    volunteer, president = people
    with app.app_context():
        volunteer, president = db.session.merge(volunteer), db.session.merge(president)
        assert seed_samples(volunteer, president) == len(MEMBERS) + len(GRIEVANCES)
        db.session.commit()
        members = {m.id: m for m in db.session.scalars(select(Member))}
        for n, (name, age, gender, phone, skills) in enumerate(MEMBERS):
            m = members[sample_id("member", n)]
            assert (m.name, m.age, m.gender, m.phone, m.skills) == (
                name,
                age,
                gender,
                phone,
                skills,
            )
            assert (m.booth_id, m.consent, m.created_by) == (volunteer.unit_id, True, volunteer.id)
            assert m.status == ("approved" if n < samples.APPROVED else "pending")
        grievances = {g.id: g for g in db.session.scalars(select(Grievance))}
        for n, (category, description, against) in enumerate(GRIEVANCES):
            g = grievances[sample_id("grievance", n)]
            assert (g.category, g.description, g.against) == (category, description, against)
            assert (g.booth_id, g.created_by) == (volunteer.unit_id, volunteer.id)
            assert g.status == ("acknowledged" if n == 0 else "new")
        first = grievances[sample_id("grievance", 0)]
        assert first.status_history[-1]["by"] == president.id
        (note,) = db.session.scalars(select(GrievanceNote)).all()
        assert (note.id, note.grievance_id) == (sample_id("note", 0), first.id)
        assert note.text == "BDO से बात हुई, अगले हफ्ते मरम्मत शुरू होगी।"
        assert note.created_by == president.id
        devices = {d.user_id: d for d in db.session.scalars(select(Device))}
        for user in (volunteer, president):
            device = devices[user.id]
            assert device.id == str(uuid.uuid5(NAMESPACE, f"device-{user.phone}"))
            assert device.name == "seed-demo"


def test_seeding_again_adds_only_the_samples_that_are_missing(app, people):
    volunteer, president = people
    with app.app_context():
        volunteer, president = db.session.merge(volunteer), db.session.merge(president)
        seed_samples(volunteer, president)
        db.session.commit()
        assert seed_samples(volunteer, president) == 0
        last = sample_id("grievance", len(GRIEVANCES) - 1)
        db.session.query(Grievance).filter_by(id=last).delete()
        db.session.commit()
        assert seed_samples(volunteer, president) == 1
        db.session.commit()
        assert db.session.get(Grievance, last).description == GRIEVANCES[-1][1]
        assert len(db.session.scalars(select(Device)).all()) == 2
