"""HTTP routes for roster (filled in by the roster work)."""

from flask import Blueprint

bp = Blueprint("roster", __name__, url_prefix="/api")
