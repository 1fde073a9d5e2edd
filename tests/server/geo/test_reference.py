"""Jharkhand's reference geography: the real lists, loaded idempotently."""

import unicodedata
from collections import Counter

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db
from server.geo.models import ASSEMBLY, DISTRICT, LOK_SABHA, STATE, Unit
from server.geo.reference import load_reference_geography, reference
from tests.server.geo.helpers import audit_count, unit, unit_rows


def _units(type):
    return db.session.scalars(select(Unit).where(Unit.type == type)).all()


def _devanagari(text):
    return any("\u0900" <= ch <= "\u097f" for ch in text) and text == unicodedata.normalize(
        "NFC", text
    )


def test_reference_lists_have_jharkhands_real_counts(make):
    load_reference_geography()
    db.session.commit()
    assert len(_units(STATE)) == 1
    assert len(_units(DISTRICT)) == 24
    seats = _units(LOK_SABHA)
    assert len(seats) == 14
    assert Counter(s.reserved for s in seats) == {"ST": 5, "SC": 1, None: 8}
    assemblies = _units(ASSEMBLY)
    assert sorted(a.number for a in assemblies) == list(range(1, 82))
    assert Counter(a.reserved for a in assemblies) == {"ST": 28, "SC": 9, None: 44}
    # Every assembly seat lies in a Lok Sabha seat and a district; every district has one.
    seat_ids = {s.id for s in seats}
    assert all(a.parent_id in seat_ids and a.district_id for a in assemblies)
    assert {a.district_id for a in assemblies} == {d.id for d in _units(DISTRICT)}
    assert all(_devanagari(u.name_hi) for u in _units(DISTRICT) + seats + assemblies)


def test_kanke_seat_is_in_ranchi(make):
    load_reference_geography()
    db.session.commit()
    kanke, ranchi_ls, ranchi = (
        unit(ASSEMBLY, "AC-65"),
        unit(LOK_SABHA, "LS-8"),
        unit(DISTRICT, "RAN"),
    )
    assert (kanke.name_en, kanke.name_hi, kanke.reserved) == ("Kanke", "काँके", "SC")
    assert kanke.parent_id == ranchi_ls.id
    assert kanke.district_id == ranchi.id
    assert ranchi_ls.name_hi == "राँची"


def test_seats_crossing_a_district_line_name_both_districts():
    # Barkagaon (22) holds Patratu block of Ramgarh district.
    assert reference().assembly_districts[22] == {"HAZ", "RAM"}
    assert reference().assembly_districts[65] == {"RAN"}


def test_loading_twice_changes_nothing(make):
    first = load_reference_geography()
    db.session.commit()
    assert first[DISTRICT, "created"] == 24
    before, audits = unit_rows(), audit_count()
    assert load_reference_geography() == Counter()
    db.session.commit()
    assert unit_rows() == before
    assert audit_count() == audits


def test_reload_puts_back_names_and_denormalised_columns(make):
    load_reference_geography()
    db.session.commit()
    kanke = unit(ASSEMBLY, "AC-65")
    kanke.name_hi, kanke.district_id, kanke.parent_id = "गलत", unit(DISTRICT, "DHN").id, None
    db.session.commit()
    changes = load_reference_geography()
    db.session.commit()
    assert changes == Counter({(ASSEMBLY, "updated"): 1})
    kanke = unit(ASSEMBLY, "AC-65")
    assert kanke.name_hi == "काँके"
    assert kanke.district_id == unit(DISTRICT, "RAN").id
    assert kanke.parent_id == unit(LOK_SABHA, "LS-8").id
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.record_id == str(kanke.id), AuditEntry.action == "update"
        )
    ).one()
    assert entry.entity == "unit"
    assert entry.fields == ["district_id", "name_hi", "parent_id"]
