"""A push: a device's outbox applied in one transaction, each mutation answered (docs/sync.md,
"Push")."""

import logging

from flask import current_app
from sqlalchemy import insert, select

from server.accounts.models import Device
from server.errors import ApiError
from server.extensions import db
from server.meetings.models import Meeting
from server.push import alerts
from server.records import now_ms
from server.syncing import visibility
from server.syncing.models import AppliedMutation
from server.syncing.registry import MODELS
from server.syncing.retry import with_retries
from server.syncing.store import BatchStore
from sync import device_clock
from sync import hlc as hlcs
from sync.engine import apply_mutation
from sync.protocol import (
    DUPLICATE,
    MAX_MUTATIONS,
    REJECTED,
    SCHEMA_VERSION,
    UUID_RE,
    envelope_error,
)
from sync.scope import can_see
from sync.values import Mutation, Principal, Rejection

log = logging.getLogger(__name__)


def principal(actor) -> Principal:
    unit = actor.user.unit
    return Principal(
        actor.user.id,
        actor.user.role,
        unit.id,
        unit.type,
        unit.district_id,
        unit.block_id,
        actor.device_id,
        actor.device.created_at if actor.device else None,
    )


def push_changes(actor, body: dict, address: str | None = None) -> dict:
    """Apply a device's outbox in seq order, in one transaction; answer each mutation.
    `address` is the client's, for the audit log."""
    if body["schema_version"] != SCHEMA_VERSION:
        raise ApiError(
            "client_outdated",
            "This version of the app is too old; update it.",
            409,
            {"schema_version": [f"The server speaks version {SCHEMA_VERSION}."]},
        )
    if body["device_id"] != actor.device_id:
        raise ApiError(
            "device_mismatch",
            "This outbox belongs to another device.",
            403,
            {"device_id": ["Not the device this session belongs to."]},
        )
    mutations = sorted(body["mutations"], key=lambda raw: raw["seq"])
    if len(mutations) > MAX_MUTATIONS:
        raise ApiError(
            "too_large",
            f"At most {MAX_MUTATIONS} mutations a request.",
            413,
            {"mutations": [f"At most {MAX_MUTATIONS}."]},
        )
    # One transaction, run again from scratch when it loses a deadlock or a race.
    return with_retries(lambda: push_once(actor, mutations, address), actor.device_id)


