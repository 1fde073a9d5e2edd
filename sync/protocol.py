"""The wire contract of docs/protocol.md version 1: request shapes, statuses, error codes."""

import base64
import json
import re

from marshmallow import (
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from sync import hlc as hlcs
from sync.fields import (
    ENTITY_FIELDS,
    UUID_RE,
    QueryInt,
    SafeString,
    StrictInt,
    Uuid,
    in_int_range,
    is_safe_text,
)

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
ENVELOPE_KEYS = {"seq", "entity", "op", "id", "base_version", "hlc", "fields"}
# A cursor we made is about 150 characters; anything far longer is not one of ours.
MAX_CURSOR_CHARS = 1024
CURSOR_KEYS = {"v", "lo", "hi", "after", "u", "sv", "db"}
# Which copy of the database made the cursor (server/syncing/database.py database_identity):
# PostgreSQL's system identifier, the database's oid and the timeline, joined by colons.
DATABASE_IDENTITY_RE = re.compile(r"[0-9a-z]{1,24}(:[0-9a-z]{1,24}){0,2}")
# The change index's scope keys: "b<booth id>", "b<booth id>r" for a record only its booth
# and the Connect Centre see (a complaint about an office-bearer), "u<unit id>a<roles>" for
# a meeting (its audience as bits of ROLES, server/meetings/store.py), "u<unit id>" for a
# conflict record about one, or "u" for an RSVP (server/syncing/visibility.py writes them).
SCOPE_KEY_RE = re.compile(r"b\d{1,10}r?|u\d{0,10}|u\d{1,10}a\d{1,2}", re.ASCII)


class MutationEnvelope(Schema):
    """Only `seq` is checked at the request level; the rest is checked per mutation, so one
    bad mutation is rejected on its own and never blocks the ones after it."""

    class Meta:
        unknown = INCLUDE

    seq = StrictInt(bits=64, required=True, validate=validate.Range(min=1))


ENVELOPE = MutationEnvelope()


class PushRequest(Schema):
    class Meta:
        unknown = RAISE

    # Text inside the mutations is checked one mutation at a time (`mutation_problems` and
    # the field types): a NUL in one mutation is that mutation's rejection, never a refusal
    # of the whole push. server/api.py checks the rest of the body as it checks every body.
    text_checked_per_item = ("mutations",)

    device_id = Uuid(required=True)
    schema_version = StrictInt(required=True)
    client_time = StrictInt(bits=64, load_default=None, allow_none=True)
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

    @post_load
    def _printable_envelopes(self, data, **_kw):
        data["mutations"] = [printable_envelope(raw) for raw in data["mutations"]]
        return data


class PullArgs(Schema):
    class Meta:
        unknown = RAISE

    cursor = SafeString(load_default="")
    limit = QueryInt(
        load_default=MAX_PULL_LIMIT, validate=validate.Range(min=1, max=MAX_PULL_LIMIT)
    )


def printable(text: str, limit: int = 64) -> str:
    """`text` safe to echo in an answer and to store: NUL and lone surrogates written as
    escapes (such a value is invalid wherever it appears, and stays so), cut to `limit`."""
    if not is_safe_text(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text[:limit]


def printable_envelope(raw: dict) -> dict:
    """A mutation whose envelope text (keys, entity, op, id, hlc) can be echoed and logged:
    such a value that is not a string (a list, an object) becomes its JSON text, and text
    with NUL or a lone surrogate is escaped, so it stays invalid and is answered `rejected`.

    Its `fields` are left as sent: the field types refuse what they must, field by field.
    """
    safe = {}
    for key, value in raw.items():
        if key in ("entity", "op", "id", "hlc") and value is not None:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            value = printable(text, 100)
        safe[key if key in ENVELOPE_KEYS else printable(key)] = value
    return safe


def mutation_problems(raw: dict) -> dict:
    """Field messages for a mutation's envelope (entity, op, id, base_version, hlc, fields)."""
    problems = {}
    for key in set(raw) - ENVELOPE_KEYS:
        problems[printable(key)] = ["Unknown field."]
    entity, op = raw.get("entity"), raw.get("op")
    if not isinstance(entity, str) or entity not in ENTITIES:
        problems["entity"] = [f"Must be one of: {', '.join(ENTITIES)}."]
    if not isinstance(op, str) or op not in OPS:
        problems["op"] = ["Must be upsert or delete."]
    if not isinstance(raw.get("id"), str) or not UUID_RE.match(raw["id"].lower()):
        problems["id"] = ["Not a valid id."]
    base = raw.get("base_version")
    if base is not None and not (in_int_range(base, 32) and base >= 0):
        problems["base_version"] = ["A version number or null."]
    if not hlcs.is_valid(raw.get("hlc")):
        problems["hlc"] = ["Not a valid HLC."]
    body = raw.get("fields", {})
    if not isinstance(body, dict):
        problems["fields"] = ["Send an object."]
    elif not all(is_safe_text(name) for name in body):
        problems["fields"] = ["A field name contains a character that is not allowed."]
    return problems


def envelope_error(raw: dict) -> dict | None:
    """The rejection of a mutation whose envelope is malformed, or None."""
    problems = mutation_problems(raw)
    if not problems:
        return None
    return {"code": "validation_error", "message": "The change is malformed.", "fields": problems}


def encode_cursor(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict | None:
    """The cursor's state, or None when it is not one of ours (the device then resets).

    A cursor comes back from the phone, so it is checked whole: every key, its type and its
    range, before any of it reaches a query. A forged one is "unknown": `reset: true`.
    """
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return state if is_cursor_state(state) else None


def is_cursor_state(state) -> bool:
    """Is `state` exactly what `pull_changes` encodes?"""
    if not isinstance(state, dict) or set(state) != CURSOR_KEYS:
        return False
    lo, hi, after = state["lo"], state["hi"], state["after"]
    if state["v"] != 1 or type(state["v"]) is not int:
        return False
    if not (in_int_range(state["u"], 32) and in_int_range(state["sv"], 32)):
        return False
    if not isinstance(state["db"], str) or not DATABASE_IDENTITY_RE.fullmatch(state["db"]):
        return False
    if not (in_int_range(lo, 64) and lo >= 0):
        return False
    if hi is not None and not (in_int_range(hi, 64) and hi >= lo):
        return False
    if after is None:
        return True
    if hi is None or not isinstance(after, list) or len(after) != 4:
        return False
    tx, entity, record_id, scope = after
    return (
        in_int_range(tx, 64)
        and isinstance(entity, str)
        and entity in ENTITIES
        and isinstance(record_id, str)
        and UUID_RE.match(record_id) is not None
        and isinstance(scope, str)
        and SCOPE_KEY_RE.fullmatch(scope) is not None
    )
