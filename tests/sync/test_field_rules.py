"""What a device may send, value by value (sync/fields.py): each field type's normalising
and its refusals with their exact messages, at the edges of every range. The same schemas
check the online API's bodies, so these are the texts a person sees either way."""

import pytest
from marshmallow import ValidationError

from sync.fields import (
    QueryInt,
    check_fields,
    in_int_range,
    is_safe_text,
    normalise_phone,
)

INT32 = "A whole number from -2147483648 to 2147483647."
INT64 = "A whole number from -9223372036854775808 to 9223372036854775807."
UNSAFE = "Contains a character that is not allowed (NUL or a broken surrogate)."
YOUTH = "Youth members are 18 to 35 years old."
PHONE = "Enter a 10-digit mobile number starting with 6, 7, 8 or 9."
EPIC = "A voter ID is 3 letters and 7 digits, like ABC1234567."
MS = "A time in Unix milliseconds."
URL = "Enter a web address starting with https://."
UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

# (entity, field, value sent, value stored)
ACCEPTED = [
    ("member", "booth_id", 2**31 - 1, 2**31 - 1),
    ("member", "booth_id", -(2**31), -(2**31)),
    ("member", "age", 18, 18),
    ("member", "age", 35, 35),
    ("member", "name", "  राम  ", "राम"),
    ("member", "name", "e\u0301", "\u00e9"),  # NFC
    ("member", "name", "n" * 120, "n" * 120),
    ("member", "notes", "", ""),
    ("member", "phone", "+91 98765-43210", "9876543210"),
    ("member", "phone", "09876543210", "9876543210"),
    ("member", "phone", "6000000000", "6000000000"),
    ("member", "phone", None, None),
    ("member", "phone", "98765 43210\n", "9876543210"),
    ("member", "epic", "abc 123 4567", "ABC1234567"),
    ("member", "epic", None, None),
    ("member", "gender", "other", "other"),
    ("member", "skills", ["other"] * 6, ["other"] * 6),
    ("member", "consent", False, False),
    ("grievance", "created_at", 1_577_836_800_000, 1_577_836_800_000),
    ("grievance", "created_at", 4_102_444_800_000, 4_102_444_800_000),
    ("grievance_note", "grievance_id", UUID.upper(), UUID),
    ("meeting", "online_url", "", ""),
    ("meeting", "online_url", " https://meet.example/abc ", "https://meet.example/abc"),
    (
        "meeting",
        "online_url",
        "http://meet.example/" + "a" * 480,
        "http://meet.example/" + "a" * 480,
    ),
    ("meeting", "audience_roles", ["admin"] * 5, ["admin"] * 5),
    ("meeting", "place", "n" * 300, "n" * 300),
    ("rsvp", "answer", "maybe", "maybe"),
    ("conflict", "resolved", True, True),
]

# (entity, field, value sent, messages)
REFUSED = [
    ("member", "booth_id", 2**31, [INT32]),
    ("member", "booth_id", -(2**31) - 1, [INT32]),
    ("member", "booth_id", True, ["Not a valid integer."]),
    ("member", "booth_id", 5.0, ["Not a valid integer."]),
    ("member", "booth_id", "5", ["Not a valid integer."]),
    ("member", "age", 17, [YOUTH]),
    ("member", "age", 36, [YOUTH]),
    ("member", "age", 2**31, [INT32, YOUTH]),
    ("member", "name", "", ["This is required."]),
    ("member", "name", "   ", ["This is required."]),
    ("member", "name", "n" * 121, ["At most 120 characters."]),
    ("member", "name", "a\x00b", [UNSAFE]),
    ("member", "name", "a\ud800b", [UNSAFE]),
    ("member", "gender", "x", ["Must be one of: male, female, other."]),
    ("member", "gender", "a\x00", [UNSAFE]),
    ("member", "phone", "0987654321", [PHONE]),
    ("member", "phone", "5876543210", [PHONE]),
    ("member", "phone", "98765432101", [PHONE]),
    ("member", "epic", "AB1234567", [EPIC]),
    ("member", "epic", "ABC12345678", [EPIC]),
    ("member", "skills", ["other"] * 7, ["Longer than maximum length 6."]),
    ("member", "consent", "true", ["Not a valid boolean."]),
    # JSON numbers are not booleans, though 1 == True in Python.
    ("member", "consent", 1, ["Not a valid boolean."]),
    ("member", "consent", 0, ["Not a valid boolean."]),
    ("conflict", "resolved", 1.0, ["Not a valid boolean."]),
    ("member", "status_reason", "n" * 501, ["At most 500 characters."]),
    ("grievance", "created_at", 1_577_836_799_999, [MS]),
    ("grievance", "created_at", 4_102_444_800_001, [MS]),
    ("grievance", "created_at", 2**63, [INT64, MS]),
    ("grievance_note", "grievance_id", "not-an-id", ["Not a valid id."]),
    ("grievance_note", "grievance_id", UUID + "\n", ["Not a valid id."]),
    ("grievance_note", "text", "", ["This is required."]),
    ("meeting", "online_url", "ftp://meet.example/abc", [URL]),
    ("meeting", "online_url", "https://meet.example/" + "a" * 480, ["At most 500 characters."]),
    ("meeting", "audience_roles", [], ["Length must be between 1 and 5."]),
    ("meeting", "audience_roles", ["admin"] * 6, ["Length must be between 1 and 5."]),
    ("meeting", "status", "done", ["Must be one of: scheduled, cancelled."]),
    ("rsvp", "answer", "perhaps", ["Must be one of: yes, no, maybe."]),
    ("member", "unknown", 1, ["Unknown field."]),
]


