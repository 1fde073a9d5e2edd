"""Answers of the unit tree API: units with their counts, nested or one level deep."""

from marshmallow import Schema, fields

from server.geo.models import UNIT_TYPES
from sync.fields import MEMBER_STATUSES

# Live roster members by status; one field per status, so a new status is counted too.
MemberCounts = Schema.from_dict(
    {status: fields.Integer(required=True) for status in MEMBER_STATUSES}, name="MemberCounts"
)


class GrievanceCounts(Schema):
    open = fields.Integer(
        required=True, metadata={"description": "Not yet resolved, closed or withdrawn."}
    )
    total = fields.Integer(required=True)


class UnitCounts(Schema):
    """What lies under a unit; soft-deleted records are not counted."""

    booths = fields.Integer(required=True)
    members = fields.Nested(MemberCounts, required=True)
    grievances = fields.Nested(GrievanceCounts, required=True)


class UnitNode(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"enum": list(UNIT_TYPES)})
    code = fields.String(required=True, metadata={"description": "For example RAN-KANKE."})
    name_en = fields.String(required=True)
    name_hi = fields.String(required=True)
    number = fields.Integer(
        allow_none=True, metadata={"description": "A booth's number in its seat, or a seat's."}
    )
    reserved = fields.String(allow_none=True, metadata={"description": "SC or ST, for seats."})
    parent_id = fields.Integer(allow_none=True)
    counts = fields.Nested(UnitCounts, required=True)


class UnitTree(UnitNode):
    """A unit with the units below it, each with its own `children`."""

    children = fields.List(fields.Nested(lambda: UnitTree()), required=True)


class UnitWithChildren(UnitNode):
    """A unit with its direct children (without theirs)."""

    children = fields.List(fields.Nested(UnitNode), required=True)
