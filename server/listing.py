"""Paging and text search of the online lists: their query arguments, their answer's
envelope, and the queries behind them."""

import math

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from server.extensions import db
from server.ranges import PAGE_RANGE
from sync.fields import Text

MAX_PER_PAGE = 200


class PageArgs(Schema):
    """Paging arguments; unknown query arguments are refused (marshmallow's default)."""

    page = fields.Integer(load_default=1, validate=PAGE_RANGE, metadata={"description": "From 1."})
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"At most {MAX_PER_PAGE}."},
    )


class PageEnvelope(Schema):
    """One page of a list, with what a pager needs to draw itself."""

    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Rows on all pages."})
    pages = fields.Integer(required=True, metadata={"description": "0 when nothing matches."})


def search_text():
    """The `q` argument: NFC-normalised and trimmed, so Hindi typed any way still matches."""
    return Text(
        100,
        metadata={"description": "Text search; Hindi (Devanagari) or English, any case."},
    )


def paginate(model, conditions, order_by, page, per_page, item=None, join=()):
    """One query for the rows of `page` and one for the count of all matching rows.

    `item(row)`: each row as answered (the rows themselves without it). `join`: (table, on
    clause) pairs for conditions on a table each row has one row of (a person's unit), so
    joining adds no rows.
    """
    count, query = select(func.count()).select_from(model), select(model)
    for table, on in join:
        count, query = count.join(table, on), query.join(table, on)
    total = db.session.scalar(count.where(*conditions))
    rows = db.session.scalars(
        query.where(*conditions).order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {
        "items": rows if item is None else [item(row) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": math.ceil(total / per_page),
    }


def contains_text(column, needle, fold_in_database=False):
    """Case-insensitive for Latin letters (Devanagari has no case); % and _ are literal.

    The needle is lower-cased by Python and the column by the database, unless
    `fold_in_database`: then the database folds both (ILIKE on PostgreSQL), as the people
    list always has; the two differ for capitals outside ASCII on SQLite.
    """
    if fold_in_database:
        return column.icontains(needle, autoescape=True)
    return func.lower(column).contains(needle.lower(), autoescape=True)
