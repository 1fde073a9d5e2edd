"""Who may give which role to whom: one rank order over the roles, and an admin always left.

`ROLES` (sync/fields.py) lists the roles lowest first, and that order is their rank:
volunteer < block_president < district_president < connect_centre < admin. A manager
never gives a role above their own, never acts on a person whose role is above their own
(edit, disable, enable, list or revoke their devices: `check_rank`), never changes their own role or unit (or disables themselves), and the
last active admin is never disabled or demoted, even by two admins acting at once.
"""

from sqlalchemy import select

from server.accounts.models import ADMIN, BLOCK_PRESIDENT, CONNECT_CENTRE, User
from server.errors import ApiError, forbidden
from server.extensions import db
from sync.fields import ROLES

RANK = {role: rank for rank, role in enumerate(ROLES)}
# Roles that manage people and devices anywhere in the state.
MANAGER_ROLES = (ADMIN, CONNECT_CENTRE)
# Roles that may list, add, disable and enable people (a block president only its
# block's volunteers).
PEOPLE_ROLES = (ADMIN, CONNECT_CENTRE, BLOCK_PRESIDENT)


def above(role: str, other: str) -> bool:
    """Is `role` ranked above `other`?"""
    return RANK[role] > RANK[other]


def _refused(message, field=None):
    return ApiError("forbidden", message, 403, {field: [message]} if field else None)


def check_grant(manager: User, role: str):
    """A manager gives (to a new or an existing person) no role above their own."""
    if above(role, manager.role):
        raise _refused("You cannot give a role above your own.", "role")


def check_rank(manager: User, target: User):
    """The one rank rule for every action on another person: none on a higher rank."""
    if target.id != manager.id and above(target.role, manager.role):
        raise forbidden("This person's role is above yours.")


def check_may_change(manager: User, target: User, values: dict):
    """May `manager` apply `values` (any of role, unit_id, name, active) to `target`?"""
    check_rank(manager, target)
    if target.id == manager.id:
        if values.get("active") is False:
            raise forbidden("You cannot disable your own account.")
        for name in ("role", "unit_id"):
            if name in values and values[name] != getattr(target, name):
                raise _refused(f"You cannot change your own {name.replace('_id', '')}.", name)
    if "role" in values:
        check_grant(manager, values["role"])


def check_admin_remains(target: User, values: dict):
    """Refuse to disable or demote the last active admin.

    The active admins' rows are locked (PostgreSQL) before they are counted, so two admins
    disabling or demoting each other at once are served one after the other: the second
    sees the first's change and is refused.
    """
    disabling = values.get("active") is False
    demoting = values.get("role", ADMIN) != ADMIN
    if target.role != ADMIN or not target.active or not (disabling or demoting):
        return
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == ADMIN, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not any(admin_id != target.id for admin_id in admins):
        message = "The last active admin cannot be disabled or demoted."
        raise _refused(message, "role" if demoting else None)
