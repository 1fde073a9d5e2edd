"""Marshmallow schemas of the sync endpoints' answers, the push body as documented, and the
record types the sync carries (the conflict record's own shape among them).

Requests are parsed by sync/protocol.py; `PushRequestDocument` only describes, for
/api/openapi.json, what a mutation that will not be rejected looks like, entity by entity.
"""

from marshmallow import Schema, fields, validate

from server.openapi import OneOf
from server.ranges import INT32_MAX, INT64_MAX
from server.record_schema import hlc_field
from server.syncing.registry import RECORD_TYPES
from sync.fields import ENTITY_FIELDS, StrictInt, Uuid, one_of
from sync.protocol import (
    APPLIED,
    CONFLICT,
    DUPLICATE,
    ENTITIES,
    MAX_MUTATIONS,
    MERGED,
    OPS,
    REJECTED,
    SCHEMA_VERSION,
    PushRequest,
)

STATUSES = (APPLIED, MERGED, CONFLICT, REJECTED, DUPLICATE)
SEQ_RANGE = validate.Range(min=1, max=INT64_MAX)
VERSION_RANGE = validate.Range(min=0, max=INT32_MAX)


# ---------------------------------------------------------------- the records


# Each record type's one schema is declared with it (server/syncing/registry.py): its
# wire form, its REST answers and its OpenAPI schema all come from it.
RECORD_SCHEMAS = {entity: record_type.schema for entity, record_type in RECORD_TYPES.items()}


def _any_record(**kw):
    return OneOf(list(RECORD_SCHEMAS.values()), **kw)


# ---------------------------------------------------------------- the push body


def _mutation_schema(entity):
    """One entity's mutation: its envelope and the fields a device may send for it."""
    return Schema.from_dict(
        {
            "seq": StrictInt(required=True, validate=SEQ_RANGE),
            "entity": fields.String(required=True, validate=one_of([entity])),
            "op": fields.String(required=True, validate=one_of(OPS)),
            "id": Uuid(required=True),
            "base_version": StrictInt(
                allow_none=True,
                validate=VERSION_RANGE,
                metadata={"description": "The version the device last saw; null creates."},
            ),
            "hlc": hlc_field(required=True),
            "fields": fields.Nested(type(ENTITY_FIELDS[entity])),
        },
        name=f"{entity.title().replace('_', '')}Mutation",
    )


class PushRequestDocument(PushRequest):
    """A device's outbox. A mutation that breaks its entity's schema is still answered 200,
    with status `rejected` and the field named; only `seq` is checked for the whole body."""

    schema_version = StrictInt(
        required=True,
        validate=one_of([SCHEMA_VERSION]),
        metadata={"description": "Any other version is answered 409 client_outdated."},
    )
    mutations = fields.List(
        OneOf([_mutation_schema(entity) for entity in ENTITIES]),
        required=True,
        validate=validate.Length(max=MAX_MUTATIONS),
    )


# ---------------------------------------------------------------- the answers


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(required=True, data_key="fields", attribute="fields")


class ConflictSchema(Schema):
    field = fields.String(required=True)
    kept = fields.Raw(required=True, allow_none=True)
    lost = fields.Raw(required=True, allow_none=True)


class MutationResultSchema(Schema):
    seq = fields.Integer(required=True)
    status = fields.String(required=True, validate=one_of(STATUSES))
    id = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True, allow_none=True)
    record = _any_record(
        required=True,
        allow_none=True,
        metadata={"description": "Today's record as this person sees it; null when hidden."},
    )
    conflicts = fields.List(fields.Nested(ConflictSchema), required=True)
    error = fields.Nested(ErrorBodySchema, required=True, allow_none=True)


class PushResponse(Schema):
    """The answer to a push: one result per mutation, in the order sent."""

    last_seq = fields.Integer(required=True)
    server_hlc = hlc_field(required=True)
    results = fields.List(fields.Nested(MutationResultSchema), required=True)


class ChangeSchema(Schema):
    """A record at its latest state, or (`removed`) one that left the person's scope."""

    entity = fields.String(required=True, validate=one_of(ENTITIES))
    id = fields.String(required=True)
    version = fields.Integer()
    deleted = fields.Boolean()
    removed = fields.Boolean()
    record = _any_record()


class PullResponse(Schema):
    """One page of changes; `reset` asks the device to drop its copies and pull again."""

    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)
    last_seq = fields.Integer(required=True)
    server_hlc = hlc_field(required=True)
    reset = fields.Boolean(required=True)
