"""HTTP routes for the roster: the online read API (lists and single members)."""

from flask import Blueprint

from server.api import arguments, response
from server.auth import current_actor, login_required
from server.roster import services
from server.roster.schemas import MemberListArgs, MemberPage, MemberRecord

bp = Blueprint("roster", __name__, url_prefix="/api")


@bp.get("/members")
@login_required()
@arguments(MemberListArgs(), location="query")
@response(MemberPage())
def list_members(args):
    """List the roster members inside your area, by name, a page at a time."""
    return services.list_members(current_actor().user, **args)


@bp.get("/members/<member_id>")
@login_required()
@response(MemberRecord())
def get_member(member_id):
    """Open one roster member (the read is logged); outside your area it is a 404."""
    return services.open_member(current_actor(), member_id)
