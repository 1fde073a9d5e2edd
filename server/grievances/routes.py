"""HTTP routes for grievances: the online read API (lists and single grievances)."""

from flask import Blueprint

from server.api import arguments, response
from server.auth import current_actor, login_required
from server.grievances import services
from server.grievances.schemas import GrievanceDetail, GrievanceListArgs, GrievancePage

bp = Blueprint("grievances", __name__, url_prefix="/api")


@bp.get("/grievances")
@login_required()
@arguments(GrievanceListArgs(), location="query")
@response(GrievancePage())
def list_grievances(args):
    """List the grievances inside your area, newest first, a page at a time."""
    return services.list_grievances(current_actor().user, **args)


@bp.get("/grievances/<grievance_id>")
@login_required()
@response(GrievanceDetail())
def get_grievance(grievance_id):
    """Open one grievance with its notes (the read is logged); outside your area it is a 404."""
    return services.open_grievance(current_actor(), grievance_id)
