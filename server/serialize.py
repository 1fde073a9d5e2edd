"""Records as the app and the online API see them: one serialiser per record type, read from
its schema (server/record_schema.py, declared in server/syncing/registry.py), masked per viewer."""

from server.masking import mask_for
from server.record_schema import wire_fields
from server.syncing.registry import RECORD_TYPES

# Computed once: to_record runs for every record of every pull page, and a marshmallow
# dump would be several times slower than reading the attributes.
_SHAPES = {entity: wire_fields(kind.schema) for entity, kind in RECORD_TYPES.items()}

# The attributes each record type's wire form reads under their own names.
WIRE_FIELDS = {entity: same for entity, (same, _renamed) in _SHAPES.items()}


def to_record(entity: str, obj, viewer=None) -> dict:
    """The wire form of `obj`, masked for `viewer` (a User) by the one rule of
    server/masking.py; without a viewer, the server's own unmasked view."""
    same, renamed = _SHAPES[entity]
    record = {name: getattr(obj, name) for name in same}
    for name, column in renamed:
        record[name] = getattr(obj, column)
    # Meetings and RSVPs have no booth and no personal values.
    booth_id, block_id = getattr(obj, "booth_id", None), getattr(obj, "block_id", None)
    return mask_for(viewer, entity, record, booth_id, block_id)
