"""Query arguments and answers of the online roster API."""

from marshmallow import Schema, fields

from server.listing import PageArgs, PageEnvelope, search_text
from server.ranges import Id
from sync.fields import GENDERS, MEMBER_STATUSES, SKILLS, one_of


class MemberListArgs(PageArgs):
    booth_id = Id(metadata={"description": "A booth inside your scope."})
    block_id = Id(metadata={"description": "A block inside (or holding) your scope."})
    status = fields.String(validate=one_of(MEMBER_STATUSES))
    q = search_text()


# Phone numbers and EPICs are masked like this for viewers other than the booth's
# volunteer and its block president.
MASKED_NOTE = "In full for the booth's volunteer and block president, else masked ({})."


class MemberRecord(Schema):
    """A roster member as server.serialize.to_record gives it to this viewer."""

    id = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = fields.Integer(required=True, metadata={"description": "Unix ms."})
    updated_at = fields.Integer(required=True, metadata={"description": "Unix ms."})
    created_by = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
    booth_id = fields.Integer(required=True)
    name = fields.String(required=True)
    age = fields.Integer(required=True)
    gender = fields.String(required=True, validate=one_of(GENDERS))
    phone = fields.String(
        allow_none=True, metadata={"description": MASKED_NOTE.format("******3210")}
    )
    epic = fields.String(
        allow_none=True, metadata={"description": MASKED_NOTE.format("ABC*****67")}
    )
    skills = fields.List(fields.String(validate=one_of(SKILLS)))
    consent = fields.Boolean()
    consent_at = fields.Integer(allow_none=True)
    notes = fields.String()
    status = fields.String(validate=one_of(MEMBER_STATUSES))
    status_reason = fields.String()
    reviewed_by = fields.Integer(allow_none=True)
    reviewed_at = fields.Integer(allow_none=True)


class MemberPage(PageEnvelope):
    items = fields.List(fields.Nested(MemberRecord), required=True)
