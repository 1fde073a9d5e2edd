"""Marshmallow schemas of the sync endpoints' answers (requests: sync/protocol.py)."""

from marshmallow import Schema, fields


class MutationResultSchema(Schema):
    seq = fields.Integer()
    status = fields.String()
    id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    record = fields.Dict(allow_none=True)
    conflicts = fields.List(fields.Dict())
    error = fields.Dict(allow_none=True)


class PushAnswerSchema(Schema):
    last_seq = fields.Integer()
    server_hlc = fields.String()
    results = fields.List(fields.Nested(MutationResultSchema))


class ChangeSchema(Schema):
    entity = fields.String()
    id = fields.String()
    version = fields.Integer()
    deleted = fields.Boolean()
    removed = fields.Boolean()
    record = fields.Dict()


class PullAnswerSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    cursor = fields.String()
    has_more = fields.Boolean()
    last_seq = fields.Integer()
    server_hlc = fields.String()
    reset = fields.Boolean()
