"""Members in a push: their record type, and the batch's squad counts, EPIC holders and
waitlist, kept in step with every member the batch writes."""

import re

from sqlalchemy import false, func, select, update

from server.extensions import db
from server.records import RecordType
from server.roster.models import Member
from server.roster.schemas import MemberRecord
from server.syncing import locks, visibility
from server.syncing.database import is_postgres
from server.syncing.locks import BOOTH, EPIC
from sync.fields import EPIC_RE
from sync.records.roster import ACTIVE
from sync.registry import rules_for

MEMBER = RecordType(
    rules=rules_for("member"),
    model=Member,
    schema=MemberRecord,
    index_row=lambda store, row: visibility.own_scope_row("member", row),
)


def normalised_epic(value):
    """An EPIC as the field type would store it, or None when it cannot be one."""
    epic = re.sub(r"\s", "", value).upper() if isinstance(value, str) else None
    return epic if epic and EPIC_RE.match(epic) else None


def member_state(record) -> tuple:
    """(booth, counts towards the squad, EPIC held) of a member record."""
    live = not record.deleted
    return (
        record.values["booth_id"],
        live and record.values["status"] in ACTIVE,
        record.values.get("epic") if live else None,
    )


class MemberBook:
    """The BatchStore's member bookkeeping: squad counts under booth locks, EPIC holders
    under EPIC locks, the waitlist. `member_state` maps a member id to its
    (booth, active, epic) as of now, `db_member_state` as stored."""

    def _lock_booths(self, booths):
        """Lock booth rows (ascending, in the lock order) and count their squads.

        A booth's lock serialises its squad count and guards its member rows: every write
        of a member happens under the lock of its booth (both booths, for a move).
        """
        booths = sorted(b for b in booths if b not in self.locked_booths)
        if not booths:
            return
        if is_postgres():
            self.ledger.take(BOOTH, booths)
            locks.booth_rows(db.session, booths)
        self.locked_booths.update(booths)
        counts = dict(
            db.session.execute(
                select(Member.booth_id, func.count())
                .where(
                    Member.booth_id.in_(booths),
                    Member.deleted.is_(False),
                    Member.status.in_(ACTIVE),
                )
                .group_by(Member.booth_id)
            ).all()
        )
        for booth in booths:
            # Members this batch already changed are counted as they are now, not as stored.
            count = counts.get(booth, 0)
            for member_id, now_state in self.member_state.items():
                before = self.db_member_state.get(member_id)
                count -= bool(before and before[0] == booth and before[1])
                count += bool(now_state[0] == booth and now_state[1])
            self.active[booth] = count

    def _lock_epics(self, epics):
        epics = sorted(e for e in epics if e not in self.epic_owner)
        if not epics:
            return
        if is_postgres():
            self.ledger.take(EPIC, epics)
            locks.epic_keys(db.session, epics)
        rows = db.session.execute(
            # `deleted = false`, as the partial unique index says it, so the index is used
            # (PostgreSQL does not match `deleted IS false` to the index's predicate).
            select(Member.epic, Member.id).where(Member.epic.in_(epics), Member.deleted == false())
        ).all()
        for epic in epics:
            self.epic_owner[epic] = None
        for epic, member_id in rows:
            if member_id not in self.member_state:  # this batch's view wins
                self.epic_owner[epic] = member_id
        for member_id, (_booth, _active, epic) in self.member_state.items():
            if epic in self.epic_owner:
                self.epic_owner[epic] = member_id

    def active_count(self, booth_id, exclude_id):
        self._lock_booths([booth_id])
        state = self.member_state.get(exclude_id)
        return self.active[booth_id] - bool(state and state[0] == booth_id and state[1])

    def epic_holder(self, epic, exclude_id):
        self._lock_epics([epic])
        owner = self.epic_owner.get(epic)
        if owner is None or owner == exclude_id:
            return None
        booth = (
            self.member_state[owner][0]
            if owner in self.member_state
            else db.session.scalar(select(Member.booth_id).where(Member.id == owner))
        )
        return self.place(booth)

    def earliest_waitlisted(self, booth_id):
        query = (
            select(Member.id)
            .where(
                Member.booth_id == booth_id,
                Member.deleted.is_(False),
                Member.status == "waitlisted",
            )
            .order_by(Member.waitlisted_at, Member.id)
            .limit(50)
        )
        candidates = set(db.session.execute(query).scalars())
        candidates |= {k[1] for k in self.dirty if k[0] == "member"}
        self._fetch("member", candidates)
        waiting = [
            r
            for r in (self.records.get(("member", c)) for c in candidates)
            if r is not None
            and not r.deleted
            and r.values["booth_id"] == booth_id
            and r.values["status"] == "waitlisted"
        ]
        if not waiting:
            return None
        first = min(waiting, key=lambda r: (r.values.get("waitlisted_at") or 0, r.id))
        return self.load("member", first.id)

    def _remember_member(self, record):
        """A member just read: is it guarded by its booth's lock, and its state as stored."""
        if record.values["booth_id"] in self.locked_booths:
            self.guarded.add(record.id)
        else:
            self.guarded.discard(record.id)
        self.member_state[record.id] = self.db_member_state[record.id] = member_state(record)

    def _count(self, record):
        """Keep squad counts and EPIC holders in step with a member just written."""
        before = self.member_state.get(record.id)
        after = member_state(record)
        self.member_state[record.id] = after
        if before and before[1] and before[0] in self.active:
            self.active[before[0]] -= 1
        if after[1] and after[0] in self.active:
            self.active[after[0]] += 1
        if before and before[2] and self.epic_owner.get(before[2]) == record.id:
            self.epic_owner[before[2]] = None
        if after[2] and after[2] in self.epic_owner:
            self.epic_owner[after[2]] = record.id

    def _release_epics(self, keys):
        """Clear the stored EPIC of members that give theirs up, before any row takes one:
        the unique index checks each row as it is written, not the batch as a whole."""
        giving_up = [
            k[1]
            for k in keys
            if k not in self.created
            and (self.db_member_state.get(k[1]) or (None, None, None))[2]
            and self.db_member_state[k[1]][2] != self.member_state[k[1]][2]
        ]
        if giving_up:
            db.session.execute(update(Member).where(Member.id.in_(giving_up)).values(epic=None))
