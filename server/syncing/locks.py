"""The one lock order of a push (docs/sync.md, "Lock order"), and the statements that take it.

PostgreSQL only: SQLite runs one writer at a time and takes none of these. A push locks,
in this order and never back:

1. its device row;
2. booth rows, ascending id (a booth's lock also guards its member rows);
3. EPIC advisory locks, ascending EPIC;
4. records other than members, by (entity in registry.ENTITY_ORDER, id);
5. grievance serial rows, by (district, year).

`LockLedger` remembers the highest lock taken so far; a lock asked for below it (a path
that discovered something late) is still taken, but logged as out of order: it could
deadlock, and a push that loses one is run again (server/syncing/retry.py).
"""

import logging

from sqlalchemy import select, text, tuple_

log = logging.getLogger(__name__)

DEVICE, BOOTH, EPIC, RECORD, SERIAL = range(1, 6)
LEVEL_NAMES = {DEVICE: "device", BOOTH: "booth", EPIC: "EPIC", RECORD: "record", SERIAL: "serial"}


class LockRestart(Exception):
    """A lock could not be taken in order (a member moved to a booth below the ones held,
    a record changed before its late lock): the push starts again from scratch."""


class LockLedger:
    """The highest (level, key) locked so far in this transaction."""

    def __init__(self):
        self.high = (DEVICE, ())

    def take(self, level, keys):
        """Note that `keys` (sorted) of `level` are being locked now."""
        if not keys:
            return
        first, last = (level, keys[0]), (level, keys[-1])
        if first < self.high:
            log.warning(
                "Lock taken out of order: %s %s after %s %s",
                LEVEL_NAMES[level],
                keys[0],
                LEVEL_NAMES[self.high[0]],
                self.high[1],
            )
        self.high = max(self.high, last)


def booth_rows(session, booths):
    """Lock booth rows; NO KEY UPDATE does not block foreign-key checks of other tables."""
    session.execute(
        text("SELECT id FROM units WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
        {"ids": list(booths)},
    )


def epic_keys(session, epics):
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended('epic:' || e, 0))"
            " FROM unnest(CAST(:epics AS text[])) AS e ORDER BY e"
        ),
        {"epics": list(epics)},
    )


def record_rows(session, model, ids):
    """Lock and read rows of one entity in id order (the lock is taken row by row in the
    order of the sort); returns the ORM objects at their latest committed state."""
    query = (
        select(model)
        .where(model.id.in_(list(ids)))
        .order_by(model.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(session.execute(query).scalars())


def record_version(session, model, record_id, lock=True):
    """Lock one row late (out of the prepared set); its version now, or None."""
    query = select(model.version).where(model.id == record_id)
    if lock:
        query = query.with_for_update(key_share=True)
    return session.execute(query).scalar()


def serial_rows(session, model, keys):
    """Lock grievance serial rows (district, year); returns {(district, year): [id, last]}."""
    query = (
        select(model.id, model.district_id, model.year, model.last)
        .where(tuple_(model.district_id, model.year).in_(list(keys)))
        .order_by(model.district_id, model.year)
        .with_for_update(key_share=True)
    )
    return {(d, y): [i, last] for i, d, y, last in session.execute(query)}
