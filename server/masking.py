"""The one masking rule: mobile numbers and EPICs leave the server in full only for the
record's booth volunteer and its block president, whatever the path (pull, push answers,
conflict records, the online API). Everyone else who may read the record gets them masked.

A conflict record is masked as the record it is about: its `lost` and `kept` values are
that record's values.
"""

from server.accounts.models import BLOCK_PRESIDENT, VOLUNTEER
from server.geo.models import BLOCK, BOOTH
from server.scope import mask_epic, mask_phone, sees_full_personal_data

# The personal values of each entity, and how each is masked.
PERSONAL = {
    "member": {"phone": mask_phone, "epic": mask_epic},
    "grievance": {"complainant_phone": mask_phone},
}


def sees_personal_data(viewer, booth_id, block_id) -> bool:
    """Is `viewer` (a User) the volunteer of this booth or the president of its block?"""
    if not sees_full_personal_data(viewer):
        return False
    unit = viewer.unit
    if viewer.role == VOLUNTEER:
        return unit.type == BOOTH and booth_id is not None and booth_id == unit.id
    if viewer.role == BLOCK_PRESIDENT:
        return unit.type == BLOCK and block_id is not None and block_id == unit.id
    return False


def mask_value(entity, field, value):
    mask = PERSONAL.get(entity, {}).get(field)
    return mask(value) if mask and value else value


def mask_values(entity, values: dict) -> dict:
    """A copy of `values` (fields of an `entity` record) with its personal values masked."""
    return {name: mask_value(entity, name, value) for name, value in values.items()}


def mask_for(viewer, entity, record: dict, booth_id, block_id) -> dict:
    """Mask a wire record of `entity` in place for `viewer`; None means no masking (the
    server's own view)."""
    if viewer is None or sees_personal_data(viewer, booth_id, block_id):
        return record
    if entity == "conflict":
        about = record.get("entity")
        for side in ("lost", "kept"):
            if isinstance(record.get(side), dict):
                record[side] = mask_values(about, record[side])
        return record
    record.update(
        mask_values(entity, {k: record[k] for k in PERSONAL.get(entity, ()) if k in record})
    )
    return record


def mask_clashes(viewer, entity, clashes: list, booth_id, block_id) -> list:
    """A push answer's `conflicts` ({field, kept, lost} about a record of `entity`), masked."""
    if viewer is None or sees_personal_data(viewer, booth_id, block_id):
        return list(clashes)
    return [
        {
            **clash,
            "kept": mask_value(entity, clash["field"], clash["kept"]),
            "lost": mask_value(entity, clash["field"], clash["lost"]),
        }
        for clash in clashes
    ]
