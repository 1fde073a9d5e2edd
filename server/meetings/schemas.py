"""Meetings and RSVPs as people see them, on the wire (they have no online API yet)."""

from marshmallow import fields

from server.record_schema import RecordSchema
from sync.fields import MEETING_STATUSES, ROLES, RSVP_ANSWERS, one_of


class MeetingRecord(RecordSchema):
    """A meeting called for a unit, seen by the roles it is meant for."""

    title = fields.String(required=True)
    agenda = fields.String(required=True)
    starts_at = fields.Integer(required=True, metadata={"description": "Unix ms."})
    place = fields.String(required=True)
    online_url = fields.String(required=True, metadata={"description": "Empty when none."})
    unit_id = fields.Integer(required=True)
    audience_roles = fields.List(fields.String(validate=one_of(ROLES)), required=True)
    status = fields.String(required=True, validate=one_of(MEETING_STATUSES))


class RsvpRecord(RecordSchema):
    """A person's answer to a meeting: one per person and meeting."""

    meeting_id = fields.String(required=True)
    user_id = fields.Integer(required=True)
    answer = fields.String(required=True, validate=one_of(RSVP_ANSWERS))
