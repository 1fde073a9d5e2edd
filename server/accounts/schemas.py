"""Request and answer shapes of the accounts API: login, sessions, devices, people."""

from marshmallow import Schema, fields, validate

from server.geo.models import UNIT_TYPES
from server.listing import PageArgs
from server.ranges import ID_RANGE, Id
from sync.fields import ROLES, Phone, StrictInt, Text, Uuid, one_of

LANGUAGES = ("hi", "en")
PASSWORD_MIN = 8
# Argon2 takes any length; the cap only stops a megabyte "password" costing CPU.
PASSWORD_MAX = 128


class Password(fields.String):
    """A new password: 8 to 128 characters, kept exactly as typed (spaces count)."""

    def __init__(self, **kw):
        super().__init__(
            validate=validate.Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                error=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
            load_only=True,
            **kw,
        )


# Requests


class LoginArgs(Schema):
    phone = Phone(required=True, metadata={"description": "10 digits; +91 or 0 is stripped."})
    # Not checked for length: an old password shorter than today's rule must still work.
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=PASSWORD_MAX)
    )
    device_id = Uuid(required=True, metadata={"description": "Made once per installation."})
    device_name = Text(120, load_default="", metadata={"description": "Like 'Redmi 9A'."})


class MeUpdateArgs(Schema):
    language = fields.String(validate=one_of(LANGUAGES))
    name = Text(120, 1)


class UserListArgs(PageArgs):
    role = fields.String(validate=one_of(ROLES))
    unit_id = Id(metadata={"description": "People whose unit lies inside this one."})
    q = Text(100, metadata={"description": "Part of a name or phone number."})


class UserCreateArgs(Schema):
    phone = Phone(required=True)
    name = Text(120, 1, required=True)
    password = Password(required=True)
    role = fields.String(required=True, validate=one_of(ROLES))
    unit_id = StrictInt(
        required=True, validate=ID_RANGE, metadata={"description": "Must be of the role's type."}
    )


class UserUpdateArgs(Schema):
    role = fields.String(validate=one_of(ROLES))
    unit_id = StrictInt(validate=ID_RANGE)
    name = Text(120, 1)


class DeviceListArgs(Schema):
    user_id = Id(metadata={"description": "Admin and Connect Centre only."})


# Answers


class UnitBrief(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, validate=one_of(UNIT_TYPES))
    code = fields.String(required=True)
    name = fields.String(attribute="name_hi", required=True, metadata={"description": "Hindi."})
    name_en = fields.String(required=True)


class Ancestors(fields.List):
    """The units above a unit, from the top (the state) down to its parent."""

    def get_value(self, obj, attr, accessor=None, default=None):
        chain = []
        unit = obj.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain[::-1]


class UnitPlaced(UnitBrief):
    ancestors = Ancestors(fields.Nested(UnitBrief), required=True)


class SessionUser(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=one_of(ROLES))
    language = fields.String(required=True, validate=one_of(LANGUAGES))
    unit = fields.Nested(UnitBrief, required=True)


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)


class SessionAnswer(TokenPair):
    user = fields.Nested(SessionUser, required=True)


class UserRecord(Schema):
    id = fields.Integer(required=True)
    phone = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=one_of(ROLES))
    language = fields.String(required=True, validate=one_of(LANGUAGES))
    active = fields.Boolean(required=True)
    unit = fields.Nested(UnitBrief, required=True)
    created_at = fields.Integer(required=True)
    updated_at = fields.Integer(required=True)


class UserPage(Schema):
    # Not a PageEnvelope: that would move `items` after the paging fields in the answer.
    items = fields.List(fields.Nested(UserRecord), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True, metadata={"description": "0 when nothing matches."})


class DeviceRecord(Schema):
    id = fields.String(required=True)
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.Integer(required=True)
    last_seen_at = fields.Integer(required=True)
    revoked_at = fields.Integer(allow_none=True)


class DeviceList(Schema):
    items = fields.List(fields.Nested(DeviceRecord), required=True)


class MeUser(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    phone = fields.String(required=True)
    role = fields.String(required=True, validate=one_of(ROLES))
    language = fields.String(required=True, validate=one_of(LANGUAGES))
    scope_version = fields.Integer(required=True)
    unit = fields.Nested(UnitPlaced, required=True)


class RoleLists(Schema):
    """Who reviews roster entries, who leads (grievances, meetings), who sees mobile
    numbers and EPICs in full: the server's lists (sync/scope.py), so the app keeps no copy."""

    reviewers = fields.List(fields.String(validate=one_of(ROLES)), required=True)
    leaders = fields.List(fields.String(validate=one_of(ROLES)), required=True)
    full_personal_data = fields.List(fields.String(validate=one_of(ROLES)), required=True)


class MeAnswer(Schema):
    user = fields.Nested(MeUser, required=True)
    device = fields.Nested(DeviceRecord, required=True)
    role_lists = fields.Nested(RoleLists, required=True)
