"""The HLC rules head-on: which of two stamps is later (the shared vectors of
tests/sync/hlc_vectors.json, which tests/pwa/hlc.test.mjs reads too, so the server's merge
and the app's clock cannot disagree), and the server's clamp and stamp at their edges."""

import json
from pathlib import Path

import pytest

from sync import hlc
from sync.merge import merge
from sync.values import Record

VECTORS = json.loads((Path(__file__).parent / "hlc_vectors.json").read_text())["cases"]
ORDERED = [case for case in VECTORS if case["later"] != "equal"]
NOW = 1_767_225_600_000


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_string_order_is_millisecond_then_counter_then_node(case):
    a, b = hlc.parse(case["a"]), hlc.parse(case["b"])
    expected = {"a": (True, False), "b": (False, True), "equal": (False, False)}[case["later"]]
    assert (case["a"] > case["b"], case["b"] > case["a"]) == expected
    assert (a > b, b > a) == expected


@pytest.mark.parametrize("case", ORDERED, ids=[case["name"] for case in ORDERED])
def test_merge_gives_the_field_to_the_later_stamp(case):
    """Rule 2: the same field edited on two phones goes to the later HLC, whichever of the
    two arrives first; the other value is kept as a clash."""
    record = Record("member", "m1", 2, {"name": "stored"}, {"name": [2, case["b"]]})
    result = merge(record, {"name": "incoming"}, 1, case["a"])
    assert result.concurrent is True
    if case["later"] == "a":
        assert result.changes == {"name": "incoming"}
        assert result.clashes == [("name", "incoming", "stored", case["b"])]
    else:
        assert result.changes == {}
        assert result.clashes == [("name", "stored", "incoming", case["a"])]


def test_merge_takes_a_field_nobody_else_changed_since_the_base():
    record = Record("member", "m1", 3, {"name": "old", "phone": "1"}, {"name": [2, "x"]})
    result = merge(record, {"name": "new", "phone": "1"}, 2, hlc.format_hlc(NOW, 0, "p"))
    assert (result.changes, result.clashes, result.concurrent) == ({"name": "new"}, [], False)


def test_merge_orders_a_phones_own_writes_by_arrival_not_by_stamp():
    own = hlc.format_hlc(NOW + 5, 0, "phoneA")
    record = Record("member", "m1", 2, {"name": "first"}, {"name": [2, own]})
    result = merge(record, {"name": "second"}, 1, hlc.format_hlc(NOW, 0, "phoneA"))
    assert (result.changes, result.clashes) == ({"name": "second"}, [])


def test_merge_with_no_base_counts_every_stamped_field_as_concurrent():
    record = Record("member", "m1", 1, {"name": "a"}, {"name": [1, "x"]})
    result = merge(record, {"name": "a"}, None, hlc.format_hlc(NOW, 0, "p"))
    assert (result.changes, result.clashes, result.concurrent) == ({}, [], True)


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        None,
        "176722560000-0000-p",
        "17672256000000-0000-p",
        "1767225600000-000-p",
        "1767225600000-00000-p",
        "1767225600000-00AF-p",
        "1767225600000-0000-",
        "1767225600000-0000-p\n",
        "1767225600000-0000-" + "n" * 65,
        "1767225600000-0000-p.q",
    ],
)
def test_a_malformed_stamp_is_refused(stamp):
    assert hlc.is_valid(stamp) is False
    with pytest.raises(ValueError, match="not an HLC"):
        hlc.parse(stamp)


def test_a_well_formed_stamp_parses_to_its_parts():
    stamp = "1767225600000-00af-Phone-" + "n" * 58
    assert hlc.is_valid(stamp) is True
    assert hlc.parse(stamp) == (NOW, 0xAF, "Phone-" + "n" * 58)
    assert hlc.millis(stamp) == NOW
    assert hlc.node(stamp) == "Phone-" + "n" * 58
    assert hlc.is_valid(123) is False


def test_format_pads_the_millisecond_and_counter():
    assert hlc.format_hlc(5, 10, "p") == "0000000000005-000a-p"
    assert hlc.format_hlc(NOW, 0xFFFF, "server") == "1767225600000-ffff-server"


@pytest.mark.parametrize(
    ("ms", "floor", "expected_ms", "expected_counter"),
    [
        (NOW + hlc.MAX_DRIFT_MS, None, NOW + hlc.MAX_DRIFT_MS, 7),  # at the drift limit: kept
        (NOW + hlc.MAX_DRIFT_MS + 1, None, NOW, 0),  # past it: the moment it arrived
        (NOW - 10, NOW - 10, NOW - 10, 7),  # at the floor: kept
        (NOW - 11, NOW - 10, NOW - 10, 7),  # below it: raised, counter kept
        (NOW - 11, NOW + 50, NOW, 7),  # a floor ahead of now is capped at now
        (NOW - 11, None, NOW - 11, 7),  # no floor: kept
    ],
)
def test_clamp_at_its_edges(ms, floor, expected_ms, expected_counter):
    stamp = hlc.format_hlc(ms, 7, "phone")
    assert hlc.clamp(stamp, NOW, floor) == hlc.format_hlc(expected_ms, expected_counter, "phone")


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (None, hlc.format_hlc(NOW, 0, "server")),
        ("", hlc.format_hlc(NOW, 0, "server")),
        (hlc.format_hlc(NOW - 1, 9, "p"), hlc.format_hlc(NOW, 0, "server")),
        (hlc.format_hlc(NOW, 9, "p"), hlc.format_hlc(NOW, 10, "server")),
        (hlc.format_hlc(NOW + 3, 0, "p"), hlc.format_hlc(NOW + 3, 1, "server")),
        (hlc.format_hlc(NOW, 0xFFFE, "p"), hlc.format_hlc(NOW, 0xFFFF, "server")),
        (hlc.format_hlc(NOW, 0xFFFF, "p"), hlc.format_hlc(NOW, 0xFFFF, "server")),
    ],
)
def test_server_stamp_is_now_or_just_after_the_latest_seen(seen, expected):
    assert hlc.server_stamp(NOW, seen) == expected
