"""The simulated world: phones, the steps of a plan, and the push and pull that carry
them to a server through a `Transport` (the one boundary between the simulation and
whatever serves it: HTTP or the engine in memory).

The harness sees every answer the server gives, even those a phone "loses", and keeps
them in a ledger; the checks (tests/sync/simulation/checks.py) then assert that all
phones converged and that every mutation is accounted for.
"""

import random
from typing import Protocol

from tests.sync.simulation.actions import EditSteps
from tests.sync.simulation.checks import Checks
from tests.sync.simulation.meetings import MeetingSteps
from tests.sync.simulation.phone import Entry, SimulatedPhone
from tests.sync.simulation.plan import (
    MOVES,
    PEOPLE,
    PUSH_MODES,
    Plan,
    Unexpected,
    new_uuid,
    offset_text,
)

# What the simulation records the server's state as (the checks read these entities).
CHECKED_ENTITIES = ("member", "grievance", "grievance_note", "meeting", "rsvp", "conflict")


class Transport(Protocol):
    """How the simulation reaches a server, and reads its state for the checks."""

    def geo(self) -> dict[str, int]:
        """Make the units and answer the ids of booths b1 to b3 and blocks k1, k2."""

    def add_user(self, name: str, role: str, unit_id: int) -> int: ...

    def add_device(self, user_id: int, device_id: str):
        """Register a device; answer what push and pull need to speak as it."""

    def push(self, credentials, body: dict) -> tuple[int, dict]: ...

    def pull(self, credentials, cursor: str, limit: int) -> tuple[int, dict]: ...

    def unit_of(self, user_id: int) -> int: ...

    def move_user(self, user_id: int, unit_id: int) -> None:
        """Give the user another scope unit (and a new scope version)."""

    def state(self) -> dict:
        """(entity, id) -> the stored record, unmasked, for CHECKED_ENTITIES."""

    def seen_by(self, user_id: int) -> dict:
        """(entity, id) -> the stored record as it goes out to the user (masked)."""

    def applied(self) -> dict:
        """(device id, seq) -> (status, error) as the server logged each mutation."""

    # The module whose `python -m ... SEED --shrink` replays a history on this transport.
    replay_module: str


