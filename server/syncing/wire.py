"""Records as the app and the online API see them: one serialiser per entity, masked per viewer."""

from server.scope import mask_epic, mask_phone, sees_full_personal_data

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

# Personal fields masked for viewers outside the booth's volunteer and block president.
MASKED = {"phone": mask_phone, "epic": mask_epic, "complainant_phone": mask_phone}


def to_record(entity: str, obj, viewer=None) -> dict:
    """The wire form of `obj`; `viewer` (a User) decides whether personal data is masked."""
    record = {name: getattr(obj, name) for name in WIRE_FIELDS[entity]}
    if entity == "grievance":
        # On the wire a grievance's created_at is when it was typed on the phone.
        record["created_at"] = obj.reported_at
        record["received_at"] = obj.created_at
    if viewer is not None and not sees_full_personal_data(viewer):
        mask_record(record)
    return record


def mask_record(record: dict) -> dict:
    for name, mask in MASKED.items():
        if record.get(name):
            record[name] = mask(record[name])
    for side in ("lost", "kept"):
        if isinstance(record.get(side), dict):
            mask_record(record[side])
    return record
