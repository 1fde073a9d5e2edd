"""The integer ranges the database holds, for the schemas at the API's edge.

A number the column cannot hold must be refused with a field message (422) before it
reaches a query: PostgreSQL would fail the whole statement instead (a 500). Ids of people
and units are `integer` columns (int32); times and counters are `bigint` (int64).
"""

from marshmallow import fields, validate

from sync.fields import INT_RANGES

INT32_MAX = INT_RANGES[32][1]
INT64_MIN, INT64_MAX = INT_RANGES[64]

# An id of a person or a unit: serial integer keys from 1.
ID_RANGE = validate.Range(min=1, max=INT32_MAX, error="Not a valid id.")
# A page number: any page an offset of at most 200 rows a page can reach (int64).
PAGE_RANGE = validate.Range(min=1, max=INT32_MAX, error="A page number from 1.")
# Unix milliseconds stored in a bigint column.
MS_ANY_RANGE = validate.Range(min=0, max=INT64_MAX, error="A time in Unix milliseconds.")


class Id(fields.Integer):
    """An id query argument or field: an integer from 1 to 2^31 - 1."""

    def __init__(self, **kw):
        super().__init__(validate=ID_RANGE, **kw)
