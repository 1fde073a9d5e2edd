"""Conflict records: the losing side of a merge, kept until its author or the block
president resolves it (rule 2 of docs/protocol.md). They are made by the merge
(sync/merge.py); a device only marks them resolved."""

from sync.fields import validated
from sync.merge import merge, write
from sync.protocol import APPLIED, MERGED
from sync.records import RecordRules
from sync.scope import REVIEWERS, within
from sync.values import Outcome, Rejection, not_found


def conflict_values(about, place, kind, lost, kept, lost_hlc, author_id) -> dict:
    """A new conflict record's values, as every store keeps them: the record it is about,
    the values that lost and those kept, who typed the loser, and where it is seen (its
    booth, or the unit of a meeting)."""
    return {
        "entity": about.entity,
        "record_id": about.id,
        "kind": kind,
        "lost": lost,
        "kept": kept,
        "lost_hlc": lost_hlc,
        "author_id": author_id,
        "resolved": False,
        "booth_id": place.id if place.type == "booth" else None,
        "unit_id": None if place.type == "booth" else place.id,
    }


def apply_conflict(store, actor, m, now):
    record = store.load("conflict", m.id)
    if record is None:
        raise not_found("conflict")
    if m.op == "delete":
        raise Rejection("not_allowed", "Resolve a conflict instead of deleting it.")
    incoming = validated("conflict", m)
    place = store.place(record.values["booth_id"] or record.values["unit_id"])
    mine = record.values.get("author_id") == actor.user_id
    if not mine and not (actor.role in REVIEWERS and within(actor, place)):
        raise Rejection("not_allowed", "Only its author or the block president resolves it.")
    result = merge(record, incoming, m.base_version, m.hlc)
    write(store, record, result.changes, actor, m.hlc, place)
    return Outcome(MERGED if result.concurrent else APPLIED, record)


# Last in a batch: a conflict record refers to the record it is about.
RULES = (RecordRules("conflict", order=5, apply=apply_conflict),)
