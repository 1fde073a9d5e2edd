"""HTTP routes for the geography: the unit tree with counts, and one unit at a time."""

from flask import Blueprint

from server.api import response
from server.auth import current_actor, login_required
from server.geo import queries
from server.geo.schemas import UnitTree, UnitWithChildren

bp = Blueprint("geo", __name__, url_prefix="/api")


@bp.get("/units/tree")
@login_required()
@response(UnitTree())
def unit_tree():
    """Show your area down to its blocks (to booths for a block), with counts."""
    return queries.unit_tree(current_actor().user)


@bp.get("/units/<int:unit_id>")
@login_required()
@response(UnitWithChildren())
def get_unit(unit_id):
    """Show one unit of your area with its direct children, with counts."""
    return queries.unit_with_children(current_actor().user, unit_id)
