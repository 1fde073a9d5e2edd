"""HTTP routes for accounts (filled in by the accounts work)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/api")
