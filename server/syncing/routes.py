"""HTTP routes for syncing (filled in by the syncing work)."""

from flask import Blueprint

bp = Blueprint("syncing", __name__, url_prefix="/api")
