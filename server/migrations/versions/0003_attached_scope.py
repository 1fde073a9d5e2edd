"""Notes and conflict records take their record's current scope, in the rows and the index

Before the visibility fix, a conflict record stayed with the booth its member or
grievance had when it was made (the record moved, the conflict did not) and was indexed
with `owner_id` = its author; 0002 re-indexed only complaints about office-bearers. So on
an upgraded database an old conflict record of a member moved to another block still
reached the old booth's volunteers and block president, with the lost values in full.

Here every note and every conflict record about a member or grievance is given, in one
set of statements whatever the size of the tables, what server/syncing/visibility.py
gives it today: its parent's booth, block and district columns, and one live index row
under its parent's scope key (`b12`, or `b12r` for a complaint about an office-bearer:
no block or district, the reporter as owner). Any other live index row of it is marked
`removed` with this transaction's change id, so the phones that hold it are told to drop
it; a row whose columns change is written again with that change id.

Revision ID: 0003_attached_scope
Revises: 0002_visibility
Create Date: 2026-12-02 06:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003_attached_scope"
down_revision = "0002_visibility"
branch_labels = None
depends_on = None

# Frozen here: sync.engine.SENSITIVE_CATEGORIES when this migration was written.
SENSITIVE = ("party_conduct",)
TEMP = "tmp_0003_scope"
ATTACHED = "record_changes.entity IN ('conflict', 'grievance_note')"


def current_tx(bind) -> int:
    """This transaction's change id, as server/syncing/database.current_tx gives it."""
    if bind.dialect.name == "postgresql":
        return bind.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    bind.execute(sa.text("INSERT OR IGNORE INTO sync_counter (id, value) VALUES (1, 0)"))
    bind.execute(sa.text("UPDATE sync_counter SET value = value + 1 WHERE id = 1"))
    return bind.execute(sa.text("SELECT value FROM sync_counter WHERE id = 1")).scalar_one()


def key(booth, restricted="1 = 0") -> str:
    """The scope key `b<booth>`, with `r` when `restricted` (an SQL truth value) holds."""
    return f"'b' || CAST({booth} AS VARCHAR(12)) || CASE WHEN {restricted} THEN 'r' ELSE '' END"


def expected_rows(bind):
    """Fill the temporary table: each note's and conflict's parent scope (p_*) and its
    index row (scope key, booth, block, district, owner)."""
    bind.execute(sa.text(f"DROP TABLE IF EXISTS {TEMP}"))
    bind.execute(
        sa.text(
            f"CREATE TEMPORARY TABLE {TEMP} (entity VARCHAR(16), record_id VARCHAR(36), "
            "p_booth INTEGER, p_block INTEGER, p_district INTEGER, scope_key VARCHAR(16), "
            "block_id INTEGER, district_id INTEGER, owner_id INTEGER, "
            "PRIMARY KEY (entity, record_id))"
        )
    )
    sensitive = "g.category IN :sensitive"
    grievance_columns = (
        f"g.booth_id, g.block_id, g.district_id, {key('g.booth_id', sensitive)}, "
        f"CASE WHEN {sensitive} THEN NULL ELSE g.block_id END, "
        f"CASE WHEN {sensitive} THEN NULL ELSE g.district_id END, g.created_by"
    )
    columns = "entity, record_id, p_booth, p_block, p_district, scope_key, "
    columns += "block_id, district_id, owner_id"
    statements = [
        # Conflicts about a member: its booth, block and district.
        f"SELECT 'conflict', c.id, m.booth_id, m.block_id, m.district_id, {key('m.booth_id')}, "
        "m.block_id, m.district_id, NULL FROM conflicts c JOIN members m "
        "ON m.id = c.record_id WHERE c.entity = 'member'",
        # Conflicts about a grievance, and notes: the grievance's, restricted or not.
        f"SELECT 'conflict', c.id, {grievance_columns} FROM conflicts c "
        "JOIN grievances g ON g.id = c.record_id WHERE c.entity = 'grievance'",
        f"SELECT 'grievance_note', n.id, {grievance_columns} FROM grievance_notes n "
        "JOIN grievances g ON g.id = n.grievance_id",
        # A conflict whose record is not there stays with its booth alone.
        f"SELECT 'conflict', c.id, c.booth_id, c.block_id, c.district_id, "
        f"{key('c.booth_id', '1 = 1')}, NULL, NULL, NULL FROM conflicts c "
        "WHERE c.entity IN ('member', 'grievance') AND c.booth_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = c.record_id) "
        "AND NOT EXISTS (SELECT 1 FROM grievances g WHERE g.id = c.record_id)",
    ]
    for select in statements:
        statement = sa.text(f"INSERT INTO {TEMP} ({columns}) {select}")
        if ":sensitive" in select:
            statement = statement.bindparams(sa.bindparam("sensitive", expanding=True))
            bind.execute(statement, {"sensitive": list(SENSITIVE)})
        else:
            bind.execute(statement)


