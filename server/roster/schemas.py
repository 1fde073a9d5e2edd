"""Query arguments and answers of the online roster API."""

from marshmallow import fields

from server.listing import PageArgs, PageEnvelope, search_text
from server.ranges import Id
from server.record_schema import RecordSchema
from sync.fields import GENDERS, MEMBER_STATUSES, SKILLS, one_of


class MemberListArgs(PageArgs):
    booth_id = Id(metadata={"description": "A booth inside your scope."})
    block_id = Id(metadata={"description": "A block inside (or holding) your scope."})
    status = fields.String(validate=one_of(MEMBER_STATUSES))
    q = search_text()


# Phone numbers and EPICs are masked like this for viewers other than the booth's
# volunteer and its block president.
MASKED_NOTE = "In full for the booth's volunteer and block president, else masked ({})."


class MemberRecord(RecordSchema):
    """A roster member as this viewer sees it: on the wire and in the online API."""

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