def push_once(actor, mutations: list, address: str | None = None) -> dict:
    """One try at the push: the device row, then the store's locks (docs/sync.md, "Lock
    order"), the engine in memory, the batch written in bulk, one commit."""
    # Serialise pushes of one device (a retry racing its original) on the device row.
    device = db.session.execute(
        select(Device)
        .where(Device.id == actor.device_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    last_seq = device.last_seq
    fresh = [raw for raw in mutations if raw["seq"] > last_seq]
    for expected, raw in enumerate(fresh, start=last_seq + 1):
        if raw["seq"] != expected:
            raise ApiError(
                "seq_gap", f"Mutation {expected} is missing.", 409, {"expected": expected}
            )

    now = now_ms()
    who = principal(actor)
    store = BatchStore(actor, address=address)
    store.prepare(fresh)
    done = {} if len(fresh) == len(mutations) else replayed(actor, mutations[0]["seq"], last_seq)
    results, applied, events, latest = [], [], [], None
    for raw in mutations:
        if raw["seq"] <= last_seq:
            results.append(replay(store, who, raw, done.get(raw["seq"])))
            continue
        result, stamp = apply_one(store, who, raw, now, events)
        results.append(result)
        if stamp and (latest is None or stamp > latest):
            latest = stamp
        applied.append(
            {
                "device_id": device.id,
                "seq": raw["seq"],
                "entity": str(raw.get("entity"))[:16],
                "record_id": str(raw.get("id"))[:36],
                "status": result["status"],
                "error": result["error"],
                "at": now,
            }
        )
        last_seq = raw["seq"]
    # A uniqueness race the locks did not cover raises IntegrityError: the push is tried
    # again (server/syncing/retry.py).
    store.flush()
    dispatch(events, actor)
    if applied:
        db.session.execute(insert(AppliedMutation.__table__), applied)
    device.last_seq = last_seq
    device.last_seen_at = now
    before_commit(len(applied))
    db.session.commit()
    return {
        "last_seq": last_seq,
        "server_hlc": hlcs.server_stamp(now_ms(), latest),
        "results": results,
    }


def before_commit(applied: int):
    """Where a push is written and not yet committed: tests that lose a push there (a
    crash, a deadlock) install a callable of the number of mutations applied as
    app.extensions["sync.before_commit"]. Production never does."""
    hook = current_app.extensions.get("sync.before_commit")
    if hook is not None:
        hook(applied)


def dispatch(events, actor):
    """Hand the engine's events to whoever hears of them, once the batch is written and in
    the same transaction: a meeting alert is a row of the push outbox, so a push that is
    rolled back or retried never sends one, and one that commits never loses one."""
    for event in events:
        if event.name == "meeting_changed":
            alerts.meeting_changed(db.session.get(Meeting, event.record_id), event.detail, actor)


def apply_one(store, who, raw, now, events):
    """Apply one mutation; a rejection leaves nothing of it behind in the batch."""
    error = envelope_error(raw) or device_clock.foreign_clock(raw["hlc"], who.device_id)
    if error:
        return rejected(store, who, raw, error), None
    mutation = Mutation(
        raw["seq"],
        raw["entity"],
        raw["op"],
        raw["id"].lower(),
        raw.get("base_version"),
        device_clock.device_clock(raw["hlc"], now, who.device_id, who.registered_at),
        raw.get("fields") or {},
    )
    store.begin()
    try:
        outcome = apply_mutation(store, who, mutation, now)
    except Rejection as rejection:
        store.rollback()
        return rejected(store, who, raw, rejection.as_error()), mutation.hlc
    store.commit()
    events.extend(outcome.events)
    record = outcome.record
    return {
        "seq": mutation.seq,
        "status": outcome.status,
        "id": record.id,
        "version": record.version,
        "record": visible_record(store, who, record.entity, record.id),
        "conflicts": visibility.answer_conflicts(store, who, record, outcome.conflicts),
        "error": outcome.error,
    }, mutation.hlc


def rejected(store, who, raw, error):
    return unchanged(store, who, raw, REJECTED, error)


def unchanged(store, who, raw, status, error):
    """The answer to a mutation that changed nothing: today's record as the pusher sees it."""
    record = current_record(store, who, raw)
    return {
        "seq": raw["seq"],
        "status": status,
        "id": raw.get("id"),
        "version": record["version"] if record else None,
        "record": record,
        "conflicts": [],
        "error": error,
    }


def current_record(store, who, raw):
    if raw.get("entity") not in MODELS or not isinstance(raw.get("id"), str):
        return None
    if not UUID_RE.match(raw["id"].lower()):
        return None
    return visible_record(store, who, raw["entity"], raw["id"].lower())


def visible_record(store, who, entity, record_id):
    """Today's record for the answer, or None when the person may not read it."""
    record = store.load(entity, record_id)
    if record is None or not can_see(store, who, record):
        return None
    return store.view(entity, record_id, store.actor.user)


def replayed(actor, first_seq, last_seq) -> dict:
    """The stored outcomes of the retried seqs, in one query."""
    rows = db.session.execute(
        select(AppliedMutation).where(
            AppliedMutation.device_id == actor.device_id,
            AppliedMutation.seq.between(first_seq, last_seq),
        )
    ).scalars()
    return {row.seq: row for row in rows}


def replay(store, who, raw, done):
    """A seq applied before (a retry): today's record, and the same rejection if it was one."""
    if done is not None and done.status == REJECTED:
        return rejected(store, who, raw, done.error)
    return unchanged(store, who, raw, DUPLICATE, None)
