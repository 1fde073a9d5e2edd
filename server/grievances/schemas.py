"""Query arguments and answers of the online grievance API."""

from marshmallow import Schema, fields

from server.listing import PageArgs, PageEnvelope, search_text
from server.ranges import Id
from server.record_schema import COLUMN, RecordSchema
from sync.fields import GRIEVANCE_CATEGORIES, GRIEVANCE_STATUSES, one_of


class GrievanceListArgs(PageArgs):
    booth_id = Id(metadata={"description": "A booth inside your scope."})
    block_id = Id(metadata={"description": "A block inside (or holding) your scope."})
    status = fields.String(validate=one_of(GRIEVANCE_STATUSES))
    category = fields.String(validate=one_of(GRIEVANCE_CATEGORIES))
    overdue = fields.Boolean(
        metadata={
            "description": "true: past due and not resolved, closed or withdrawn; "
            "false: the others."
        }
    )
    q = search_text()


class GrievanceRecord(Schema):
    """A grievance as this viewer sees it: on the wire and in the online API.

    Not a RecordSchema: its created_at and received_at come first, in another order."""

    id = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = fields.Integer(
        required=True,
        metadata={
            "description": "When it was typed on the phone (Unix ms).",
            COLUMN: "reported_at",
        },
    )
    received_at = fields.Integer(
        required=True,
        metadata={"description": "When the server got it (Unix ms).", COLUMN: "created_at"},
    )
    updated_at = fields.Integer(required=True)
    created_by = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
    ref_no = fields.String(required=True)
    booth_id = fields.Integer(required=True)
    category = fields.String(required=True, validate=one_of(GRIEVANCE_CATEGORIES))
    description = fields.String(required=True)
    complainant_name = fields.String()
    complainant_phone = fields.String(
        allow_none=True,
        metadata={
            "description": "In full for the booth's volunteer and block president, "
            "else masked (******3210)."
        },
    )
    against = fields.String()
    status = fields.String(required=True, validate=one_of(GRIEVANCE_STATUSES))
    due_at = fields.Integer(required=True)
    status_history = fields.List(
        fields.Dict(), metadata={"description": "Each change of status, oldest first."}
    )


class GrievanceNoteRecord(RecordSchema):
    """A note on a grievance's thread."""

    grievance_id = fields.String(required=True)
    booth_id = fields.Integer(required=True)
    text = fields.String(required=True)


class GrievanceDetail(GrievanceRecord):
    notes = fields.List(
        fields.Nested(GrievanceNoteRecord),
        required=True,
        metadata={"description": "The note thread, oldest first."},
    )


class GrievancePage(PageEnvelope):
    items = fields.List(fields.Nested(GrievanceRecord), required=True)
