"""Meetings and RSVPs in the simulation: a block president calls a meeting for a unit of
their block and the roles it is for, reschedules, moves or cancels it (and calls it off
again); the phones of its audience answer offline, change their answer, answer a meeting
that was cancelled or moved meanwhile, and answer from a second phone that does not yet
hold the first answer (the server merges the two: one RSVP per person and meeting).
A volunteer sometimes tries what only leaders may (`not_allowed`, to needs-attention).

The rules (rules 9 and 12 of docs/protocol.md, sync/records/meetings.py), restated for
the checks: who sees a meeting (`sees_meeting`), who sees an RSVP, and where an answer
typed went (`account_rsvp`)."""

import random

from tests.sync.simulation.plan import AUDIENCES, DAY_MS, MINUTE_MS, RSVP_ANSWERS, new_uuid


class MeetingSteps:
    """The `do_*` meeting steps of a `Simulation` (mixed into it)."""

    def meeting_units(self, phone):
        """The units a phone's person believes they may call a meeting for."""
        if phone.role == "volunteer":
            return [phone.unit_id]  # the server refuses it: only leaders call meetings
        return [phone.unit_id, *self.booths_of.get(phone.unit_id, [])]

    def volunteer_holds_back(self, phone, rng, what):
        """A volunteer mostly knows better than to call or change a meeting."""
        if phone.role == "volunteer" and rng.random() < 0.8:
            self.log(f"{phone.label} (a volunteer) does not {what}")
            return True
        return False

    def do_create_meeting(self, phone, rng):
        if self.volunteer_holds_back(phone, rng, "call meetings"):
            return
        self.enqueue(phone, "meeting", new_uuid(rng), self.meeting_fields(phone, rng))

    def meeting_fields(self, phone, rng):
        fields = {
            "title": self.unique("बैठक"),
            "starts_at": phone.wall(self.clock) + rng.randint(1, 14) * DAY_MS,
            "unit_id": rng.choice(self.meeting_units(phone)),
            "audience_roles": list(rng.choice(AUDIENCES)),
        }
        if rng.random() < 0.5:
            fields["place"] = self.unique("पंचायत भवन")
        if rng.random() < 0.3:
            fields["agenda"] = self.unique("एजेंडा")
        return fields

    def prefill_meetings(self):
        """Meetings the block president called before the history, from an old phone."""
        count = self.plan.prefill.get("meetings", 0)
        if not count:
            return
        phone = self.new_phone("P-old", "P", 0, "old:meetings")
        self.setup_phones.append(phone)
        rng = random.Random(f"{self.plan.seed}:prefill:meetings")
        made = [
            self.enqueue(
                phone, "meeting", new_uuid(rng), self.meeting_fields(phone, rng), quiet=True
            )
            for _ in range(count)
        ]
        self.push(phone, count, "delivered", quiet=True)
        names = ", ".join(self.short("meeting", m["id"]) for m in made)
        self.log(f"{phone.label} called {count} meetings: {names}")

    def do_reschedule_meeting(self, phone, rng):
        meeting_id, meeting = self.pick(phone, rng, "meeting")
        if meeting_id is None:
            return self.log(f"{phone.label} has no meeting to reschedule")
        if self.volunteer_holds_back(phone, rng, "change meetings"):
            return
        starts_at = meeting.get("starts_at") or phone.wall(self.clock)
        fields = {"starts_at": starts_at + rng.randint(-48, 96) * 30 * MINUTE_MS}
        roll = rng.random()
        if roll < 0.3:
            fields["place"] = self.unique("स्कूल")
        elif roll < 0.5:
            fields["audience_roles"] = list(rng.choice(AUDIENCES))
        elif roll < 0.65:
            fields["unit_id"] = rng.choice(self.meeting_units(phone))
        if rng.random() < 0.15:
            fields["title"] = self.unique("बैठक")
        self.enqueue(phone, "meeting", meeting_id, fields)

    def do_cancel_meeting(self, phone, rng):
        meeting_id, meeting = self.pick(phone, rng, "meeting")
        if meeting_id is None:
            return self.log(f"{phone.label} has no meeting to cancel")
        if self.volunteer_holds_back(phone, rng, "cancel meetings"):
            return
        cancelled = meeting.get("status") == "cancelled"
        # Mostly a cancellation; sometimes a cancelled meeting is called again.
        status = "scheduled" if cancelled and rng.random() < 0.5 else "cancelled"
        self.enqueue(phone, "meeting", meeting_id, {"status": status})

    def own_rsvps(self, phone, meeting_id):
        """The phone's answers to a meeting: its copies and its unsent ones."""
        return [
            (rsvp_id, rsvp)
            for rsvp_id, rsvp in phone.live("rsvp")
            if rsvp.get("meeting_id") == meeting_id
            and rsvp.get("user_id", rsvp.get("created_by")) == phone.user_id
        ]

    def do_rsvp(self, phone, rng):
        # Any meeting the phone holds: a cancelled or moved one too (the person answers
        # what the phone shows, which may be stale).
        meeting_id, _meeting = self.pick(phone, rng, "meeting")
        if meeting_id is None:
            return self.log(f"{phone.label} has no meeting to answer")
        mine = self.own_rsvps(phone, meeting_id)
        if mine and rng.random() < 0.85:
            rsvp_id, rsvp = rng.choice(mine)
            answers = [a for a in RSVP_ANSWERS if a != rsvp.get("answer")]
            return self.enqueue(phone, "rsvp", rsvp_id, {"answer": rng.choice(answers)})
        fields = {"meeting_id": meeting_id, "answer": rng.choice(RSVP_ANSWERS)}
        self.enqueue(phone, "rsvp", new_uuid(rng), fields)


