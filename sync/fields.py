"""What a device may send for each entity, and how each value is checked and normalised.

The same schemas validate a sync mutation's `fields` and the online API's bodies, so a
value the phone accepts offline is one the server accepts (and the app mirrors them).
"""

import re
import unicodedata

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from sync.values import Mutation, Rejection

# Anchored with \Z, not $: `$` also matches before a trailing newline.
PHONE_RE = re.compile(r"^[6-9]\d{9}\Z")
EPIC_RE = re.compile(r"^[A-Z]{3}\d{7}\Z")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# What no stored text may hold: PostgreSQL refuses NUL, and a lone surrogate (half of a
# UTF-16 pair, which JSON's \ud800 escape can carry) cannot be encoded as UTF-8 at all.
UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "Contains a character that is not allowed (NUL or a broken surrogate)."
# The ranges of the database's integer columns.
INT_RANGES = {32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}

GENDERS = ("male", "female", "other")
SKILLS = ("speaker", "social_media", "writing", "organiser", "booth_management", "other")
MEMBER_STATUSES = ("pending", "approved", "rejected", "waitlisted")
GRIEVANCE_CATEGORIES = (
    "road",
    "water",
    "electricity",
    "ration",
    "pension",
    "mgnrega",
    "health",
    "education",
    "land",
    "official_conduct",
    "party_conduct",
    "other",
)
GRIEVANCE_STATUSES = (
    "new",
    "acknowledged",
    "in_progress",
    "resolved",
    "reopened",
    "closed",
    "withdrawn",
)
MEETING_STATUSES = ("scheduled", "cancelled")
RSVP_ANSWERS = ("yes", "no", "maybe")
ROLES = ("volunteer", "block_president", "district_president", "connect_centre", "admin")


def is_safe_text(value) -> bool:
    """A string the database can store: no NUL, no lone surrogate."""
    return isinstance(value, str) and UNSAFE_TEXT.search(value) is None


