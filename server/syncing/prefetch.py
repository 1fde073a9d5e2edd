"""A push's prefetch in the one lock order (docs/sync.md, "Lock order").

`prepare()` discovers before the engine runs everything the batch may write, and locks it
in order: booths (whose lock guards their member rows), EPICs, the other records, the
grievance serials. `guard()` makes sure anything written holds its lock, taking it late
when `prepare()` did not foresee it. `batch` is the push's BatchStore.
"""

from sqlalchemy import select

from server.extensions import db
from server.grievances.models import GrievanceSerial
from server.grievances.store import ist_year
from server.meetings.models import Rsvp
from server.roster.models import Member
from server.roster.store import normalised_epic
from server.syncing import locks
from server.syncing.batch_reads import is_id
from server.syncing.database import is_postgres, upsert
from server.syncing.locks import RECORD, SERIAL, LockRestart
from server.syncing.models import Conflict
from server.syncing.registry import ENTITY_ORDER, MODELS, RECORD_TYPES
from sync.fields import in_int_range

# Records a record refers to, which its mutation reads: (field, entity).
PARENT_OF = {entity: t.parent for entity, t in RECORD_TYPES.items() if t.parent}


def named_in(mutations):
    """What a batch names: ids by entity, booths, EPICs, and members whose consent it withdraws."""
    ids: dict[str, set] = {}
    booth_ids, epics, erasing = set(), set(), set()
    for m in mutations:
        # Raw, unvalidated values: only those that can be valid are looked up.
        entity, fields = m.get("entity"), m.get("fields")
        if not isinstance(entity, str) or entity not in MODELS or not is_id(m.get("id")):
            continue
        ids.setdefault(entity, set()).add(m["id"].lower())
        if not isinstance(fields, dict):
            continue
        if entity == "member":
            if in_int_range(fields.get("booth_id")):
                booth_ids.add(fields["booth_id"])
            if normalised_epic(fields.get("epic")):
                epics.add(normalised_epic(fields["epic"]))
            if fields.get("consent") is False:
                erasing.add(m["id"].lower())
        if entity in PARENT_OF and is_id(fields.get(PARENT_OF[entity][0])):
            ids.setdefault(PARENT_OF[entity][1], set()).add(fields[PARENT_OF[entity][0]].lower())
    return ids, booth_ids, epics, erasing


def prepare(batch, mutations):
    """Load and lock, in a few statements, everything the batch is likely to touch.

    In the one lock order (server/syncing/locks.py): the records are first read without
    locks, to learn which booths guard the members named; then booths, EPICs, the other
    records and grievance serials are locked, each kind in ascending order, and what
    they guard is read again under the lock.
    """
    ids, booth_ids, epics, erasing = named_in(mutations)
    for entity in ENTITY_ORDER:
        if ids.get(entity):
            batch._fetch(entity, ids[entity])
    for record in list(batch.records.values()):
        if record is not None and record.entity in PARENT_OF:
            name, parent = PARENT_OF[record.entity]
            ids.setdefault(parent, set()).add(record.values[name])
    unit_ids = set(booth_ids)
    for record in batch.records.values():
        if record is not None:
            for name in ("booth_id", "unit_id"):
                if isinstance(record.values.get(name), int):
                    unit_ids.add(record.values[name])
    batch._fetch_places(unit_ids)
    member_ids = [i for (e, i), r in batch.records.items() if e == "member" and r is not None]
    lock_members_booths(batch, booth_ids, member_ids)
    for member_id in member_ids:
        if batch.records[("member", member_id)].values.get("epic"):
            epics.add(batch.records[("member", member_id)].values["epic"])
    batch._lock_epics(sorted(epics))
    if is_postgres():
        lock_records(batch, ids, erasing)
        lock_serials(batch, serials_wanted(batch, mutations))