@pytest.mark.parametrize(("entity", "field", "sent", "stored"), ACCEPTED)
def test_a_valid_value_is_stored_normalised(entity, field, sent, stored):
    assert check_fields(entity, {field: sent}, creating=False) == {field: stored}


@pytest.mark.parametrize(("entity", "field", "sent", "messages"), REFUSED)
def test_an_invalid_value_is_refused_with_its_message(entity, field, sent, messages):
    with pytest.raises(ValidationError) as refused:
        check_fields(entity, {field: sent}, creating=False)
    assert refused.value.messages == {field: messages}


@pytest.mark.parametrize(
    ("entity", "required"),
    [
        ("member", ["booth_id", "name", "age", "gender", "consent"]),
        ("grievance", ["booth_id", "category", "description"]),
        ("grievance_note", ["grievance_id", "text"]),
        ("meeting", ["title", "starts_at", "unit_id", "audience_roles"]),
        ("rsvp", ["meeting_id", "answer"]),
    ],
)
def test_a_new_record_needs_its_required_fields(entity, required):
    with pytest.raises(ValidationError) as refused:
        check_fields(entity, {}, creating=True)
    assert refused.value.messages == {name: ["This is required."] for name in required}
    assert check_fields(entity, {}, creating=False) == {}


def test_a_new_conflict_record_needs_nothing():
    assert check_fields("conflict", {}, creating=True) == {}


@pytest.mark.parametrize(
    ("text", "bits", "value"),
    [("12", 32, 12), ("-2147483648", 32, -(2**31)), (str(2**40), 64, 2**40)],
)
def test_a_query_integer_is_read_from_text(text, bits, value):
    assert QueryInt(bits=bits).deserialize(text) == value


def test_a_query_integer_keeps_its_columns_range():
    with pytest.raises(ValidationError) as refused:
        QueryInt().deserialize(str(2**31))
    assert refused.value.messages == [INT32]
    assert QueryInt(bits=64).deserialize(str(2**31)) == 2**31


@pytest.mark.parametrize(
    ("value", "bits", "fits"),
    [
        (2**31 - 1, 32, True),
        (2**31, 32, False),
        (-(2**31), 32, True),
        (-(2**31) - 1, 32, False),
        (2**31, 64, True),
        (2**63, 64, False),
        (True, 32, False),
        (1.0, 32, False),
        ("1", 32, False),
    ],
)
def test_in_int_range(value, bits, fits):
    assert in_int_range(value, bits) is fits


def test_in_int_range_is_32_bits_unless_told():
    assert in_int_range(2**31) is False


@pytest.mark.parametrize(
    ("value", "safe"), [("राम", True), ("", True), ("a\x00", False), ("\udfff", False), (1, False)]
)
def test_is_safe_text(value, safe):
    assert is_safe_text(value) is safe


def test_normalise_phone_keeps_only_the_ten_digits():
    assert normalise_phone(" 98765 43210 ") == "9876543210"
    with pytest.raises(ValidationError, match="10-digit"):
        normalise_phone("+91 0987654321")
