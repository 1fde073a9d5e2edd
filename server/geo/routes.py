"""HTTP routes for geo (filled in by the geo work)."""

from flask import Blueprint

bp = Blueprint("geo", __name__, url_prefix="/api")
