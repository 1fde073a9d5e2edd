"""The steps a person takes in the simulation: adding, editing, reviewing, moving and
deleting members, reporting and handling grievances, writing notes and resolving
conflicts, each drawn from the step's own random numbers."""

from tests.sync.simulation.plan import (
    AUTHOR_MOVES,
    CATEGORIES,
    EPICS,
    GENDERS,
    GRIEVANCE_EDITABLE,
    GRIEVANCE_STATUSES,
    HANDLER_MOVES,
    MEETING_EDITABLE,
    MEMBER_EDITABLE,
    SKILLS,
    new_uuid,
)


class EditSteps:
    """The `do_*` edit steps of a `Simulation` (mixed into it)."""

    # ---- values, unique within a history so that every value can be traced

    def unique(self, prefix):
        self.counter += 1
        return f"{prefix} {self.counter}"

    def mobile(self, rng):
        self.counter += 1
        return f"{rng.choice('6789')}{self.plan.seed % 1000:03d}{self.counter:06d}"

    def member_fields(self, rng, phone, booth_key=None):
        booth = self.units[booth_key] if booth_key else self.pick_booth(phone, rng)
        fields = {
            "booth_id": booth,
            "name": self.unique(rng.choice(("सदस्य", "Member", "युवा साथी"))),
            "age": rng.randint(18, 35),
            "gender": rng.choice(GENDERS),
            "phone": self.mobile(rng),
            "consent": True,
            "skills": sorted(rng.sample(SKILLS, rng.randint(0, 2))),
        }
        return fields

    def pick_booth(self, phone, rng):
        if phone.role == "volunteer":
            return phone.unit_id
        return rng.choice(self.booths_of[phone.unit_id])

    # ---- edits

    def do_create_member(self, phone, rng):
        fields = self.member_fields(rng, phone)
        if rng.random() < 0.4:
            fields["epic"] = rng.choice(EPICS)
        if rng.random() < 0.3:
            fields["notes"] = self.unique("टिप्पणी")
        if rng.random() < 0.05:
            fields["consent"] = False  # consent not asked: the server refuses it
        self.enqueue(phone, "member", new_uuid(rng), fields)

    def pick(self, phone, rng, entity, where=lambda record: True):
        choices = [(rid, rec) for rid, rec in phone.live(entity) if where(rec)]
        return rng.choice(choices) if choices else (None, None)

    def do_edit_member(self, phone, rng):
        typed = {}
        for m in phone.pending():
            if m["entity"] == "member" and m["op"] == "upsert":
                typed.setdefault(m["id"], set()).update(set(m["fields"]) & set(MEMBER_EDITABLE))
        member_id, names = None, []
        if typed and rng.random() < 0.6:
            # The person goes back to a member they changed and has not synced yet, often
            # to correct what they typed.
            member_id, _member = self.pick(phone, rng, "member", lambda r: r["id"] in typed)
            if member_id and typed[member_id] and rng.random() < 0.7:
                names = [rng.choice(sorted(typed[member_id]))]
        if member_id is None:
            member_id, _member = self.pick(phone, rng, "member")
        if member_id is None:
            return self.log(f"{phone.label} has no member to edit")
        if not names:
            names = rng.sample(("name", "age", "phone", "notes", "skills", "gender", "epic"), 2)
            if "epic" in names and rng.random() < 0.5:
                names.remove("epic")
        fields = {name: self.member_value(name, rng) for name in names}
        self.enqueue(phone, "member", member_id, fields)

    def member_value(self, name, rng):
        if name == "name":
            return self.unique(rng.choice(("नाम", "Name")))
        if name == "age":
            return rng.randint(18, 35)
        if name == "phone":
            return self.mobile(rng)
        if name == "notes":
            return self.unique("टिप्पणी")
        if name == "skills":
            return sorted(rng.sample(SKILLS, rng.randint(1, 3)))
        if name == "gender":
            return rng.choice(GENDERS)
        return rng.choice(EPICS)

    def do_delete_member(self, phone, rng):
        member_id, _member = self.pick(phone, rng, "member")
        if member_id is None:
            return self.log(f"{phone.label} has no member to delete")
        self.enqueue(phone, "member", member_id, op="delete")

    def do_review_member(self, phone, rng):
        waiting = self.pick(phone, rng, "member", lambda r: r.get("status") == "pending")
        member_id, _member = waiting if waiting[0] else self.pick(phone, rng, "member")
        if member_id is None:
            return self.log(f"{phone.label} has no member to review")
        if phone.role == "volunteer" and rng.random() < 0.7:
            return self.log(f"{phone.label} (a volunteer) does not try to approve")
        if rng.random() < 0.7:
            fields = {"status": "approved"}
        else:
            fields = {"status": "rejected"}
            if rng.random() < 0.9:
                fields["status_reason"] = self.unique("कारण")
        self.enqueue(phone, "member", member_id, fields)

    def do_move_member(self, phone, rng):
        if phone.role != "block_president":
            return self.log(f"{phone.label} (a volunteer) does not move members")
        member_id, member = self.pick(phone, rng, "member")
        if member_id is None:
            return self.log(f"{phone.label} has no member to move")
        others = [b for b in self.booths_of[phone.unit_id] if b != member.get("booth_id")]
        if not others:
            return self.log(
                f"{phone.label} has no other booth to move {self.short('member', member_id)} to"
            )
        self.enqueue(phone, "member", member_id, {"booth_id": rng.choice(others)})

    def do_withdraw_consent(self, phone, rng):
        member_id, _member = self.pick(phone, rng, "member")
        if member_id is None:
            return self.log(f"{phone.label} has no member to withdraw")
        self.enqueue(phone, "member", member_id, {"consent": False})

    def do_create_grievance(self, phone, rng):
        fields = {
            "booth_id": self.pick_booth(phone, rng),
            "category": rng.choice(CATEGORIES),
            "description": self.unique("सड़क टूटी है"),
            "created_at": phone.wall(self.clock),
        }
        if rng.random() < 0.5:
            fields["complainant_name"] = self.unique("शिकायतकर्ता")
            fields["complainant_phone"] = self.mobile(rng)
        if rng.random() < 0.3:
            fields["against"] = self.unique("BDO")
        self.enqueue(phone, "grievance", new_uuid(rng), fields)

    def do_edit_grievance(self, phone, rng):
        mine = rng.random() < 0.85
        grievance_id, _g = self.pick(
            phone,
            rng,
            "grievance",
            lambda r: r.get("status") == "new" and (r.get("created_by") == phone.user_id) == mine,
        )
        if grievance_id is None:
            return self.log(f"{phone.label} has no grievance to edit")
        name = rng.choice(GRIEVANCE_EDITABLE)
        value = self.unique({"description": "पानी नहीं", "complainant_name": "नाम"}.get(name, "CO"))
        self.enqueue(phone, "grievance", grievance_id, {name: value})

    def do_move_grievance(self, phone, rng):
        grievance_id, grievance = self.pick(phone, rng, "grievance")
        if grievance_id is None:
            return self.log(f"{phone.label} has no grievance to move")
        current = grievance.get("status", "new")
        moves = HANDLER_MOVES if phone.role != "volunteer" else AUTHOR_MOVES
        wanted = moves.get(current) if rng.random() < 0.8 else rng.choice(GRIEVANCE_STATUSES)
        if wanted is None or wanted == current:
            wanted = "closed" if current == "resolved" else rng.choice(GRIEVANCE_STATUSES)
        self.enqueue(phone, "grievance", grievance_id, {"status": wanted})

    def do_rebooth_grievance(self, phone, rng):
        """The reporter corrects the booth of a complaint (rule 8: theirs, still new, to a
        booth they reach; its notes follow it). Now and then someone else's, one no longer
        new, or a booth out of reach, which the server refuses. With no complaint of their
        own, the person reports one, to correct it later."""
        grievance_id, grievance = self.pick(
            phone, rng, "grievance", lambda r: r.get("created_by") == phone.user_id
        )
        if grievance_id is None or rng.random() < 0.1:
            grievance_id, grievance = self.pick(phone, rng, "grievance")
        if grievance_id is None or (
            grievance.get("created_by") != phone.user_id and rng.random() < 0.5
        ):
            self.log(f"{phone.label} reports a grievance, to correct its booth later")
            return self.do_create_grievance(phone, rng)
        reach = self.booths_of.get(phone.unit_id, [phone.unit_id])
        others = [b for b in reach if b != grievance.get("booth_id")]
        if not others or rng.random() < 0.2:
            others = [b for b in self.block_of if b != grievance.get("booth_id")]
        self.enqueue(phone, "grievance", grievance_id, {"booth_id": rng.choice(others)})

    def do_add_note(self, phone, rng):
        grievance_id, _g = self.pick(phone, rng, "grievance")
        if grievance_id is None:
            return self.log(f"{phone.label} has no grievance to note")
        fields = {"grievance_id": grievance_id, "text": self.unique("नोट")}
        self.enqueue(phone, "grievance_note", new_uuid(rng), fields)

    def do_resolve_conflict(self, phone, rng):
        open_ = sorted(
            (
                (c["record"]["record_id"], c["record"]["lost_hlc"], key[1], c["record"])
                for key, c in phone.copies.items()
                if key[0] == "conflict"
                and not c["record"]["resolved"]
                and (c["record"]["author_id"] == phone.user_id or phone.role != "volunteer")
            ),
        )
        if not open_:
            return self.log(f"{phone.label} has no conflict to resolve")
        _record_id, _hlc, conflict_id, conflict = rng.choice(open_)
        entity, record_id = conflict["entity"], conflict["record_id"]
        if rng.random() < 0.6 and (entity, record_id) in phone.copies:
            editable = {"member": MEMBER_EDITABLE, "meeting": MEETING_EDITABLE}.get(
                entity, GRIEVANCE_EDITABLE
            )
            values = {k: v for k, v in conflict["lost"].items() if k in editable}
            if entity == "member" and phone.role != "volunteer":
                values.update(
                    {k: v for k, v in conflict["lost"].items() if k in ("status", "status_reason")}
                )
            if values:
                self.log(
                    f"{phone.label} applies the lost side of {self.short('conflict', conflict_id)}"
                )
                self.enqueue(phone, entity, record_id, values)
        self.enqueue(phone, "conflict", conflict_id, {"resolved": True})
