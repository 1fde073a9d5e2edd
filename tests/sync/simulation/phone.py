"""One installation of the app in the simulation: its server copies, outbox, clock,
cursor and needs-attention list, kept the way pwa/src/sync does."""

from dataclasses import dataclass, field

from tests.sync.simulation.plan import later_hlc, next_hlc

# ---------------------------------------------------------------- a phone


@dataclass
class Entry:
    """One mutation a phone made, and every answer the server gave to it (the ledger)."""

    phone: str
    user_id: int
    mutation: dict  # the outbox entry itself (folded edits change it until it is sent)
    # The record as the person saw it before this mutation (server copy and earlier outbox
    # entries), or None for a new one: a field sent with the value it already had there
    # is no change of the person's (the app sends only changed fields: validate.js
    # changedFields; folding can still bring a field back to where it was).
    before: dict | None = None
    deliveries: list = field(default_factory=list)
    # The server's clock when the first answer was made: an HLC more than a minute ahead
    # of it counts as that moment (rule 2).
    arrived_ms: int | None = None

    @property
    def result(self):
        return self.deliveries[0] if self.deliveries else None


class SimulatedPhone:
    """One installation of the app: its copies, outbox, clock, cursor and attention list."""

    def __init__(self, label, owner, user_id, role, unit_id, device_id, credentials, offset_ms):
        self.label = label
        self.owner = owner
        self.user_id = user_id
        self.role = role
        self.unit_id = unit_id  # the scope the phone believes it has (from login / last reset)
        self.device_id = device_id
        self.credentials = credentials
        self.offset = offset_ms
        self.copies = {}  # (entity, id) -> {"version", "deleted", "record"}
        self.outbox = []
        self.seq = 0
        self.hlc = None
        self.cursor = ""
        self.attention = {}  # seq -> mutation with the server's error

    def wall(self, clock):
        return clock.ms + self.offset

    # ---- what the app does with its stores

    def enqueue(self, clock, entity, record_id, fields=None, op="upsert"):
        """Record a change in the outbox (outbox.js enqueue); answer (mutation, folded)."""
        self.hlc = next_hlc(self.hlc, self.wall(clock), self.device_id)
        key = (entity, record_id)
        pending = [m for m in self.outbox if (m["entity"], m["id"]) == key]
        last = pending[-1] if pending else None
        if op == "upsert" and last and last["op"] == "upsert" and not last["sent"]:
            last["fields"] = {**last["fields"], **fields}
            last["hlc"] = self.hlc
            return last, True
        self.seq += 1
        held = self.copies.get(key)
        mutation = {
            "seq": self.seq,
            "entity": entity,
            "op": op,
            "id": record_id,
            "base_version": held["version"] if held else None,
            "hlc": self.hlc,
            "sent": False,
        }
        if op == "upsert":
            mutation["fields"] = dict(fields)
        self.outbox.append(mutation)
        return mutation, False

    def store_change(self, change):
        """Keep a server record unless a newer version is held (engine.js storeChange)."""
        key = (change["entity"], change["id"])
        if change.get("removed"):
            self.copies.pop(key, None)
            return
        held = self.copies.get(key)
        if held and held["version"] > change["version"]:
            return
        self.copies[key] = {
            "version": change["version"],
            "deleted": change["deleted"],
            "record": change["record"],
        }

    def clear_acknowledged(self, last_seq):
        self.outbox = [m for m in self.outbox if m["seq"] > last_seq]

    def settle_acknowledged(self, last_seq):
        """A pull's last_seq (engine.js settleAcknowledged): entries up to it stop waiting
        but go out once more, so the phone hears whether they were rejected. Answers how
        many it settled now."""
        settled = 0
        for m in self.outbox:
            if m["seq"] <= last_seq and not m.get("acked"):
                m["acked"] = True
                settled += 1
        return settled

    def pending(self):
        """Outbox entries still to take effect (not those a pull acknowledged)."""
        return [m for m in self.outbox if not m.get("acked")]

    def observe(self, server_hlc):
        self.hlc = later_hlc(self.hlc, server_hlc)

    def apply_push_answer(self, batch, answer):
        results = {r["seq"]: r for r in answer["results"]}
        for m in batch:
            result = results.get(m["seq"])
            if result is None:
                continue
            if result["status"] == "rejected":
                kept = {k: v for k, v in m.items() if k not in ("sent", "acked")}
                self.attention[m["seq"]] = {**kept, "error": result["error"]}
            if result["record"]:
                record = result["record"]
                self.store_change(
                    {
                        "entity": m["entity"],
                        "id": result["id"] or m["id"],
                        "version": result["version"],
                        "deleted": record.get("deleted", False),
                        "record": record,
                    }
                )
        # engine.js applyPushAnswer: entries after the batch that last_seq covers (an
        # earlier answer was lost) were not answered here: they only become acknowledged,
        # and go out once more so a rejection of them is heard.
        self.clear_acknowledged(min(answer["last_seq"], batch[-1]["seq"]))
        self.settle_acknowledged(answer["last_seq"])
        self.observe(answer["server_hlc"])

    # ---- what the person sees: server copies with the outbox laid on top, in order

    def overlay(self):
        view = {
            key: {**copy["record"], "deleted": copy["deleted"]} for key, copy in self.copies.items()
        }
        for m in self.pending():
            key = (m["entity"], m["id"])
            if m["op"] == "delete":
                if key in view:
                    view[key]["deleted"] = True
                continue
            if key not in view:
                view[key] = {"id": m["id"], "deleted": False, "created_by": self.user_id}
                if m["entity"] == "member":
                    view[key]["status"] = "pending"
                if m["entity"] == "grievance":
                    view[key]["status"] = "new"
                if m["entity"] == "meeting":
                    view[key]["status"] = "scheduled"
            view[key].update(m["fields"])
        return view

    def live(self, entity):
        return sorted(
            (key[1], record)
            for key, record in self.overlay().items()
            if key[0] == entity and not record.get("deleted")
        )

    def view(self):
        return {key: (c["version"], c["deleted"], c["record"]) for key, c in self.copies.items()}
