"""Query arguments and answers of the online roster API, and the paging both lists share."""

from marshmallow import Schema, fields, validate

from server.ranges import PAGE_RANGE, Id
from sync.fields import GENDERS, MEMBER_STATUSES, SKILLS, Text, one_of

MAX_PER_PAGE = 200


class PageArgs(Schema):
    """Paging arguments; unknown query arguments are refused (marshmallow's default)."""

    page = fields.Integer(load_default=1, validate=PAGE_RANGE, metadata={"description": "From 1."})
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"At most {MAX_PER_PAGE}."},
    )


class PageEnvelope(Schema):
    """One page of a list, with what a pager needs to draw itself."""

    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Rows on all pages."})
    pages = fields.Integer(required=True, metadata={"description": "0 when nothing matches."})


def search_text():
    """The `q` argument: NFC-normalised and trimmed, so Hindi typed any way still matches."""
    return Text(
        100,
        metadata={"description": "Text search; Hindi (Devanagari) or English, any case."},
    )


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
