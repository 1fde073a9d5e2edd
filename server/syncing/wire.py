"""Records as the app and the online API see them: one serialiser per entity, masked per viewer."""

from server.masking import mask_for
from server.syncing.registry import RECORD_TYPES

# The fields each record type shows, from its declaration (server/syncing/registry.py).
WIRE_FIELDS = {entity: record_type.wire_fields for entity, record_type in RECORD_TYPES.items()}


def to_record(entity: str, obj, viewer=None) -> dict:
    """The wire form of `obj`, masked for `viewer` (a User) by the one rule of
    server/masking.py; without a viewer, the server's own unmasked view."""
    record = {name: getattr(obj, name) for name in WIRE_FIELDS[entity]}
    if entity == "grievance":
        # On the wire a grievance's created_at is when it was typed on the phone.
        record["created_at"] = obj.reported_at
        record["received_at"] = obj.created_at
    # Meetings and RSVPs have no booth and no personal values.
    booth_id, block_id = getattr(obj, "booth_id", None), getattr(obj, "block_id", None)
    return mask_for(viewer, entity, record, booth_id, block_id)
