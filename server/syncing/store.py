"""The sync engine's store, on SQLAlchemy: a push's reads, locks and writes in a few statements.

A push of 100 mutations must not cost 100 × a dozen round trips. So a `BatchStore`
prefetches every record, booth, squad count and EPIC holder the batch names (locking
them), lets the engine decide in memory, and writes everything at the end in bulk
statements. Its parts, by job:

- server/syncing/batch_state.py: what the batch holds, and forgetting a rejected mutation;
- server/syncing/prefetch.py: loading and locking up front, in the one lock order;
- server/syncing/batch_reads.py: records, places and authors, read once per batch;
- server/roster/store.py: squad counts, EPIC holders and the waitlist;
- server/grievances/store.py: reference numbers;
- server/meetings/store.py: whom a meeting reaches, RSVPs, organisers;
- server/syncing/conflicts.py: conflict records;
- server/syncing/writing.py: saving records and writing the batch.
"""

from server.grievances.store import ReferenceNumbers
from server.meetings.store import MeetingLookups
from server.roster.store import MemberBook
from server.syncing import prefetch
from server.syncing.batch_reads import RecordReader
from server.syncing.batch_state import BatchState
from server.syncing.conflicts import ConflictRecords
from server.syncing.writing import BatchWriter


class BatchStore(
    BatchState,
    RecordReader,
    MemberBook,
    ReferenceNumbers,
    MeetingLookups,
    ConflictRecords,
    BatchWriter,
):
    """The engine's Store for one push: one transaction, one change id.

    `BatchStore(actor, address=...)`: `actor` is the server.auth.Actor pushing, `address`
    the client's address the audit rows record.
    """

    def prepare(self, mutations):
        """Load and lock everything the batch is likely to touch (server/syncing/prefetch.py)."""
        prefetch.prepare(self, mutations)
