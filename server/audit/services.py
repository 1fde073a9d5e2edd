"""Write the audit log: every change, by whom, from which device."""

from flask import has_request_context, request

from server.audit.models import AuditEntry
from server.extensions import db


def client_address():
    return request.remote_addr if has_request_context() else None


def log_change(actor, action, entity, record_id, version=None, fields=()):
    """Add an audit entry to the current transaction (commits with the change it records)."""
    db.session.add(
        AuditEntry(
            user_id=actor.user.id if actor else None,
            device_id=actor.device_id if actor else None,
            action=action,
            entity=entity,
            record_id=str(record_id),
            version=version,
            fields=sorted(fields),
            address=client_address(),
        )
    )