def lock_members_booths(batch, booth_ids, member_ids):
    """Lock the booths named and those of the members (both, for a move), ascending;
    then read the members again under their booths' locks. A member that moved
    meanwhile to a booth below those held starts the push again (LockRestart)."""
    wanted = set(booth_ids)
    while True:
        wanted |= {batch.records[("member", i)].values["booth_id"] for i in member_ids}
        batch._fetch_places(wanted)
        booths = sorted(
            b for b in wanted if batch.places.get(b) and batch.places[b].type == "booth"
        )
        late = [b for b in booths if b not in batch.locked_booths]
        if late and batch.locked_booths and late[0] < max(batch.locked_booths):
            raise LockRestart(f"a member moved to booth {late[0]} while booths were locked")
        batch._lock_booths(late)
        if not late or not member_ids:
            return
        batch._refetch("member", member_ids)


def lock_records(batch, ids, erasing):
    """Lock the records other than members by (entity, id), reading them again."""
    for entity in ENTITY_ORDER[1:]:
        wanted = set(ids.get(entity, ()))
        if entity == "rsvp" and ids.get("meeting"):
            # An answer from another phone of the same person merges into the stored one.
            wanted |= set(
                db.session.scalars(
                    select(Rsvp.id).where(
                        Rsvp.meeting_id.in_(ids["meeting"]),
                        Rsvp.user_id == batch.actor.user.id,
                    )
                )
            )
        if entity == "conflict" and erasing:
            # Consent withdrawn erases these too (erase_from_conflicts). New ones about
            # the member are written only under its booth's lock, which is held.
            wanted |= set(
                db.session.scalars(
                    select(Conflict.id).where(
                        Conflict.entity == "member", Conflict.record_id.in_(erasing)
                    )
                )
            )
        wanted = sorted(i for i in wanted if batch.records.get((entity, i), True) is not None)
        if not wanted:
            continue
        rank = ENTITY_ORDER.index(entity)
        batch.ledger.take(RECORD, [(rank, i) for i in wanted])
        for obj in locks.record_rows(db.session, MODELS[entity], wanted):
            batch._remember(entity, obj)
        batch.locked_records.update((entity, i) for i in wanted)
        for i in wanted:
            batch.records.setdefault((entity, i), None)


def serials_wanted(batch, mutations):
    """The (district, year) serials of the grievances the batch creates."""
    year = ist_year(batch.now)
    booths = set()
    for m in mutations:
        fields = m.get("fields")
        if (
            m.get("entity") == "grievance"
            and isinstance(m.get("id"), str)
            and batch.records.get(("grievance", m["id"].lower())) is None
            and isinstance(fields, dict)
            and in_int_range(fields.get("booth_id"))
        ):
            booths.add(fields["booth_id"])
    batch._fetch_places(booths)
    return sorted(
        {
            (batch.places[b].district_id, year)
            for b in booths
            if batch.places.get(b) and batch.places[b].type == "booth"
        }
    )


def lock_serials(batch, keys):
    keys = [k for k in keys if k not in batch.serials]
    if not keys:
        return
    batch.ledger.take(SERIAL, keys)
    db.session.execute(
        upsert()(GrievanceSerial)
        .values([{"district_id": d, "year": y, "last": 0} for d, y in keys])
        .on_conflict_do_nothing()
    )
    batch.serials.update(locks.serial_rows(db.session, GrievanceSerial, keys))


def guard(batch, record, key):
    """A write needs its lock: a member its booth's (both, for a move), another record
    its row's. A prepared push holds them; anything else is locked here, late."""
    if not is_postgres() or record.created or key in batch.created:
        return
    if record.entity == "member":
        stored = batch.db_member_state.get(record.id)
        booths = {record.values["booth_id"], stored[0] if stored else None} - {None}
        batch._lock_booths(booths)
        if record.id in batch.guarded:
            return
        batch.guarded.add(record.id)
    elif key in batch.locked_records:
        return
    else:
        rank = ENTITY_ORDER.index(record.entity)
        batch.ledger.take(RECORD, [(rank, record.id)])
        batch.locked_records.add(key)
    model = MODELS[record.entity]
    # A member's row needs no lock of its own: its booth's, now held, guards it.
    version = locks.record_version(db.session, model, record.id, lock=model is not Member)
    if version != batch.db_versions.get(key):
        raise LockRestart(f"{record.entity} {record.id} changed before its late lock")