def effective_ms(entry) -> int:
    """The moment an answer's HLC counts as on the server (rule 2): its own, unless over a
    minute ahead of the server's clock when it arrived, then the arrival."""
    stamp = int(entry.mutation["hlc"][:13])
    if entry.arrived_ms is not None and stamp > entry.arrived_ms + MINUTE_MS:
        return entry.arrived_ms
    return stamp


class MeetingChecks:
    """Who sees meetings and RSVPs, and where an answer went (mixed into `Checks`)."""

    def unit_within(self, person, unit_id):
        """Is the unit the person's scope unit, or a booth of their block?"""
        return unit_id == person["unit"] or self.block_of.get(unit_id) == person["unit"]

    def reaches(self, person, unit_id):
        """Does a meeting of this unit reach the person (their unit or one above it)?"""
        if unit_id == person["unit"]:
            return True
        return person["role"] == "volunteer" and self.block_of.get(person["unit"]) == unit_id

    def sees_meeting(self, person, meeting):
        """Only its audience (a role it names, in or under its unit) and the leaders whose
        scope holds its unit see a meeting: not a volunteer of its booth left out of the
        audience, nor an organiser moved elsewhere (they may still answer it)."""
        unit_id = meeting["unit_id"]
        if person["role"] in meeting["audience_roles"] and self.reaches(person, unit_id):
            return True
        return person["role"] != "volunteer" and self.unit_within(person, unit_id)

    def sees_rsvp(self, person, rsvp, state):
        """An RSVP is its person's, and the leaders' whose scope holds its meeting's unit."""
        if rsvp["user_id"] == person["id"]:
            return True
        meeting = state[("meeting", rsvp["meeting_id"])]
        return person["role"] != "volunteer" and self.unit_within(person, meeting["unit_id"])

    def account_rsvp(self, entry, record):
        """An answer that is not the server's is accounted for when the same person answered
        the same meeting again, later (rule 9: one RSVP per person and meeting, merged by
        rule 2, never in conflict): with a later HLC, or taken after it from the same phone
        (its own order) or from a phone over a minute ahead (its HLC counts as the moment
        the server took it), or with an HLC later than the moment the server took this
        answer, when this one's own HLC was over a minute ahead of that moment (seed 1559:
        'no' typed on a phone two days ahead, 'yes' typed half an hour later on the same
        person's other phone)."""
        m = entry.mutation
        ahead = {p.label for p in self.phones + self.setup_phones if p.offset > MINUTE_MS}
        for other in self.ledger.values():
            o = other.mutation
            if other is entry or o["entity"] != "rsvp" or other.user_id != entry.user_id:
                continue
            if other.result is None or other.result["status"] == "rejected":
                continue
            if (other.result["id"] or o["id"]) != record["id"]:
                continue
            taken_after = other.result["version"] > entry.result["version"]
            if (
                o["hlc"] > m["hlc"]
                or (taken_after and (other.phone == entry.phone or other.phone in ahead))
                or (taken_after and effective_ms(other) > effective_ms(entry))
            ):
                return []
        return [
            f"answer={m['fields']['answer']!r} is lost: the server has {record['answer']!r}, "
            "and the person never answered again"
        ]