def rebuild(bind):
    expected_rows(bind)
    found = f"FROM {TEMP} e WHERE e.entity = record_changes.entity "
    found += "AND e.record_id = record_changes.record_id"
    pending = bind.execute(sa.text(f"SELECT COUNT(*) FROM {TEMP}")).scalar_one()
    if pending:
        tx = current_tx(bind)
        differs = "IS DISTINCT FROM" if bind.dialect.name == "postgresql" else "IS NOT"
        flags = {"tx": tx, "yes": True, "no": False}
        # The records' own booth columns.
        for table, entity in (("conflicts", "conflict"), ("grievance_notes", "grievance_note")):
            own = f"FROM {TEMP} e WHERE e.entity = '{entity}' AND e.record_id = {table}.id"
            bind.execute(
                sa.text(
                    f"UPDATE {table} SET booth_id = (SELECT e.p_booth {own}), "
                    f"block_id = (SELECT e.p_block {own}), "
                    f"district_id = (SELECT e.p_district {own}) WHERE EXISTS (SELECT 1 {own})"
                )
            )
        # Rows under another scope key: withdrawn.
        bind.execute(
            sa.text(
                "UPDATE record_changes SET removed = :yes, change_tx = :tx "
                f"WHERE {ATTACHED} AND removed = :no AND EXISTS "
                f"(SELECT 1 {found} AND e.scope_key <> record_changes.scope_key)"
            ),
            flags,
        )
        # The row under the right key, where it is removed or its columns are wrong.
        value = f"(SELECT e.{{0}} {found} AND e.scope_key = record_changes.scope_key)"
        columns = {
            "booth_id": "p_booth",
            "block_id": "block_id",
            "district_id": "district_id",
            "owner_id": "owner_id",
        }
        wrong = " OR ".join(
            f"record_changes.{name} {differs} {value.format(source)}"
            for name, source in columns.items()
        )
        assignments = ", ".join(
            f"{name} = {value.format(source)}" for name, source in columns.items()
        )
        bind.execute(
            sa.text(
                f"UPDATE record_changes SET {assignments}, unit_id = NULL, audience = NULL, "
                f"removed = :no, change_tx = :tx WHERE {ATTACHED} AND EXISTS "
                f"(SELECT 1 {found} AND e.scope_key = record_changes.scope_key) "
                f"AND (removed = :yes OR unit_id IS NOT NULL OR {wrong})"
            ),
            flags,
        )
        # And where there is none, a new one.
        bind.execute(
            sa.text(
                "INSERT INTO record_changes (entity, record_id, scope_key, change_tx, booth_id, "
                "block_id, district_id, unit_id, audience, owner_id, removed) "
                "SELECT e.entity, e.record_id, e.scope_key, :tx, e.p_booth, e.block_id, "
                f"e.district_id, NULL, NULL, e.owner_id, :no FROM {TEMP} e WHERE NOT EXISTS "
                "(SELECT 1 FROM record_changes r WHERE r.entity = e.entity "
                "AND r.record_id = e.record_id AND r.scope_key = e.scope_key)"
            ),
            flags,
        )
    bind.execute(sa.text(f"DROP TABLE {TEMP}"))


def upgrade():
    rebuild(op.get_bind())


def downgrade():
    pass  # the rows rebuilt are what the code of this revision writes anyway
