"""Every record type the server replicates, one declaration each in its own package,
listed here once: parents before children (the order rows are inserted and locked in).

A new record type is declared in its package's store.py and added to RECORD_TYPES; the
push, the pull, the change index and the wire form all read it from here.
"""

from server.grievances.store import GRIEVANCE, GRIEVANCE_NOTE
from server.meetings.store import MEETING, RSVP
from server.roster.store import MEMBER
from server.syncing.conflicts import CONFLICT

RECORD_TYPES = {
    record_type.entity: record_type
    for record_type in (MEMBER, GRIEVANCE, GRIEVANCE_NOTE, MEETING, RSVP, CONFLICT)
}
ENTITY_ORDER = tuple(RECORD_TYPES)
MODELS = {entity: record_type.model for entity, record_type in RECORD_TYPES.items()}
