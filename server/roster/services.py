"""Reads of the roster for people who work online: scoped, filtered, searched, paged."""

import contextlib
import re

from marshmallow import ValidationError
from sqlalchemy import or_

from server.errors import forbidden, validation_error
from server.extensions import db
from server.geo.models import BLOCK, BOOTH, Unit
from server.listing import contains_text, paginate
from server.reading import open_record
from server.roster.models import Member
from server.scope import booth_filter, booth_in_scope, sees_full_personal_data, unit_within
from server.serialize import to_record
from sync.fields import EPIC_RE, normalise_phone


def scope_conditions(viewer, model, booth_id=None, block_id=None):
    """Conditions keeping `model` rows inside the viewer's scope and the asked booth or block.

    A booth or block id that is no such unit is a 422 naming the argument (booth lists
    are public, so this reveals nothing); a booth outside the scope is a 403. A block may
    also be the one holding the viewer's scope (a volunteer filtering by its own block):
    the scope condition still limits the answer to what the viewer may read.
    """
    conditions = [booth_filter(viewer, model), model.deleted.is_(False)]
    if booth_id is not None:
        booth = db.session.get(Unit, booth_id)
        if booth is None or booth.type != BOOTH:
            raise validation_error({"booth_id": ["No such booth."]})
        if not booth_in_scope(viewer, booth):
            raise forbidden("This booth is outside your area.")
        conditions.append(model.booth_id == booth_id)
    if block_id is not None:
        block = db.session.get(Unit, block_id)
        if block is None or block.type != BLOCK:
            raise validation_error({"block_id": ["No such block."]})
        if not (unit_within(viewer.unit, block) or unit_within(block, viewer.unit)):
            raise forbidden("This block is outside your area.")
        conditions.append(model.block_id == block_id)
    return conditions


def member_search(viewer, q):
    """Names containing `q`; a full phone or EPIC too, only for viewers who see them unmasked.

    Matching a masked number would let a viewer test whether someone is on the roster.
    """
    matches = [contains_text(Member.name, q)]
    if sees_full_personal_data(viewer):
        # Anything that is not a mobile number is simply not searched as one.
        with contextlib.suppress(ValidationError):
            matches.append(Member.phone == normalise_phone(q))
        epic = re.sub(r"\s", "", q).upper()
        if EPIC_RE.match(epic):
            matches.append(Member.epic == epic)
    return or_(*matches)


def list_members(
    viewer, page=1, per_page=50, booth_id=None, block_id=None, status=None, q=None
) -> dict:
    """A page of the members the viewer may read, by name then id, masked for the viewer."""
    conditions = scope_conditions(viewer, Member, booth_id, block_id)
    if status is not None:
        conditions.append(Member.status == status)
    if q:
        conditions.append(member_search(viewer, q))
    order = (Member.name, Member.id)
    return paginate(
        Member, conditions, order, page, per_page, item=lambda m: to_record("member", m, viewer)
    )


def open_member(actor, member_id: str) -> dict:
    """One member in full view, with the read written to the access log (DPDP)."""
    return open_record(actor, "member", Member, member_id, booth_filter(actor.user, Member))
