"""The scope table of sync/scope.py head-on (rule 10 of docs/protocol.md): which unit and
which booth record each type of scope unit holds, through the one table of unit types.
The server's SQL form is held to the same answers by tests/server/test_authorization_matrix.py;
here the Python form is checked alone, on plain values, for every type and both ways."""

import types

import pytest

from sync import scope
from sync.values import Place, Principal, Rejection

# A booth of block 20 and district 30, in assembly seat 40 of Lok Sabha seat 50, under
# panchayat 60; a second booth elsewhere in every respect.
SEATS = {40: types.SimpleNamespace(id=40, type="assembly", parent_id=50)}
BOOTH = types.SimpleNamespace(
    id=10, type="booth", block_id=20, district_id=30, assembly_id=40, parent_id=60
)
OTHER = types.SimpleNamespace(
    id=11, type="booth", block_id=21, district_id=31, assembly_id=41, parent_id=61
)


def lookup(unit_id):
    return SEATS.get(unit_id)


@pytest.mark.parametrize(
    ("scope_type", "scope_id", "inside"),
    [
        ("state", 1, True),
        ("state", 999, True),
        ("district", 30, True),
        ("district", 31, False),
        ("district", 20, False),  # the block's id is no district's
        ("block", 20, True),
        ("block", 21, False),
        ("block", 30, False),
        ("panchayat", 60, True),
        ("panchayat", 61, False),
        ("booth", 10, True),
        ("booth", 11, False),
        ("assembly", 40, True),
        ("assembly", 41, False),
        ("lok_sabha", 50, True),
        ("lok_sabha", 51, False),
        ("lok_sabha", 40, False),  # the assembly seat is not its own Lok Sabha seat
        ("ward", 10, True),  # an unknown type holds only itself
        ("ward", 20, False),
    ],
)
def test_each_type_of_scope_unit_holds_the_booths_under_it(scope_type, scope_id, inside):
    assert scope.place_within(scope_type, scope_id, BOOTH, lookup=lookup) is inside


@pytest.mark.parametrize("scope_type", ["district", "block", "booth", "lok_sabha", "ward"])
def test_a_unit_is_its_own_scope_unless_include_self_is_false(scope_type):
    unit = types.SimpleNamespace(id=7, type=scope_type)
    assert scope.place_within(scope_type, 7, unit, lookup=lookup) is True
    booth_like = scope_type == "booth"  # a booth's path is its own id
    assert scope.place_within(scope_type, 7, unit, include_self=False) is booth_like


def test_the_state_holds_every_unit_even_without_include_self():
    assert scope.place_within("state", 1, OTHER, include_self=False) is True


def test_a_lok_sabha_seat_needs_the_lookup_for_its_second_step():
    assert scope.place_within("lok_sabha", 50, BOOTH) is False
    assert scope.place_within("lok_sabha", 50, BOOTH, lookup=lookup) is True
    no_seat = types.SimpleNamespace(id=12, type="booth", assembly_id=None)
    looked_up = []
    assert scope.place_within("lok_sabha", 50, no_seat, lookup=looked_up.append) is False
    assert looked_up == []  # a booth without a seat is not looked up
    assert scope.place_within("lok_sabha", None, no_seat, lookup=lookup) is False


def test_a_missing_attribute_is_outside_never_an_error():
    bare = types.SimpleNamespace(id=12, type="panchayat")
    for scope_type in ("district", "block", "assembly", "lok_sabha"):
        assert scope.place_within(scope_type, None, bare) is False


RECORD = types.SimpleNamespace(booth_id=10, block_id=20, district_id=30)


@pytest.mark.parametrize(
    ("scope_type", "scope_id", "inside"),
    [
        ("state", 5, True),
        ("district", 30, True),
        ("district", 31, False),
        ("block", 20, True),
        ("block", 21, False),
        ("booth", 10, True),
        ("booth", 11, False),
        ("panchayat", 60, False),  # a record names no panchayat
        ("assembly", 40, False),
        ("lok_sabha", 50, False),
        ("ward", 10, False),
    ],
)
def test_a_booth_record_is_inside_by_the_key_it_carries(scope_type, scope_id, inside):
    assert scope.record_within(scope_type, scope_id, RECORD) is inside


def test_only_the_state_holds_everything_and_each_seat_is_named_by_its_attribute():
    assert [t for t in scope.UNIT_TYPES if scope.holds_everything(t)] == ["state"]
    assert scope.holds_everything("ward") is False
    assert scope.seat_type("assembly_id") == "assembly"
    assert scope.seat_type("district_id") == "district"
    assert scope.seat_type("id") == "booth"
    assert scope.seat_type("parent_id") == "panchayat"


@pytest.mark.parametrize(
    ("role", "hidden"),
    [
        ("volunteer", []),
        ("block_president", ["party_conduct"]),
        ("district_president", ["party_conduct"]),
        ("connect_centre", []),
        ("admin", []),
    ],
)
def test_complaints_about_office_bearers_are_hidden_from_block_and_district(role, hidden):
    assert scope.hidden_categories(role) == hidden


class Places:
    """The store's one method booth_for uses."""

    def __init__(self, *places):
        self.places = {p.id: p for p in places}

    def place(self, unit_id):
        return self.places.get(unit_id)


B1 = Place(10, "booth", 20, 30, "AC-1-1")
B2 = Place(11, "booth", 21, 30, "AC-1-2")
BLOCK = Place(20, "block", 20, 30, "RAN-KANKE")
VOLUNTEER = Principal(1, "volunteer", 10, "booth", 30, 20)
PRESIDENT = Principal(2, "block_president", 20, "block", 30, 20)
NO_BOOTH = ("unknown_booth", "No such booth.", {"booth_id": ["No such booth."]})
OUTSIDE = (
    "out_of_scope",
    "This booth is outside your area.",
    {"booth_id": ["This booth is outside your area."]},
)


@pytest.mark.parametrize(
    ("actor", "booth_id", "refusal"),
    [
        (VOLUNTEER, 10, None),
        (VOLUNTEER, 11, OUTSIDE),
        (PRESIDENT, 10, None),
        (PRESIDENT, 11, OUTSIDE),
        (VOLUNTEER, 20, NO_BOOTH),  # a unit, but no booth
        (VOLUNTEER, 99, NO_BOOTH),
        (VOLUNTEER, 2**31, NO_BOOTH),  # past the id column, never looked up
        (VOLUNTEER, None, NO_BOOTH),
        (VOLUNTEER, "10", NO_BOOTH),
    ],
)
def test_a_booth_is_named_by_its_id_and_must_be_in_the_actors_area(actor, booth_id, refusal):
    store = Places(B1, B2, BLOCK, Place(2**31, "booth", 20, 30))
    if refusal is None:
        assert scope.booth_for(store, actor, booth_id) is B1
        return
    with pytest.raises(Rejection) as refused:
        scope.booth_for(store, actor, booth_id)
    assert (refused.value.code, refused.value.message, refused.value.fields) == refusal