def in_int_range(value, bits=32) -> bool:
    """An int (not a bool) that fits a database column of `bits` bits."""
    low, high = INT_RANGES[bits]
    return type(value) is int and low <= value <= high


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def normalise_phone(value: str) -> str:
    """Strip spaces, dashes and a +91 or 0 prefix; raise when not an Indian mobile."""
    digits = re.sub(r"[\s-]", "", value)
    if digits.startswith("+91"):
        digits = digits[3:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if not PHONE_RE.match(digits):
        raise ValidationError("Enter a 10-digit mobile number starting with 6, 7, 8 or 9.")
    return digits


class SafeString(fields.String):
    """A string the database can store: NUL and lone surrogates are refused.

    Every text field type here derives from it, so every schema built from them (sync
    mutations and the online API alike) inherits the rule.
    """

    def _deserialize(self, value, attr, data, **kw):
        text = super()._deserialize(value, attr, data, **kw)
        if UNSAFE_TEXT.search(text):
            raise ValidationError(UNSAFE_TEXT_MESSAGE)
        return self.clean(text)

    def clean(self, text: str):
        """A subclass's own check and normal form of a storable string."""
        return text


class Choice(SafeString):
    """One of a fixed set of strings."""

    def __init__(self, choices, **kw):
        super().__init__(validate=one_of(choices), **kw)


class Text(SafeString):
    """A string, NFC-normalised and trimmed, with length checked after normalising."""

    def __init__(self, max_length, min_length=0, **kw):
        super().__init__(**kw)
        self.min_length = min_length
        self.max_length = max_length

    def clean(self, text):
        text = nfc(text)
        if len(text) < self.min_length:
            raise ValidationError(
                "This is required."
                if self.min_length == 1
                else f"At least {self.min_length} characters."
            )
        if len(text) > self.max_length:
            raise ValidationError(f"At most {self.max_length} characters.")
        return text


class Phone(SafeString):
    def clean(self, text):
        return normalise_phone(text)


class Epic(SafeString):
    def clean(self, text):
        epic = re.sub(r"\s", "", text).upper()
        if not EPIC_RE.match(epic):
            raise ValidationError("A voter ID is 3 letters and 7 digits, like ABC1234567.")
        return epic


class OnlineUrl(SafeString):
    """An https (or http) address, or empty for an in-person meeting."""

    _url = validate.URL(
        schemes={"https", "http"}, error="Enter a web address starting with https://."
    )

    def clean(self, text):
        url = text.strip()
        if len(url) > 500:
            raise ValidationError("At most 500 characters.")
        return url and self._url(url)


class StrictBool(fields.Boolean):
    """JSON true or false only: `1 in {True}` holds in Python, so 1 and 0 (and 1.0) are
    refused by type, not matched against the sets."""

    truthy = {True}
    falsy = {False}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInt(fields.Integer):
    """A JSON integer (never a float, string or boolean) that fits its database column:
    `bits=32` for INTEGER columns (ids, ages, versions), `bits=64` for BIGINT ones (times,
    seqs). Out of range is a validation error, never a database error."""

    def __init__(self, bits=32, strict=True, **kw):
        low, high = INT_RANGES[bits]
        rng = validate.Range(low, high, error=f"A whole number from {low} to {high}.")
        extra = kw.pop("validate", None)
        extra = [] if extra is None else [extra] if callable(extra) else list(extra)
        super().__init__(strict=strict, validate=[rng, *extra], **kw)


class QueryInt(StrictInt):
    """An integer in a query string (so given as text), within its column's range."""

    def __init__(self, bits=32, **kw):
        super().__init__(bits=bits, strict=False, **kw)


class Uuid(SafeString):
    def clean(self, text):
        text = text.lower()
        if not UUID_RE.match(text):
            raise ValidationError("Not a valid id.")
        return text


def one_of(choices):
    return validate.OneOf(choices, error="Must be one of: {choices}.")


# Unix milliseconds between 2020 and 2100: catches seconds sent for milliseconds.
MS_RANGE = validate.Range(
    min=1_577_836_800_000, max=4_102_444_800_000, error="A time in Unix milliseconds."
)


class EntityFields(Schema):
    class Meta:
        unknown = RAISE


class MemberFields(EntityFields):
    booth_id = StrictInt()
    name = Text(120, 1)
    age = StrictInt(validate=validate.Range(18, 35, error="Youth members are 18 to 35 years old."))
    gender = Choice(GENDERS)
    phone = Phone(allow_none=True)
    epic = Epic(allow_none=True)
    skills = fields.List(Choice(SKILLS), validate=validate.Length(max=6))
    consent = StrictBool()
    notes = Text(1000)
    status = Choice(MEMBER_STATUSES)
    status_reason = Text(500)


class GrievanceFields(EntityFields):
    booth_id = StrictInt()
    category = Choice(GRIEVANCE_CATEGORIES)
    description = Text(5000, 1)
    complainant_name = Text(120)
    complainant_phone = Phone(allow_none=True)
    against = Text(200)
    status = Choice(GRIEVANCE_STATUSES)
    created_at = StrictInt(bits=64, validate=MS_RANGE)


class GrievanceNoteFields(EntityFields):
    grievance_id = Uuid()
    text = Text(5000, 1)


class MeetingFields(EntityFields):
    title = Text(200, 1)
    agenda = Text(5000)
    starts_at = StrictInt(bits=64, validate=MS_RANGE)
    place = Text(300)
    online_url = OnlineUrl()
    unit_id = StrictInt()
    audience_roles = fields.List(Choice(ROLES), validate=validate.Length(min=1, max=5))
    status = Choice(MEETING_STATUSES)


class RsvpFields(EntityFields):
    meeting_id = Uuid()
    answer = Choice(RSVP_ANSWERS)


class ConflictFields(EntityFields):
    resolved = StrictBool()


ENTITY_FIELDS = {
    "member": MemberFields(),
    "grievance": GrievanceFields(),
    "grievance_note": GrievanceNoteFields(),
    "meeting": MeetingFields(),
    "rsvp": RsvpFields(),
    "conflict": ConflictFields(),
}

# Fields each entity needs when it is created.
REQUIRED_ON_CREATE = {
    "member": ("booth_id", "name", "age", "gender", "consent"),
    "grievance": ("booth_id", "category", "description"),
    "grievance_note": ("grievance_id", "text"),
    "meeting": ("title", "starts_at", "unit_id", "audience_roles"),
    "rsvp": ("meeting_id", "answer"),
    "conflict": (),
}


def check_fields(entity: str, values: dict, creating: bool) -> dict:
    """Validate and normalise `values` for `entity`; raise ValidationError with per-field messages."""
    loaded = ENTITY_FIELDS[entity].load(values, partial=True)
    if creating:
        missing = {f: ["This is required."] for f in REQUIRED_ON_CREATE[entity] if f not in loaded}
        if missing:
            raise ValidationError(missing)
    return loaded


def validated(entity: str, m: Mutation, creating: bool = False) -> dict:
    """A mutation's fields checked and normalised, or its rejection with the messages:
    those of a new record (`creating`) or of an edit, which may leave any of them out."""
    try:
        return check_fields(entity, m.fields, creating)
    except ValidationError as err:
        raise Rejection("validation_error", "Some fields are not valid.", err.messages) from err
