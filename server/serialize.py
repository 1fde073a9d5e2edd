"""Records as the app and the online API see them: one serialiser per entity, masked per viewer."""

from server.masking import mask_for

META = ("id", "version", "created_at", "updated_at", "created_by", "deleted")

WIRE_FIELDS = {
    "member": META
    + (
        "booth_id",
        "name",
        "age",
        "gender",
        "phone",
        "epic",
        "skills",
        "consent",
        "consent_at",
        "notes",
        "status",
        "status_reason",
        "reviewed_by",
        "reviewed_at",
    ),
    "grievance": (
        "id",
        "version",
        "updated_at",
        "created_by",
        "deleted",
        "ref_no",
        "booth_id",
        "category",
        "description",
        "complainant_name",
        "complainant_phone",
        "against",
        "status",
        "due_at",
        "status_history",
    ),
    "grievance_note": META + ("grievance_id", "booth_id", "text"),
    "meeting": META
    + (
        "title",
        "agenda",
        "starts_at",
        "place",
        "online_url",
        "unit_id",
        "audience_roles",
        "status",
    ),
    "rsvp": META + ("meeting_id", "user_id", "answer"),
    "conflict": META
    + (
        "entity",
        "record_id",
        "kind",
        "lost",
        "kept",
        "lost_hlc",
        "author_id",
        "resolved",
        "booth_id",
    ),
}


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