class World:
    def __init__(self, transport: Transport, clock, plan: Plan):
        self.transport = transport
        self.clock = clock
        self.plan = plan
        self.history = []
        self.ledger = {}  # (phone label, seq) -> Entry
        self.labels = {}
        self.counter = 0
        self.phones = []
        self.setup_phones = []
        self.unexpected = None
        self.stats = {"rejected": 0, "conflict": 0, "merged": 0, "resets": 0, "duplicate": 0}

    # ---- output

    def log(self, text):
        self.history.append(f"{self.clock.label()}  {text}")

    def short(self, entity, record_id):
        key = record_id
        if key not in self.labels:
            prefix = {"grievance_note": "n", "conflict": "c", "meeting": "mt"}.get(
                entity, entity[0]
            )
            count = sum(1 for v in self.labels.values() if v.rstrip("0123456789") == prefix) + 1
            self.labels[key] = f"{prefix}{count}"
        return self.labels[key]

    def describe_fields(self, fields):
        parts = []
        for name, value in sorted(fields.items()):
            if name in ("booth_id", "unit_id"):
                value = self.unit_names.get(value, value)
            elif name == "grievance_id":
                value = self.short("grievance", value)
            elif name == "meeting_id":
                value = self.short("meeting", value)
            parts.append(f"{name}={value!r}" if not isinstance(value, str) else f"{name}={value}")
        return "{" + ", ".join(parts) + "}"

    def describe_result(self, result, entity=None):
        text = f"#{result['seq']} {result['status']}"
        if entity and result.get("id"):
            text = f"#{result['seq']} {self.short(entity, result['id'])} {result['status']}"
        if result.get("version") is not None:
            text += f" v{result['version']}"
        if result["conflicts"]:
            text += " " + ", ".join(
                f"[{c['field']}: kept {c['kept']!r} lost {c['lost']!r}]"
                for c in result["conflicts"]
            )
        if result["error"]:
            text += f" ({result['error']['code']})"
        return text

    def describe_change(self, change):
        name = self.short(change["entity"], change["id"])
        if change.get("removed"):
            return f"{name} removed"
        return f"{name} v{change['version']}" + (" deleted" if change["deleted"] else "")

    # ---- setting up

    def setup(self):
        self.units = self.transport.geo()
        units = self.units
        self.unit_names = {v: k for k, v in units.items()}
        self.booths_of = {units["k1"]: [units["b1"], units["b2"]], units["k2"]: [units["b3"]]}
        self.block_of = {
            booth: block for block, booths in self.booths_of.items() for booth in booths
        }
        self.people = {}
        for key, (role, unit_key) in PEOPLE.items():
            user_id = self.transport.add_user(key, role, units[unit_key])
            self.people[key] = {"id": user_id, "role": role, "unit": units[unit_key]}
        self.user_keys = {p["id"]: k for k, p in self.people.items()}
        seen = {}
        for index, (owner, offset) in enumerate(self.plan.phones):
            seen[owner] = seen.get(owner, 0) + 1
            label = owner + "'" * (seen[owner] - 1)  # vA, vA', vA'' (a third phone)
            self.phones.append(self.new_phone(label, owner, offset, f"phone:{index}"))
        self.log(
            "phones: "
            + ", ".join(
                f"{p.label} ({p.role} {self.unit_names[p.unit_id]}, clock {offset_text(p.offset)})"
                for p in self.phones
            )
        )
        self.prefill()
        self.prefill_meetings()
        for phone in self.phones:
            self.pull(phone, 500)

    def new_phone(self, label, owner, offset, salt):
        person = self.people[owner]
        device_id = new_uuid(random.Random(f"{self.plan.seed}:{salt}"))
        credentials = self.transport.add_device(person["id"], device_id)
        unit_id = self.transport.unit_of(person["id"])
        return SimulatedPhone(
            label, owner, person["id"], person["role"], unit_id, device_id, credentials, offset
        )

    def prefill(self):
        """Members already on the rosters, typed on an old phone of the booth's volunteer."""
        for booth_key, owner in (("b1", "vA"), ("b2", "vC")):
            count = self.plan.prefill.get(booth_key, 0)
            if not count:
                continue
            phone = self.new_phone(f"{owner}-old", owner, 0, f"old:{booth_key}")
            self.setup_phones.append(phone)
            rng = random.Random(f"{self.plan.seed}:prefill:{booth_key}")
            made = [
                self.enqueue(
                    phone,
                    "member",
                    new_uuid(rng),
                    self.member_fields(rng, phone, booth_key),
                    quiet=True,
                )
                for _ in range(count)
            ]
            self.push(phone, count, "delivered", quiet=True)
            names = ", ".join(self.short("member", m["id"]) for m in made)
            self.log(f"{phone.label} put {count} members on {booth_key}'s roster: {names}")

    # ---- running

    def run(self):
        self.setup()
        for number, step in enumerate(self.plan.steps, 1):
            rng = random.Random(step.choice)
            self.clock.advance(rng.randint(1, 120) * 1000)
            phone = self.phones[step.phone]
            try:
                getattr(self, "do_" + step.action)(phone, rng)
            except Unexpected as exc:
                self.unexpected = f"step {number} ({phone.label} {step.action}): {exc}"
                self.log(f"UNEXPECTED: {exc}")
                return
        self.log("--- everyone syncs until quiescent ---")
        try:
            self.quiesce()
        except Unexpected as exc:
            self.unexpected = f"final sync: {exc}"
            self.log(f"UNEXPECTED: {exc}")

    def quiesce(self, rounds=6):
        for _ in range(rounds):
            for phone in self.phones + self.setup_phones:
                while phone.outbox:
                    self.push(phone, 50, "delivered")
            brought = sum(self.pull(phone, 500) for phone in self.phones)
            if brought == 0 and not any(p.outbox for p in self.phones):
                return
        raise Unexpected(f"not quiescent after {rounds} rounds of push and pull")

    def enqueue(self, phone, entity, record_id, fields=None, op="upsert", quiet=False):
        before = phone.overlay().get((entity, record_id))
        mutation, folded = phone.enqueue(self.clock, entity, record_id, fields, op)
        key = (phone.label, mutation["seq"])
        if key not in self.ledger:
            self.ledger[key] = Entry(phone.label, phone.user_id, mutation, before)
        if quiet:
            return mutation
        what = "delete" if op == "delete" else self.describe_fields(fields)
        base = mutation["base_version"]
        self.log(
            f"{phone.label} {'edits again' if folded else 'writes'} {entity} "
            f"{self.short(entity, record_id)} {what} base "
            f"{'-' if base is None else 'v' + str(base)} -> #{mutation['seq']}"
            + (" (folded)" if folded else "")
        )
        return mutation

    # ---- sync steps

    def deliver(self, phone, body):
        self.clock.advance(40)
        status, answer = self.transport.push(phone.credentials, body)
        if status != 200:
            raise Unexpected(f"push answered {status}: {answer}")
        for result in answer["results"]:
            entry = self.ledger[(phone.label, result["seq"])]
            if not entry.deliveries:
                entry.arrived_ms = self.clock.ms
            entry.deliveries.append(result)
            self.stats[result["status"]] = self.stats.get(result["status"], 0) + 1
        return answer

    def push(self, phone, size, mode, quiet=False):
        batch = phone.outbox[:size]
        if not batch:
            self.log(f"{phone.label} push: outbox empty")
            return
        for m in batch:
            m["sent"] = True
        body = {
            "device_id": phone.device_id,
            "schema_version": 1,
            "client_time": phone.wall(self.clock),
            "mutations": [
                {k: v for k, v in m.items() if k not in ("sent", "acked")} for m in batch
            ],
        }
        seqs = f"#{batch[0]['seq']}..#{batch[-1]['seq']}"
        if mode == "request_lost":
            self.log(f"{phone.label} push {seqs}: REQUEST LOST (never reached the server)")
            return
        answer = self.deliver(phone, body)
        if mode == "duplicated":
            answer = self.deliver(phone, body)
        if not quiet:
            self.log(
                f"{phone.label} push {seqs}"
                + (" (delivered twice)" if mode == "duplicated" else "")
                + (" ANSWER LOST" if mode == "answer_lost" else "")
                + f": last_seq {answer['last_seq']}; "
                + "; ".join(
                    self.describe_result(r, m["entity"])
                    for r, m in zip(answer["results"], batch, strict=False)
                )
            )
        if mode != "answer_lost":
            phone.apply_push_answer(batch, answer)

    def pull(self, phone, limit):
        """Pull every page; answer how many changes came."""
        brought, resets, pages = 0, 0, 0
        while True:
            self.clock.advance(40)
            status, page = self.transport.pull(phone.credentials, phone.cursor, limit)
            if status != 200:
                raise Unexpected(f"pull answered {status}: {page}")
            pages += 1
            if pages > 2000:
                raise Unexpected("a pull never ends")
            if page["reset"]:
                resets += 1
                if resets > 3:
                    raise Unexpected("the server keeps resetting the pull")
                self.reset(phone)
                continue
            self.store_page(phone, page, limit)
            brought += len(page["changes"])
            if not page["has_more"]:
                return brought

    def reset(self, phone):
        """The app drops its copies, keeps its outbox, and learns its new scope."""
        self.stats["resets"] += 1
        phone.copies.clear()
        phone.cursor = ""
        phone.unit_id = self.transport.unit_of(phone.user_id)
        self.log(
            f"{phone.label} pull: RESET; copies dropped, outbox of "
            f"{len(phone.outbox)} kept; scope now {self.unit_names[phone.unit_id]}"
        )

    def store_page(self, phone, page, limit):
        for change in page["changes"]:
            phone.store_change(change)
            if not change.get("removed"):
                self.short(change["entity"], change["id"])
        phone.cursor = page["cursor"]
        cleared = phone.settle_acknowledged(page["last_seq"])
        phone.observe(page["server_hlc"])
        if page["changes"] or cleared:
            self.log(
                f"{phone.label} pull (limit {limit}): "
                + ", ".join(self.describe_change(c) for c in page["changes"])
                + f"; last_seq {page['last_seq']}"
                + (f", {cleared} outbox entries acknowledged" if cleared else "")
            )

    def do_push(self, phone, rng):
        names, weights = zip(*PUSH_MODES, strict=True)
        mode = rng.choices(names, weights)[0]
        size = rng.choice((1, 2, 3, 500))
        self.push(phone, size, mode)

    def do_pull(self, phone, rng):
        self.pull(phone, rng.choice((2, 7, 500, 500)))

    def do_scope_change(self, phone, rng):
        old = self.unit_names[self.transport.unit_of(phone.user_id)]
        self.transport.move_user(phone.user_id, self.units[MOVES[old]])
        self.log(
            f"SCOPE CHANGE: {phone.owner} moves from {old} to {MOVES[old]} (scope_version bumped)"
        )


class Simulation(EditSteps, MeetingSteps, Checks, World):
    """One history of a plan, run through a transport, then checked (`check`)."""
