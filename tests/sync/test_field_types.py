"""The field types of sync/fields.py built and used head-on, as the sync schemas and the
online API's schemas build them: their ranges, extra validators, length limits and
messages (test_field_rules.py checks the fields of each record type)."""

import pytest
from marshmallow import Schema, ValidationError, validate

from sync.fields import Choice, QueryInt, StrictBool, StrictInt, Text


def load(field, value):
    schema = Schema.from_dict({"f": field})()
    return schema.load({"f": value})["f"]


def error(field, value):
    with pytest.raises(ValidationError) as raised:
        load(field, value)
    return raised.value.messages["f"]


@pytest.mark.parametrize(
    ("bits", "low", "high"),
    [(32, -(2**31), 2**31 - 1), (64, -(2**63), 2**63 - 1)],
)
def test_a_strict_int_takes_its_columns_range_and_nothing_past_it(bits, low, high):
    field = StrictInt(bits=bits)
    assert load(field, low) == low and load(StrictInt(bits=bits), high) == high
    message = [f"A whole number from {low} to {high}."]
    assert error(StrictInt(bits=bits), low - 1) == message
    assert error(StrictInt(bits=bits), high + 1) == message
    assert error(StrictInt(bits=bits), "5") == ["Not a valid integer."]


@pytest.mark.parametrize(
    "extra",
    [
        validate.Range(min=1),
        [validate.Range(min=1)],
        (validate.Range(min=1), validate.Range(max=9)),
    ],
)
def test_a_strict_int_keeps_the_validators_it_is_given_beside_its_range(extra):
    assert load(StrictInt(validate=extra), 5) == 5
    assert error(StrictInt(validate=extra), 0) == ["Must be greater than or equal to 1."]
    assert error(StrictInt(validate=extra), 2**31)[0] == (
        "A whole number from -2147483648 to 2147483647."
    )


def test_a_strict_int_passes_its_other_options_on():
    schema = Schema.from_dict({"f": StrictInt(load_default=7)})()
    assert schema.load({}) == {"f": 7}


def test_a_query_int_is_given_as_text_within_its_range():
    assert load(QueryInt(), "12") == 12
    assert error(QueryInt(), "2147483648") == ["A whole number from -2147483648 to 2147483647."]
    assert Schema.from_dict({"f": QueryInt(load_default=3)})().load({}) == {"f": 3}


@pytest.mark.parametrize(
    ("min_length", "value", "message"),
    [
        (1, " ", "This is required."),
        (3, "ab", "At least 3 characters."),
        (0, "abcdef", "At most 5 characters."),
    ],
)
def test_a_texts_length_is_checked_after_trimming(min_length, value, message):
    assert error(Text(5, min_length), value) == [message]
    assert load(Text(5, min_length), " abc ") == "abc"


def test_a_text_passes_its_other_options_on_and_a_choice_names_its_choices():
    assert Schema.from_dict({"f": Text(5, load_default="x")})().load({}) == {"f": "x"}
    assert error(Choice(("yes", "no")), "maybe") == ["Must be one of: yes, no."]
    assert load(Choice(("yes", "no")), "no") == "no"
    assert Schema.from_dict({"f": Choice(("a",), load_default="a")})().load({}) == {"f": "a"}


def test_a_text_without_a_minimum_may_be_left_blank():
    # As a member's notes or a meeting's agenda: cleared, not refused.
    assert load(Text(5), "") == ""
    assert load(Text(5), "   ") == ""


@pytest.mark.parametrize("value", [1, 0, 1.0, "true", []])
def test_a_strict_bool_takes_only_true_or_false_and_can_name_what_it_got(value):
    assert load(StrictBool(), True) is True and load(StrictBool(), False) is False
    assert error(StrictBool(), value) == ["Not a valid boolean."]
    named = StrictBool(error_messages={"invalid": "{input!r} is not true or false."})
    assert error(named, value) == [f"{value!r} is not true or false."]
