"""Every record type the server replicates, one declaration each in its own package,
listed here once, in the order of their rules (sync/registry.py): parents before children,
the order rows are inserted and locked in.

A new record type is its rules module in sync/records/ (registered in sync/registry.py)
and its declaration in its server package's store.py, added below; the push, the pull, the
change index and the wire form all read it from here.
"""

from server.grievances.store import GRIEVANCE, GRIEVANCE_NOTE
from server.meetings.store import MEETING, RSVP
from server.roster.store import MEMBER
from server.syncing.conflicts import CONFLICT
from sync.registry import RECORD_TYPES as ENGINE_TYPES

RECORD_TYPES = {
    record_type.entity: record_type
    for record_type in sorted(
        (MEMBER, GRIEVANCE, GRIEVANCE_NOTE, MEETING, RSVP, CONFLICT),
        key=lambda record_type: record_type.rules.order,
    )
}
if tuple(RECORD_TYPES) != tuple(rules.entity for rules in ENGINE_TYPES):
    raise RuntimeError("every record type the engine has rules for is stored, and no other")
ENTITY_ORDER = tuple(RECORD_TYPES)
MODELS = {entity: record_type.model for entity, record_type in RECORD_TYPES.items()}
