"""The one declaration of a record's shape at the edge: a marshmallow schema per record
type, from which its wire form (server/serialize.py), its REST answers and its OpenAPI
schema all come. This module holds what they share: the fields every synced record carries
and how a schema becomes the field lists the wire form reads."""

from marshmallow import Schema, fields

# A field whose value is read from another attribute of the row names it in its metadata
# under this key (a grievance's `created_at` is its `reported_at` column).
COLUMN = "column"
HLC_PATTERN = "^[0-9]{13}-[0-9a-f]{4}-[0-9A-Za-z-]{1,64}$"


def hlc_field(**kw):
    """A hybrid logical clock stamp (sync/hlc.py)."""
    return fields.String(
        metadata={"pattern": HLC_PATTERN, "description": "<13-digit ms>-<4 hex>-<node>."}, **kw
    )


class RecordSchema(Schema):
    """The columns of server/records.py's RecordMixin, as every record shows them."""

    id = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = fields.Integer(required=True, metadata={"description": "Unix ms."})
    updated_at = fields.Integer(required=True, metadata={"description": "Unix ms."})
    created_by = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)


def wire_fields(schema_class) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The attributes a record of `schema_class` is read from, computed once: the names read
    as they are, in the schema's order, then (name, column) pairs read from another column.

    The renamed ones come last because that is where the wire has always carried them.
    """
    same, renamed = [], []
    for name, field in schema_class._declared_fields.items():
        column = field.metadata.get(COLUMN)
        if column is None:
            same.append(name)
        else:
            renamed.append((name, column))
    return tuple(same), tuple(renamed)
