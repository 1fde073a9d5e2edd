"""The three-way field merge (rules 1 and 2 of docs/protocol.md), the delete rule (rule 7),
and how their losing sides are kept as conflict records; every record type's rules use them."""

from dataclasses import dataclass

from sync.hlc import node
from sync.protocol import APPLIED, CONFLICT, MERGED
from sync.store import Store
from sync.values import Mutation, Outcome, Place, Principal, Record


@dataclass
class Merge:
    changes: dict
    # (field, kept value, lost value, hlc of the lost value)
    clashes: list
    concurrent: bool


def merge(record: Record, incoming: dict, base: int | None, hlc: str) -> Merge:
    """Three-way merge of `incoming` against the fields changed since `base`.

    A field changed only on the device is taken; a field changed on both sides goes to
    the later HLC, and the other value is reported as a clash to keep.
    """
    base = base or 0
    concurrent = bool(record.changed_since(base))
    device = node(hlc)
    changes, clashes = {}, []
    for name, value in incoming.items():
        current = record.values.get(name)
        if value == current:
            continue
        version, their_hlc = record.meta.get(name, (0, ""))
        if version <= base or (their_hlc and node(their_hlc) == device):
            # Unseen by nobody but this phone: its own writes are ordered by their seq,
            # even when a clock far ahead clamped two of them to the same moment.
            changes[name] = value
        elif hlc > their_hlc:
            changes[name] = value
            clashes.append((name, value, current, their_hlc))
        else:
            clashes.append((name, current, value, hlc))
    return Merge(changes, clashes, concurrent)


def keep_clashes(store, record, place, clashes, actor, hlc, kind="field"):
    """Store each losing side of a merge as a conflict record; answer the protocol's list."""
    by_loser: dict[str, tuple[dict, dict]] = {}
    for name, kept, lost, lost_hlc in clashes:
        lost_side, kept_side = by_loser.setdefault(lost_hlc, ({}, {}))
        lost_side[name] = lost
        kept_side[name] = kept
    for lost_hlc, (lost_side, kept_side) in by_loser.items():
        author = actor.user_id if lost_hlc == hlc else store.author_of(lost_hlc)
        store.add_conflict(record, place, kind, lost_side, kept_side, lost_hlc, author, actor)
    return [{"field": n, "kept": k, "lost": lo} for n, k, lo, _h in clashes]


def write(store, record, changes, actor, hlc, place, action="update"):
    """Apply `changes` to `record`, bump its version, and stamp each changed field."""
    if not changes and not record.created:
        return False
    record.version = record.version + (0 if record.created else 1)
    for name, value in changes.items():
        if name == "deleted":
            record.deleted = value
        else:
            record.values[name] = value
        record.meta[name] = [record.version, hlc]
    store.save(record, sorted(changes), actor, hlc, place, action)
    return True


def status_of(merge_result: Merge, clashes_stored: bool) -> str:
    if clashes_stored:
        return CONFLICT
    return MERGED if merge_result.concurrent else APPLIED


def delete_record(
    store: Store, actor: Principal, m: Mutation, record: Record, place: Place
) -> Outcome:
    """Rule 7: the delete wins over a concurrent edit; the edit is kept as a conflict
    record, so the record can be restored."""
    if record.deleted:
        return Outcome(APPLIED, record)
    edited = record.changed_since(m.base_version or 0)
    conflicts = []
    if m.base_version is not None and edited:
        lost = {n: record.values.get(n) for n in edited}
        for lost_hlc in sorted({record.meta[n][1] for n in edited}):
            names = [n for n in edited if record.meta[n][1] == lost_hlc]
            store.add_conflict(
                record,
                place,
                "delete",
                {n: lost[n] for n in names},
                {"deleted": True},
                lost_hlc,
                store.author_of(lost_hlc),
                actor,
            )
        conflicts = [{"field": n, "kept": None, "lost": lost[n]} for n in edited]
    write(store, record, {"deleted": True}, actor, m.hlc, place, "delete")
    return Outcome(CONFLICT if conflicts else APPLIED, record, conflicts)


def lost_to_delete(
    store: Store, actor: Principal, m: Mutation, record: Record, place: Place, incoming: dict
) -> Outcome:
    """Rule 7 the other way round: an edit made before the device saw the delete loses,
    and is kept as a conflict record."""
    store.add_conflict(
        record, place, "delete", incoming, {"deleted": True}, m.hlc, actor.user_id, actor
    )
    return Outcome(
        CONFLICT, record, [{"field": n, "kept": None, "lost": v} for n, v in incoming.items()]
    )
