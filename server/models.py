"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.accounts.models import Device, LoginAttempt, RefreshToken, User
from server.audit.models import AuditEntry
from server.geo.models import Unit
from server.grievances.models import Grievance, GrievanceNote, GrievanceSerial
from server.meetings.models import Meeting, Rsvp
from server.push.models import PushDelivery, PushEvent, PushSubscription
from server.roster.models import Member
from server.syncing.models import AppliedMutation, Conflict, RecordChange, SyncCounter

__all__ = [
    "AppliedMutation",
    "AuditEntry",
    "Conflict",
    "Device",
    "Grievance",
    "GrievanceNote",
    "GrievanceSerial",
    "LoginAttempt",
    "Meeting",
    "Member",
    "PushDelivery",
    "PushEvent",
    "PushSubscription",
    "RecordChange",
    "RefreshToken",
    "Rsvp",
    "SyncCounter",
    "Unit",
    "User",
]


def register_sqlite_pragmas(app):
    """Foreign keys on, WAL and a busy timeout, for every SQLite connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA busy_timeout = 10000")
            cursor.close()
