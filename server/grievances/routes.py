"""HTTP routes for grievances (filled in by the grievances work)."""

from flask import Blueprint

bp = Blueprint("grievances", __name__, url_prefix="/api")
