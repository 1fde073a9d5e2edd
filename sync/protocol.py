"""The wire contract of docs/protocol.md version 1: request shapes, statuses, error codes."""

import base64
import json
import re

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from sync.fields import ENTITY_FIELDS, StrictInt, Uuid

SCHEMA_VERSION = 1
MAX_MUTATIONS = 500
MAX_PULL_LIMIT = 500

APPLIED, MERGED, CONFLICT, REJECTED, DUPLICATE = (
    "applied",
    "merged",
    "conflict",
    "rejected",
    "duplicate",
)
ENTITIES = tuple(ENTITY_FIELDS)
OPS = ("upsert", "delete")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class MutationEnvelope(Schema):
    """Only `seq` is checked at the request level; the rest is checked per mutation, so one
    bad mutation is rejected on its own and never blocks the ones after it."""

    class Meta:
        unknown = INCLUDE

    seq = StrictInt(required=True, validate=validate.Range(min=1))


ENVELOPE = MutationEnvelope()


class PushRequest(Schema):
    class Meta:
        unknown = RAISE

    device_id = Uuid(required=True)
    schema_version = StrictInt(required=True)
    client_time = StrictInt(load_default=None, allow_none=True)
    mutations = fields.List(fields.Dict(), required=True)

    @validates_schema
    def _seqs(self, data, **_kw):
        errors = {}
        for i, raw in enumerate(data.get("mutations", [])):
            try:
                ENVELOPE.load(raw)
            except ValidationError as err:
                errors[str(i)] = err.messages
        if errors:
            raise ValidationError({"mutations": errors})


class PullArgs(Schema):
    class Meta:
        unknown = RAISE

    cursor = fields.String(load_default="")
    limit = fields.Integer(
        load_default=MAX_PULL_LIMIT, validate=validate.Range(min=1, max=MAX_PULL_LIMIT)
    )


def mutation_problems(raw: dict) -> dict:
    """Field messages for a mutation's envelope (entity, op, id, base_version, hlc, fields)."""
    from sync import hlc as hlc_mod

    problems = {}
    allowed = {"seq", "entity", "op", "id", "base_version", "hlc", "fields"}
    for key in set(raw) - allowed:
        problems[key] = ["Unknown field."]
    if raw.get("entity") not in ENTITIES:
        problems["entity"] = [f"Must be one of: {', '.join(ENTITIES)}."]
    if raw.get("op") not in OPS:
        problems["op"] = ["Must be upsert or delete."]
    if not isinstance(raw.get("id"), str) or not UUID_RE.match(raw["id"].lower()):
        problems["id"] = ["Not a valid id."]
    base = raw.get("base_version")
    if base is not None and (type(base) is not int or base < 0):
        problems["base_version"] = ["A version number or null."]
    if not hlc_mod.is_valid(raw.get("hlc")):
        problems["hlc"] = ["Not a valid HLC."]
    body = raw.get("fields", {})
    if not isinstance(body, dict):
        problems["fields"] = ["Send an object."]
    return problems


def encode_cursor(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict | None:
    """The cursor's state, or None when it is not one of ours (the device then resets)."""
    if not cursor:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(state, dict) or state.get("v") != 1 or not isinstance(state.get("lo"), int):
        return None
    return state
