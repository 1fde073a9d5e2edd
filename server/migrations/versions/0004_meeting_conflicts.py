"""Conflict records about a meeting take the meeting's scope, in the rows and the index

Before this, a conflict record about a meeting was indexed under `u<unit id>` with the
booth, block and district of the meeting's unit and its author as owner: every volunteer
of a booth meeting's booth pulled it, inside the meeting's audience or not, and so did its
author after leaving the meeting's sight. server/syncing/visibility.py now gives it the
meeting's own index row (unit, audience, scope key `u<unit id>a<roles>`, no booth, no
owner), so it reaches exactly who reads the meeting.

Here every conflict record about a meeting is given that row, and its own unit columns
the meeting's current unit (as a new one would have them). Any other live index row of it
is marked `removed` with this transaction's change id, so the phones that hold it are told
to drop it. Conflict records about meetings are few (two leaders editing one field of one
meeting at once), so they are read and written one by one.

Revision ID: 0004_meeting_conflicts
Revises: 0003_attached_scope
Create Date: 2026-12-02 16:10:00

"""

import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = "0004_meeting_conflicts"
down_revision = "0003_attached_scope"
branch_labels = None
depends_on = None

# Frozen here: sync.fields.ROLES when this migration was written (a meeting's scope key
# names its audience as bits of this tuple).
ROLES = ("volunteer", "block_president", "district_president", "connect_centre", "admin")


def current_tx(bind) -> int:
    """This transaction's change id, as server/syncing/database.current_tx gives it."""
    if bind.dialect.name == "postgresql":
        return bind.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    bind.execute(sa.text("INSERT OR IGNORE INTO sync_counter (id, value) VALUES (1, 0)"))
    bind.execute(sa.text("UPDATE sync_counter SET value = value + 1 WHERE id = 1"))
    return bind.execute(sa.text("SELECT value FROM sync_counter WHERE id = 1")).scalar_one()


def expected_row(unit, audience_roles) -> dict:
    """The index row of a meeting at `unit` for `audience_roles`, as visibility.py writes it."""
    roles = sum(1 << ROLES.index(role) for role in set(audience_roles) if role in ROLES)
    return {
        "scope_key": f"u{unit.id}a{roles}",
        "booth_id": None,
        "block_id": unit.id if unit.type == "block" else unit.block_id,
        "district_id": unit.id if unit.type == "district" else unit.district_id,
        "unit_id": unit.id,
        "audience": "," + ",".join(audience_roles) + ",",
        "owner_id": None,
    }


def rebuild(bind):
    found = bind.execute(
        sa.text(
            "SELECT c.id, m.audience_roles, u.id AS unit_id, u.type, u.block_id, u.district_id "
            "FROM conflicts c JOIN meetings m ON m.id = c.record_id "
            "JOIN units u ON u.id = m.unit_id WHERE c.entity = 'meeting'"
        )
    ).all()
    if not found:
        return
    tx = current_tx(bind)
    columns = ("booth_id", "block_id", "district_id", "unit_id", "audience", "owner_id")
    for conflict in found:
        roles = conflict.audience_roles
        roles = json.loads(roles) if isinstance(roles, str) else list(roles or ())
        unit = SimpleNamespace(
            id=conflict.unit_id,
            type=conflict.type,
            block_id=conflict.block_id,
            district_id=conflict.district_id,
        )
        row = expected_row(unit, roles)
        booth = unit.type == "booth"
        bind.execute(
            sa.text(
                "UPDATE conflicts SET booth_id = :booth, unit_id = :unit, block_id = :block, "
                "district_id = :district WHERE id = :id"
            ),
            {
                "id": conflict.id,
                "booth": unit.id if booth else None,
                "unit": None if booth else unit.id,
                "block": row["block_id"],
                "district": row["district_id"],
            },
        )
        live = bind.execute(
            sa.text(
                "SELECT scope_key, removed, booth_id, block_id, district_id, unit_id, audience, "
                "owner_id FROM record_changes WHERE entity = 'conflict' AND record_id = :id"
            ),
            {"id": conflict.id},
        ).all()
        flags = {"id": conflict.id, "tx": tx, "yes": True, "no": False}
        for old in live:
            if old.scope_key != row["scope_key"] and not old.removed:
                bind.execute(
                    sa.text(
                        "UPDATE record_changes SET removed = :yes, change_tx = :tx "
                        "WHERE entity = 'conflict' AND record_id = :id AND scope_key = :key"
                    ),
                    {**flags, "key": old.scope_key},
                )
        same = [old for old in live if old.scope_key == row["scope_key"]]
        values = {**flags, **row}
        if not same:
            bind.execute(
                sa.text(
                    "INSERT INTO record_changes (entity, record_id, scope_key, change_tx, "
                    "booth_id, block_id, district_id, unit_id, audience, owner_id, removed) "
                    "VALUES ('conflict', :id, :scope_key, :tx, :booth_id, :block_id, "
                    ":district_id, :unit_id, :audience, :owner_id, :no)"
                ),
                values,
            )
        elif same[0].removed or any(getattr(same[0], c) != row[c] for c in columns):
            assignments = ", ".join(f"{c} = :{c}" for c in columns)
            bind.execute(
                sa.text(
                    f"UPDATE record_changes SET {assignments}, removed = :no, change_tx = :tx "
                    "WHERE entity = 'conflict' AND record_id = :id AND scope_key = :scope_key"
                ),
                values,
            )


def upgrade():
    rebuild(op.get_bind())


def downgrade():
    pass  # the rows rebuilt are what the code of this revision writes anyway
