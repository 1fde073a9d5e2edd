"""What every history must end with: all phones converged, every mutation accounted for,
rosters within the rules, personal data erased on request, and a phone's later write
never losing to its own earlier one. Read through the `Transport`, so the same checks
judge the HTTP server and the engine in memory."""

import random

from tests.sync.simulation.meetings import MeetingChecks
from tests.sync.simulation.phone import SimulatedPhone
from tests.sync.simulation.plan import PERSONAL, SQUAD_SIZE, TRACEABLE, new_uuid


class Checks(MeetingChecks):
    """The checks of a `Simulation` (mixed into it)."""

    def check(self) -> list[str]:
        """Every violation of convergence, accounting and roster rules, as readable lines."""
        if self.unexpected:
            return [f"(protocol) {self.unexpected}"]
        problems = []
        for phone in self.phones + self.setup_phones:
            if phone.outbox:
                problems.append(f"(quiescence) {phone.label} still has {len(phone.outbox)} to send")
        state = self.transport.state()
        self.applied = self.transport.applied()
        fresh = {key: self.fresh_view(person["id"]) for key, person in self.people.items()}
        problems += self.check_views(fresh)
        problems += self.check_pull_against_database(state, fresh)
        problems += self.check_ledger(state, fresh)
        problems += self.check_rosters(state)
        problems += self.check_erasure(state)
        problems += self.check_own_order()
        return problems

    def fresh_view(self, user_id):
        """What a phone of the person installed now pulls."""
        key = self.user_keys[user_id]
        probe = SimulatedPhone(
            "fresh " + key,
            key,
            user_id,
            self.people[key]["role"],
            self.transport.unit_of(user_id),
            new_uuid(random.Random(f"{self.plan.seed}:fresh:{user_id}")),
            None,
            0,
        )
        probe.credentials = self.transport.add_device(user_id, probe.device_id)
        self.pull(probe, 500)
        return probe.view()

    def check_views(self, fresh):
        """(a) every phone holds exactly what a fresh phone of its person pulls."""
        problems = []
        for phone in self.phones:
            mine, truth = phone.view(), fresh[phone.owner]
            for key in sorted(set(mine) | set(truth)):
                name = f"{key[0]} {self.short(*key)}"
                if key not in truth:
                    problems.append(
                        f"(a) {phone.label} holds {name} v{mine[key][0]}, which a fresh pull of "
                        f"{phone.owner} does not bring"
                    )
                elif key not in mine:
                    problems.append(
                        f"(a) {phone.label} lacks {name} v{truth[key][0]} that a fresh pull brings"
                    )
                elif mine[key] != truth[key]:
                    diff = {
                        k: (mine[key][2].get(k), truth[key][2].get(k))
                        for k in set(mine[key][2]) | set(truth[key][2])
                        if mine[key][2].get(k) != truth[key][2].get(k)
                    }
                    problems.append(
                        f"(a) {phone.label} holds {name} v{mine[key][0]}, the server has "
                        f"v{truth[key][0]}; differing (phone, server): {diff}"
                    )
        return problems

    def visible(self, person, entity, record, state):
        """Is `record` in the person's scope (rule 10)? Complaints about office-bearers are
        the booth's and the Connect Centre's; a grievance's reporter follows it anywhere."""
        unit_id, role = person["unit"], person["role"]
        if entity == "meeting":
            return self.sees_meeting(person, record)
        if entity == "rsvp":
            return self.sees_rsvp(person, record, state)
        if entity == "conflict" and record["entity"] == "meeting":
            # Its author's, and the leaders' whose scope holds the meeting's unit.
            return record["author_id"] == person["id"] or (
                role != "volunteer" and self.unit_within(person, record["unit_id"])
            )
        if entity == "conflict":
            # Exactly as visible as the record it is about, in its present state.
            about = state.get((record["entity"], record["record_id"]))
            return about is not None and self.visible(person, record["entity"], about, state)
        if entity in ("grievance", "grievance_note"):
            grievance = (
                record if entity == "grievance" else state[("grievance", record["grievance_id"])]
            )
            if grievance["created_by"] == person["id"]:
                return True  # whoever reported it follows it, from anywhere
            if role != "volunteer" and grievance["category"] == "party_conduct":
                return False
        booth = record["booth_id"]
        return (booth if role == "volunteer" else self.block_of.get(booth)) == unit_id

    def check_pull_against_database(self, state, fresh):
        """A fresh pull brings every record of the scope, as the server holds it."""
        problems = []
        for key, person in self.people.items():
            person = {**person, "unit": self.transport.unit_of(person["id"])}
            seen = self.transport.seen_by(person["id"])
            expected = {
                record_key: seen[record_key]
                for record_key, record in state.items()
                if self.visible(person, record_key[0], record, state)
            }
            pulled = {k: v[2] for k, v in fresh[key].items()}
            for record_key in sorted(set(expected) | set(pulled)):
                name = f"{record_key[0]} {self.short(*record_key)}"
                if record_key not in pulled:
                    problems.append(f"(pull) a fresh pull of {key} misses {name} in its scope")
                elif record_key not in expected:
                    problems.append(
                        f"(pull) a fresh pull of {key} brings {name}, outside its scope"
                    )
                elif pulled[record_key] != expected[record_key]:
                    problems.append(f"(pull) a fresh pull of {key} brings a stale {name}")
        return problems

    def check_ledger(self, state, fresh):
        """(b) every mutation is on the server, in a conflict its author sees, or rejected
        and waiting in its phone's needs-attention list with the server's reason."""
        problems = []
        phones = {p.label: p for p in self.phones + self.setup_phones}
        for (label, seq), entry in sorted(self.ledger.items()):
            m, phone = entry.mutation, phones[label]
            name = f"{label} #{seq} ({m['entity']} {self.short(m['entity'], m['id'])})"
            row = self.applied.get((phone.device_id, seq))
            if entry.result is None or row is None:
                problems.append(f"(b) {name} never reached the server")
                continue
            first = entry.result
            logged_status, logged_error = row
            if logged_status != first["status"]:
                problems.append(
                    f"(b) {name}: answered {first['status']} but logged {logged_status} on the server"
                )
            for later in entry.deliveries[1:]:
                same = (
                    later["status"] == "rejected" and later["error"] == first["error"]
                    if first["status"] == "rejected"
                    else later["status"] == "duplicate"
                )
                if not same:
                    problems.append(
                        f"(b) {name}: first answered {self.describe_result(first)}, a retry "
                        f"{self.describe_result(later)}"
                    )
            if first["status"] == "rejected":
                kept = phone.attention.get(seq)
                if kept is None:
                    problems.append(
                        f"(b) {name} was rejected ({first['error']['code']}) but is not in "
                        f"{label}'s needs-attention list"
                    )
                elif kept["error"] != logged_error:
                    problems.append(f"(b) {name}: needs-attention holds another reason")
                continue
            problems += [f"(b) {name}: {p}" for p in self.account(entry, state, fresh)]
        return problems

    def account(self, entry, state, fresh):
        """Where the effect of one applied mutation went (empty when accounted for)."""
        m = entry.mutation
        # A second RSVP of a person to a meeting is merged into their first (rule 9).
        key = (m["entity"], entry.result["id"] or m["id"])
        record = state.get(key)
        if record is None:
            return ["applied, but the record is not on the server"]
        if m["op"] == "delete":
            if record["deleted"] or self.superseded(entry, "deleted"):
                return []
            return ["a delete that is not in the server's state"]
        author = self.user_keys[entry.user_id]
        seen_conflicts = [
            c[2]
            for k, c in fresh[author].items()
            if k[0] == "conflict" and c[2]["record_id"] == m["id"]
        ]
        if key not in fresh[author]:
            # The author no longer reaches the record (moved to another booth): its conflict
            # records stay with the record, for the people who now handle it.
            seen_conflicts += [
                c for k, c in state.items() if k[0] == "conflict" and c["record_id"] == m["id"]
            ]
        problems = []
        for name, value in sorted(m["fields"].items()):
            if record.get(name) == value or self.superseded(entry, name):
                continue
            if entry.before is not None and entry.before.get(name) == value:
                continue  # not changed by this person: a concurrent change rightly wins
            if any(name in c["lost"] and c["lost"][name] == value for c in seen_conflicts):
                continue
            if m["entity"] == "rsvp" and name == "answer":
                problems += self.account_rsvp(entry, record)
                continue
            if m["entity"] == "grievance" and name == "status":
                if any(h["status"] == value for h in record["status_history"]):
                    continue
            if m["entity"] == "grievance" and name == "created_at":
                continue  # kept as when it was typed, never later than arrival
            if m["entity"] == "member":
                erased = record["deleted"] and record["consent"] is False
                if erased and name in (*PERSONAL, "consent"):
                    continue  # withdrawn consent erases them, by design (DPDP)
                if name == "status" and record["version"] > entry.result["version"]:
                    continue  # moved on by a later write (rules 3 to 5)
                if name == "status" and self.people[author]["role"] == "volunteer":
                    # Not refused, so the status it found was this one already: a volunteer
                    # decides nothing (rule 3), and its own details may undo it (rule 4).
                    continue
            problems.append(
                f"{name}={value!r} is lost: the server has {record.get(name)!r}, and no conflict "
                f"{author} can see holds it"
            )
        return problems

    def superseded(self, entry, name):
        """Did someone who had seen this mutation's result write `name` afterwards?"""
        m, version = entry.mutation, entry.result["version"]
        for other in self.ledger.values():
            o = other.mutation
            if other is entry or (o["entity"], o["id"]) != (m["entity"], m["id"]):
                continue
            if other.result is None or other.result["status"] == "rejected":
                continue
            writes = o["op"] == "delete" if name == "deleted" else name in o.get("fields", {})
            if name == "deleted" and o["op"] == "upsert":
                writes = True  # a restore by someone who saw the delete
            if writes and (o["base_version"] or 0) >= version and other.result["version"] > version:
                return True
            # A phone's own later write follows its earlier one, whatever the clocks say.
            if writes and other.phone == entry.phone and o["seq"] > m["seq"]:
                return True
        return False

    def check_rosters(self, state):
        """(c) at most 20 pending or approved per booth, waitlist promoted when room frees,
        one live member per EPIC."""
        problems = []
        counts, epics = {}, {}
        for (entity, _id), record in state.items():
            if entity != "member" or record["deleted"]:
                continue
            by_status = counts.setdefault(record["booth_id"], {})
            by_status[record["status"]] = by_status.get(record["status"], 0) + 1
            if record["epic"] is not None:
                epics[record["epic"]] = epics.get(record["epic"], 0) + 1
        for booth_id, by_status in sorted(counts.items()):
            active = by_status.get("pending", 0) + by_status.get("approved", 0)
            booth = self.unit_names[booth_id]
            if active > SQUAD_SIZE:
                problems.append(f"(c) booth {booth} has {active} pending or approved members")
            if active < SQUAD_SIZE and by_status.get("waitlisted"):
                problems.append(
                    f"(c) booth {booth} has {active} active members and "
                    f"{by_status['waitlisted']} still waitlisted"
                )
        for epic, count in sorted(epics.items()):
            if count > 1:
                problems.append(f"(c) EPIC {epic} is on {count} live members")
        return problems

    def check_erasure(self, state):
        """A member who withdrew consent keeps no mobile number or EPIC anywhere, conflicts
        included (DPDP: erase on request)."""
        problems = []
        erased = {
            key[1]
            for key, record in state.items()
            if key[0] == "member" and record["deleted"] and record["consent"] is False
        }
        for key, record in sorted(state.items()):
            if key[0] != "conflict" or record["record_id"] not in erased:
                continue
            for side in ("lost", "kept"):
                kept = {k: v for k, v in record[side].items() if k in PERSONAL and v}
                if kept:
                    problems.append(
                        f"(erasure) member {self.short('member', record['record_id'])} withdrew "
                        f"consent, but conflict {self.short(*key)} still holds {side} {kept}"
                    )
        return problems

    def check_own_order(self):
        """A phone's later write of a field never loses to its own earlier write: the person
        typed the later value last, whatever their clock says."""
        problems = []
        for (label, seq), entry in sorted(self.ledger.items()):
            result = entry.result
            if result is None or result["status"] != "conflict":
                continue
            fields = entry.mutation.get("fields", {})
            for clash in result["conflicts"]:
                name = clash["field"]
                if name not in TRACEABLE or fields.get(name) != clash["lost"]:
                    continue
                for (other_label, other_seq), earlier in self.ledger.items():
                    if other_label != label or other_seq >= seq:
                        continue
                    written = earlier.mutation.get("fields", {})
                    if name in written and written[name] == clash["kept"]:
                        problems.append(
                            f"(order) {label} #{seq} set {name}={clash['lost']!r} after its own "
                            f"#{other_seq} set {clash['kept']!r}, yet lost to it"
                        )
        return problems

    def report(self, problems) -> str:
        lines = [
            f"History of seed {self.plan.seed} ({len(self.plan.steps)} steps) failed:",
            *("  " + p for p in problems),
            "",
            "History:",
            *("  " + h for h in self.history),
            "",
            f"Replay it: .venv/bin/python -m {self.transport.replay_module} "
            f"{self.plan.seed} --shrink",
        ]
        return "\n".join(lines)
