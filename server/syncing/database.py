"""What the sync store does differently on PostgreSQL and SQLite: upserts, this
transaction's change id, and the horizon a pull reads below."""

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.extensions import db
from server.syncing.models import SyncCounter


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def upsert():
    return pg_insert if is_postgres() else sqlite_insert


def current_tx() -> int:
    """The id the change index orders this transaction's writes by.

    PostgreSQL: the transaction's own id, so no global lock is taken; a pull reads only
    below the oldest transaction still running (see pull_horizon). SQLite runs one
    writer at a time, so a counter bumped inside the write transaction is as good.
    """
    if is_postgres():
        return db.session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    db.session.execute(sqlite_insert(SyncCounter).values(id=1, value=0).on_conflict_do_nothing())
    db.session.execute(
        update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value + 1)
    )
    return db.session.execute(select(SyncCounter.value).where(SyncCounter.id == 1)).scalar_one()


# Which copy of the database this is: a restore into a new database (a new oid), onto a
# new cluster (a new system identifier) or to a point in time (a new timeline) changes it.
IDENTITY_SQL = text(
    "SELECT concat_ws(':', (SELECT system_identifier FROM pg_control_system()),"
    " (SELECT oid FROM pg_database WHERE datname = current_database()),"
    " (SELECT timeline_id FROM pg_control_checkpoint()))"
)


def database_identity() -> str:
    """Written into every pull cursor: a cursor made by another copy of the database (one
    restored from a backup since) is answered `reset`, so a phone never keeps records the
    restored server no longer has nor skips changes behind a transaction id from another
    copy's history. SQLite (one file, development only) has no such identity."""
    if not is_postgres():
        return "sqlite"
    return db.session.execute(IDENTITY_SQL).scalar_one()


def pull_horizon() -> int:
    """Every change below this id is committed (or rolled back) and visible to this read.

    PostgreSQL: the lowest transaction still running *in this database* (or the next id
    to be given). Not the snapshot's xmin: that is cluster-wide, so a long transaction in
    any other database would stall every pull. Three statements, in this order, keep it
    safe under READ COMMITTED: (1) a snapshot; (2) which of its running transactions
    belong to this database — any that finished in between is committed before (3) the
    page is read, so the page's own fresh snapshot sees it.
    """
    if not is_postgres():
        value = db.session.execute(select(SyncCounter.value).where(SyncCounter.id == 1)).scalar()
        return (value or 0) + 1
    snapshot = db.session.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
    _xmin, xmax, running = snapshot.split(":")
    running = [int(x) for x in running.split(",") if x]
    if not running:
        return int(xmax)
    ours = set(
        db.session.execute(
            text(
                "SELECT backend_xid::text::bigint FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
        ).scalars()
    )
    return min([x for x in running if x % 2**32 in ours] + [int(xmax)])
