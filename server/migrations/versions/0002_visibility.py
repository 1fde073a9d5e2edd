"""Notes and conflict records of complaints about office-bearers: re-indexed as restricted

Before this, a note written before its grievance was reclassified as `party_conduct`,
and every conflict record about such a grievance, kept block and district columns in the
change index: block and district leadership pulled them. Their rows move to the
restricted scope key (`b12r`, no block or district); the old row is marked `removed`, so
the phones that hold them are told to drop them (server/syncing/visibility.py).

Revision ID: 0002_visibility
Revises: 0001
Create Date: 2026-12-02 05:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002_visibility"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here: sync.engine.SENSITIVE_CATEGORIES when this migration was written.
SENSITIVE = ("party_conduct",)

changes = sa.table(
    "record_changes",
    sa.column("entity", sa.String),
    sa.column("record_id", sa.String),
    sa.column("scope_key", sa.String),
    sa.column("change_tx", sa.BigInteger),
    sa.column("booth_id", sa.Integer),
    sa.column("block_id", sa.Integer),
    sa.column("district_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("audience", sa.String),
    sa.column("owner_id", sa.Integer),
    sa.column("removed", sa.Boolean),
)


def current_tx(bind) -> int:
    """This transaction's change id, as server/syncing/database.current_tx gives it."""
    if bind.dialect.name == "postgresql":
        return bind.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    bind.execute(sa.text("INSERT OR IGNORE INTO sync_counter (id, value) VALUES (1, 0)"))
    bind.execute(sa.text("UPDATE sync_counter SET value = value + 1 WHERE id = 1"))
    return bind.execute(sa.text("SELECT value FROM sync_counter WHERE id = 1")).scalar_one()


def restricted_records(bind) -> dict:
    """(entity, id) -> reporter, for sensitive grievances, their notes and conflicts."""
    reporters = dict(
        bind.execute(
            sa.text("SELECT id, created_by FROM grievances WHERE category IN :c").bindparams(
                sa.bindparam("c", expanding=True)
            ),
            {"c": list(SENSITIVE)},
        ).all()
    )
    found = {("grievance", gid): by for gid, by in reporters.items()}
    if not reporters:
        return found
    ids = {"ids": list(reporters)}
    expanding = sa.bindparam("ids", expanding=True)
    notes = sa.text("SELECT id, grievance_id FROM grievance_notes WHERE grievance_id IN :ids")
    for note_id, gid in bind.execute(notes.bindparams(expanding), ids):
        found[("grievance_note", note_id)] = reporters[gid]
    conflicts = sa.text(
        "SELECT id, record_id FROM conflicts WHERE entity = 'grievance' AND record_id IN :ids"
    )
    for conflict_id, gid in bind.execute(conflicts.bindparams(expanding), ids):
        found[("conflict", conflict_id)] = reporters[gid]
    return found


def reindex(bind):
    wanted = restricted_records(bind)
    if not wanted:
        return
    tx = None
    rows = []
    for entity in ("grievance", "grievance_note", "conflict"):
        ids = [i for e, i in wanted if e == entity]
        if ids:
            rows += bind.execute(
                sa.select(changes).where(
                    changes.c.entity == entity,
                    changes.c.record_id.in_(ids),
                    changes.c.removed == sa.false(),
                )
            ).all()
    for row in rows:
        reporter = wanted.get((row.entity, row.record_id))
        if reporter is None or row.scope_key.endswith("r"):
            continue
        tx = tx if tx is not None else current_tx(bind)
        old = sa.and_(
            changes.c.entity == row.entity,
            changes.c.record_id == row.record_id,
            changes.c.scope_key == row.scope_key,
        )
        bind.execute(changes.update().where(old).values(removed=True, change_tx=tx))
        new_key = row.scope_key + "r"
        bind.execute(
            changes.delete().where(
                changes.c.entity == row.entity,
                changes.c.record_id == row.record_id,
                changes.c.scope_key == new_key,
            )
        )
        bind.execute(
            changes.insert().values(
                entity=row.entity,
                record_id=row.record_id,
                scope_key=new_key,
                change_tx=tx,
                booth_id=row.booth_id,
                block_id=None,
                district_id=None,
                unit_id=None,
                audience=None,
                owner_id=reporter,
                removed=False,
            )
        )


def upgrade():
    reindex(op.get_bind())


def downgrade():
    pass  # the restricted rows are what the code of this revision writes anyway
