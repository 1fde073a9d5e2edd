"""Meetings and RSVPs in a push: their record types, and the lookups the engine's meeting
rules make (whom a meeting reaches, a person's existing answer, an organiser's unit)."""

from sqlalchemy import select

from server.accounts.models import User
from server.extensions import db
from server.meetings.audience import units_reaching
from server.meetings.models import Meeting, Rsvp
from server.meetings.schemas import MeetingRecord, RsvpRecord
from server.records import RecordType
from server.syncing import visibility
from sync.registry import rules_for


def meeting_index_row(store, row) -> dict:
    """A meeting reaches the roles of its audience in and under its unit."""
    return visibility.meeting_columns(store, row.unit_id, row.audience_roles)


def rsvp_index_row(store, row) -> dict:
    """An RSVP is pulled by the person who gave it (and read with its meeting's unit)."""
    meeting = store.load("meeting", row.meeting_id)
    return {
        **visibility.unit_columns(store.place(meeting.values["unit_id"])),
        "scope_key": "u",
        "owner_id": row.user_id,
    }


MEETING = RecordType(
    rules=rules_for("meeting"),
    model=Meeting,
    schema=MeetingRecord,
    index_row=meeting_index_row,
)

RSVP = RecordType(
    rules=rules_for("rsvp"),
    model=Rsvp,
    schema=RsvpRecord,
    parent=("meeting_id", "meeting"),
    index_row=rsvp_index_row,
)


class MeetingLookups:
    """The BatchStore's reads for meetings, each made once per batch."""

    def find_rsvp(self, meeting_id, user_id):
        for key, record in self.records.items():
            if (
                key[0] == "rsvp"
                and record is not None
                and record.values["meeting_id"] == meeting_id
                and record.values["user_id"] == user_id
            ):
                return self.load("rsvp", record.id)
        found = db.session.scalar(
            select(Rsvp.id).where(Rsvp.meeting_id == meeting_id, Rsvp.user_id == user_id)
        )
        return None if found is None else self.load("rsvp", found)

    def meeting_reaches(self, meeting, actor):
        user = self.actor.user
        if self.reaching is None:
            self.reaching = set(units_reaching(user))
        return (
            meeting.values["unit_id"] in self.reaching
            and user.role in meeting.values["audience_roles"]
        )

    def user_place(self, user_id):
        """A person's scope unit (a meeting's organiser), read once per batch."""
        if user_id not in self.user_places:
            unit_id = db.session.scalar(select(User.unit_id).where(User.id == user_id))
            self.user_places[user_id] = None if unit_id is None else self.place(unit_id)
        return self.user_places[user_id]
