"""A simulated world of phones that edit shared records offline and sync over HTTP (Jepsen style).

Each phone keeps its state the way the app does (pwa/src/sync): server copies from pulls
and push answers, an outbox numbered from 1 without gaps (an unsent upsert of the same
record is folded into its entry), a hybrid logical clock never below the last
`server_hlc` seen, base_version taken from the server copy, and a "needs attention" list
of rejected mutations. A history is a `Plan`: the phones, the roster already on the
booths, and steps; each step draws its own choices from its own seed, so a step can be
removed (to shrink a failing history) without changing what the others do.

The server's clock is simulated (the edge of the world: `server.records.time`), so a
seed replays the same history on every run. The harness sees every answer the server
gives, even those a phone "loses", and keeps them in a ledger; `check` then asserts
that all phones converged and that every mutation is accounted for.

Run one seed (and shrink it) outside pytest, on a throwaway SQLite database:
    .venv/bin/python -m tests.server.syncing.simulation 17 --shrink
    .venv/bin/python -m tests.server.syncing.simulation '{"seed": 17, "steps": ...}'
"""

import argparse
import json
import math
import random
import re
import uuid
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from server.accounts.models import User
from server.extensions import db
from server.grievances.models import Grievance, GrievanceNote
from server.roster.models import Member
from server.serialize import to_record
from server.syncing.models import AppliedMutation, Conflict

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# The simulated server clock starts here (2026-02-25 06:13 UTC) on every run.
START_MS = 1_772_000_000_000
SQUAD_SIZE = 20
# Phone clocks: right, days behind, days ahead, and ahead beyond the one-minute rule.
CLOCK_OFFSETS = (0, 0, 0, -3 * DAY_MS, -90 * MINUTE_MS, 30_000, 5 * MINUTE_MS, 2 * DAY_MS)
# A small pool, so that two phones often type the same voter ID.
EPICS = tuple(f"JHR{n:07d}" for n in range(1, 7))
GENDERS = ("male", "female", "other")
# Personal data that must go when a member withdraws consent (the engine erases these).
PERSONAL = ("phone", "epic", "name", "notes")
# Fields whose values are unique within a history, so a value names the write that made it.
TRACEABLE = (
    "name",
    "notes",
    "phone",
    "status_reason",
    "description",
    "against",
    "complainant_name",
)
SKILLS = ("speaker", "social_media", "writing", "organiser", "booth_management", "other")
CATEGORIES = ("road", "water", "electricity", "ration", "pension", "health", "party_conduct")
# Fields a phone may send when it edits (sync/fields.py); conflicts' lost values are
# applied again only through these.
MEMBER_EDITABLE = ("name", "age", "gender", "phone", "epic", "skills", "notes")
GRIEVANCE_EDITABLE = ("description", "complainant_name", "against")
HANDLER_MOVES = {
    "new": "acknowledged",
    "acknowledged": "in_progress",
    "in_progress": "resolved",
    "reopened": "in_progress",
    "resolved": "closed",
}
AUTHOR_MOVES = {
    "new": "withdrawn",
    "acknowledged": "withdrawn",
    "in_progress": "withdrawn",
    "resolved": "reopened",
}
GRIEVANCE_STATUSES = ("new", "acknowledged", "in_progress", "resolved", "reopened", "closed")

# What a step can be, and how often: (name, weight).
ACTIONS = (
    ("create_member", 14),
    ("edit_member", 16),
    ("delete_member", 4),
    ("review_member", 10),
    ("move_member", 3),
    ("withdraw_consent", 1),
    ("create_grievance", 5),
    ("edit_grievance", 3),
    ("move_grievance", 6),
    ("add_note", 5),
    ("resolve_conflict", 4),
    ("push", 18),
    ("pull", 13),
)
PUSH_MODES = (("delivered", 55), ("request_lost", 15), ("answer_lost", 15), ("duplicated", 15))
# The people: key -> (role, unit key). vA and vB share booth b1; P is their block president.
PEOPLE = {
    "vA": ("volunteer", "b1"),
    "vB": ("volunteer", "b1"),
    "P": ("block_president", "k1"),
    "vC": ("volunteer", "b2"),
}
# Phones in the order a history takes them (3 to 5): vA has a second phone.
PHONE_OWNERS = ("vA", "vB", "P", "vC", "vA")
# Where a scope change moves each person, and back.
MOVES = {"b1": "b2", "b2": "b1", "k1": "k2", "k2": "k1"}


SHAPE = re.compile(r"\b[mgnc]\d+\b|#\d+|\bv\d+|'[^']*'|\[[^]]*\]|\{[^}]*\}|\d+")


class Unexpected(Exception):
    """The server answered something the protocol does not allow (a 4xx/5xx, a bad page)."""


# ---------------------------------------------------------------- plans


@dataclass(frozen=True)
class Step:
    phone: int
    action: str
    choice: int


@dataclass
class Plan:
    seed: int
    phones: list  # [(owner key, clock offset ms)]
    prefill: dict  # booth key -> members already on its roster
    steps: list

    def to_json(self):
        return {
            "seed": self.seed,
            "phones": [list(p) for p in self.phones],
            "prefill": self.prefill,
            "steps": [[s.phone, s.action, s.choice] for s in self.steps],
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            data["seed"],
            [tuple(p) for p in data["phones"]],
            dict(data["prefill"]),
            [Step(*s) for s in data["steps"]],
        )


def make_plan(seed: int) -> Plan:
    """The random history of `seed`: 3 to 5 phones, 16 to 32 steps, maybe a scope change."""
    rng = random.Random(seed)
    count = rng.randint(3, 5)
    phones = [(owner, rng.choice(CLOCK_OFFSETS)) for owner in PHONE_OWNERS[:count]]
    prefill = {"b1": rng.choice((0, 0, 3, 17, 19)), "b2": rng.choice((0, 0, 0, 2, 19))}
    names, weights = zip(*ACTIONS, strict=True)
    steps = [
        Step(rng.randrange(count), rng.choices(names, weights)[0], rng.getrandbits(48))
        for _ in range(rng.randint(16, 32))
    ]
    if rng.random() < 0.6:
        steps.insert(
            rng.randint(3, len(steps)),
            Step(rng.randrange(count), "scope_change", rng.getrandbits(48)),
        )
    return Plan(seed, phones, prefill, steps)


def new_uuid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------- the clock


class SimClock:
    """The server's clock (stands in for the `time` module of server.records)."""

    def __init__(self, start_ms=START_MS):
        self.start = start_ms
        self.ms = start_ms

    def time(self):
        return self.ms / 1000

    def advance(self, ms):
        self.ms += ms

    def label(self):
        seconds = (self.ms - self.start) // 1000
        return f"t+{seconds // 60:3d}m{seconds % 60:02d}s"


# ---------------------------------------------------------------- the app's HLC (pwa/src/sync/hlc.js)


def format_hlc(ms, counter, node):
    return f"{ms:013d}-{counter:04x}-{node}"


def parse_hlc(hlc):
    if not hlc:
        return 0, 0
    ms, counter = hlc.split("-")[:2]
    return int(ms), int(counter, 16)


def next_hlc(last, now_ms, node):
    ms, counter = parse_hlc(last)
    if now_ms > ms:
        return format_hlc(now_ms, 0, node)
    return format_hlc(ms, counter + 1, node)


def later_hlc(mine, seen):
    if not seen:
        return mine
    if not mine:
        return seen
    return seen if parse_hlc(seen) > parse_hlc(mine) else mine


# ---------------------------------------------------------------- a phone


@dataclass
class Entry:
    """One mutation a phone made, and every answer the server gave to it (the ledger)."""

    phone: str
    user_id: int
    mutation: dict  # the outbox entry itself (folded edits change it until it is sent)
    deliveries: list = field(default_factory=list)

    @property
    def result(self):
        return self.deliveries[0] if self.deliveries else None


class SimulatedPhone:
    """One installation of the app: its copies, outbox, clock, cursor and attention list."""

    def __init__(self, label, owner, user_id, role, unit_id, device_id, headers, offset_ms):
        self.label = label
        self.owner = owner
        self.user_id = user_id
        self.role = role
        self.unit_id = unit_id  # the scope the phone believes it has (from login / last reset)
        self.device_id = device_id
        self.headers = headers
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
        self.clear_acknowledged(answer["last_seq"])
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


# ---------------------------------------------------------------- the world


class Simulation:
    def __init__(self, client, make, clock, plan: Plan):
        self.client = client
        self.make = make
        self.clock = clock
        self.plan = plan
        self.history = []
        self.ledger = {}  # (phone label, seq) -> Entry
        self.labels = {}
        self.counter = 0
        self.phones = []
        self.unexpected = None
        self.stats = {"rejected": 0, "conflict": 0, "merged": 0, "resets": 0, "duplicate": 0}

    # ---- output

    def log(self, text):
        self.history.append(f"{self.clock.label()}  {text}")

    def short(self, entity, record_id):
        key = record_id
        if key not in self.labels:
            prefix = {"grievance_note": "n", "conflict": "c"}.get(entity, entity[0])
            count = sum(1 for v in self.labels.values() if v[0] == prefix) + 1
            self.labels[key] = f"{prefix}{count}"
        return self.labels[key]

    def describe_fields(self, fields):
        parts = []
        for name, value in sorted(fields.items()):
            if name in ("booth_id", "unit_id"):
                value = self.unit_names.get(value, value)
            elif name == "grievance_id":
                value = self.short("grievance", value)
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

    # ---- setting up

    def setup(self):
        make = self.make
        g = make.geo()
        self.units = {"b1": g.b1.id, "b2": g.b2.id, "b3": g.b3.id, "k1": g.k1.id, "k2": g.k2.id}
        self.unit_names = {v: k for k, v in self.units.items()}
        self.booths_of = {g.k1.id: [g.b1.id, g.b2.id], g.k2.id: [g.b3.id]}
        self.people = {}
        for key, (role, unit_key) in PEOPLE.items():
            unit = {"b1": g.b1, "b2": g.b2, "k1": g.k1}[unit_key]
            user = make.user(role, unit, name=key)
            self.people[key] = {"id": user.id, "role": role, "unit": unit.id}
        self.user_keys = {p["id"]: k for k, p in self.people.items()}
        seen = {}
        for index, (owner, offset) in enumerate(self.plan.phones):
            seen[owner] = seen.get(owner, 0) + 1
            label = owner if seen[owner] == 1 else f"{owner}'"
            self.phones.append(self.new_phone(label, owner, offset, f"phone:{index}"))
        self.log(
            "phones: "
            + ", ".join(
                f"{p.label} ({p.role} {self.unit_names[p.unit_id]}, clock {offset_text(p.offset)})"
                for p in self.phones
            )
        )
        self.prefill()
        for phone in self.phones:
            self.pull(phone, 500)
        db.session.remove()

    def new_phone(self, label, owner, offset, salt):
        person = self.people[owner]
        user = db.session.get(User, person["id"])
        device_id = new_uuid(random.Random(f"{self.plan.seed}:{salt}"))
        device = self.make.device(user, device_id)
        headers = self.make.headers(user, device)
        return SimulatedPhone(
            label, owner, person["id"], person["role"], user.unit_id, device_id, headers, offset
        )

    def prefill(self):
        """Members already on the rosters, typed on an old phone of the booth's volunteer."""
        self.setup_phones = []
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
        mutation, folded = phone.enqueue(self.clock, entity, record_id, fields, op)
        key = (phone.label, mutation["seq"])
        if key not in self.ledger:
            self.ledger[key] = Entry(phone.label, phone.user_id, mutation)
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

    def request(self, method, url, **kw):
        # Every request gets a fresh session, as each request does in production.
        db.session.remove()
        self.clock.advance(40)
        response = getattr(self.client, method)(url, **kw)
        db.session.remove()
        return response

    def deliver(self, phone, body):
        response = self.request("post", "/api/sync/push", json=body, headers=phone.headers)
        if response.status_code != 200:
            raise Unexpected(f"push answered {response.status_code}: {response.get_json()}")
        answer = response.get_json()
        for result in answer["results"]:
            entry = self.ledger[(phone.label, result["seq"])]
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
            "mutations": [{k: v for k, v in m.items() if k != "sent"} for m in batch],
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
        brought, resets, pages = 0, 0, 0
        while True:
            response = self.request(
                "get",
                "/api/sync/pull",
                query_string={"cursor": phone.cursor, "limit": limit},
                headers=phone.headers,
            )
            if response.status_code != 200:
                raise Unexpected(f"pull answered {response.status_code}: {response.get_json()}")
            page = response.get_json()
            pages += 1
            if pages > 2000:
                raise Unexpected("a pull never ends")
            if page["reset"]:
                resets += 1
                self.stats["resets"] += 1
                if resets > 3:
                    raise Unexpected("the server keeps resetting the pull")
                # The app drops its copies, keeps its outbox, and learns its new scope.
                phone.copies.clear()
                phone.cursor = ""
                phone.unit_id = db.session.get(User, phone.user_id).unit_id
                db.session.remove()
                self.log(
                    f"{phone.label} pull: RESET; copies dropped, outbox of "
                    f"{len(phone.outbox)} kept; scope now {self.unit_names[phone.unit_id]}"
                )
                continue
            for change in page["changes"]:
                phone.store_change(change)
                if not change.get("removed"):
                    self.short(change["entity"], change["id"])
            phone.cursor = page["cursor"]
            cleared = phone.settle_acknowledged(page["last_seq"])
            phone.observe(page["server_hlc"])
            brought += len(page["changes"])
            if page["changes"] or cleared:
                self.log(
                    f"{phone.label} pull (limit {limit}): "
                    + ", ".join(self.describe_change(c) for c in page["changes"])
                    + f"; last_seq {page['last_seq']}"
                    + (f", {cleared} outbox entries acknowledged" if cleared else "")
                )
            if not page["has_more"]:
                return brought

    def describe_change(self, change):
        name = self.short(change["entity"], change["id"])
        if change.get("removed"):
            return f"{name} removed"
        return f"{name} v{change['version']}" + (" deleted" if change["deleted"] else "")

    def do_push(self, phone, rng):
        names, weights = zip(*PUSH_MODES, strict=True)
        mode = rng.choices(names, weights)[0]
        size = rng.choice((1, 2, 3, 500))
        self.push(phone, size, mode)

    def do_pull(self, phone, rng):
        self.pull(phone, rng.choice((2, 7, 500, 500)))

    def do_scope_change(self, phone, rng):
        user = db.session.get(User, phone.user_id)
        old = self.unit_names[user.unit_id]
        user.unit_id = self.units[MOVES[old]]
        user.scope_version += 1
        db.session.commit()
        db.session.remove()
        self.log(
            f"SCOPE CHANGE: {phone.owner} moves from {old} to {MOVES[old]} (scope_version bumped)"
        )

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
            editable = MEMBER_EDITABLE if entity == "member" else GRIEVANCE_EDITABLE
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

    # ---- checking

    def check(self) -> list[str]:
        """Every violation of convergence, accounting and roster rules, as readable lines."""
        if self.unexpected:
            return [f"(protocol) {self.unexpected}"]
        problems = []
        for phone in self.phones + self.setup_phones:
            if phone.outbox:
                problems.append(f"(quiescence) {phone.label} still has {len(phone.outbox)} to send")
        state = self.server_state()
        fresh = {key: self.fresh_view(person["id"]) for key, person in self.people.items()}
        problems += self.check_views(fresh)
        problems += self.check_pull_against_database(fresh)
        problems += self.check_ledger(state, fresh)
        problems += self.check_rosters()
        problems += self.check_erasure(state)
        problems += self.check_own_order()
        db.session.remove()
        return problems

    def server_state(self):
        state = {}
        for entity, model in (
            ("member", Member),
            ("grievance", Grievance),
            ("grievance_note", GrievanceNote),
            ("conflict", Conflict),
        ):
            for obj in db.session.execute(select(model)).scalars():
                state[(entity, obj.id)] = to_record(entity, obj)
        self.applied = {
            (row.device_id, row.seq): (row.status, row.error)
            for row in db.session.execute(select(AppliedMutation)).scalars()
        }
        return state

    def fresh_view(self, user_id):
        user = db.session.get(User, user_id)
        probe = SimulatedPhone(
            "fresh " + self.user_keys[user_id],
            self.user_keys[user_id],
            user_id,
            user.role,
            user.unit_id,
            None,
            None,
            0,
        )
        probe.device_id = new_uuid(random.Random(f"{self.plan.seed}:fresh:{user_id}"))
        device = self.make.device(user, probe.device_id)
        probe.headers = self.make.headers(user, device)
        db.session.remove()
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

    def visible(self, person, entity, obj):
        """Is `obj` in the person's scope (rule 10)? Complaints about office-bearers are
        the booth's and the Connect Centre's; a grievance's reporter follows it anywhere."""
        unit_id, role = person["unit"], person["role"]
        column = "booth_id" if role == "volunteer" else "block_id"
        if entity == "conflict":
            # Exactly as visible as the record it is about, in its present state.
            about = db.session.get(
                Grievance if obj.entity == "grievance" else Member, obj.record_id
            )
            return about is not None and self.visible(person, obj.entity, about)
        if entity in ("grievance", "grievance_note"):
            grievance = (
                obj if entity == "grievance" else db.session.get(Grievance, obj.grievance_id)
            )
            if grievance.created_by == person["id"]:
                return True  # whoever reported it follows it, from anywhere
            if role != "volunteer" and grievance.category == "party_conduct":
                return False
        return getattr(obj, column) == unit_id

    def check_pull_against_database(self, fresh):
        """A fresh pull brings every record of the scope, as the database holds it."""
        problems = []
        for key, person in self.people.items():
            user = db.session.get(User, person["id"])
            person = {**person, "unit": user.unit_id}
            expected = {}
            for entity, model in (
                ("member", Member),
                ("grievance", Grievance),
                ("grievance_note", GrievanceNote),
                ("conflict", Conflict),
            ):
                for obj in db.session.execute(select(model)).scalars():
                    if self.visible(person, entity, obj):
                        expected[(entity, obj.id)] = to_record(entity, obj, user)
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
        key = (m["entity"], m["id"])
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
            if any(name in c["lost"] and c["lost"][name] == value for c in seen_conflicts):
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

    def check_rosters(self):
        """(c) at most 20 pending or approved per booth, waitlist promoted when room frees,
        one live member per EPIC."""
        problems = []
        live = Member.deleted.is_(False)
        counts = {}
        for booth_id, status, count in db.session.execute(
            select(Member.booth_id, Member.status, func.count())
            .where(live)
            .group_by(Member.booth_id, Member.status)
        ):
            counts.setdefault(booth_id, {})[status] = count
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
        for epic, count in db.session.execute(
            select(Member.epic, func.count())
            .where(live, Member.epic.isnot(None))
            .group_by(Member.epic)
            .having(func.count() > 1)
        ):
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
            "Replay it: .venv/bin/python -m tests.server.syncing.simulation "
            f"{self.plan.seed} --shrink",
        ]
        return "\n".join(lines)


def offset_text(ms):
    if ms == 0:
        return "right"
    sign = "+" if ms > 0 else "-"
    ms = abs(ms)
    if ms >= DAY_MS:
        return f"{sign}{ms // DAY_MS}d"
    if ms >= MINUTE_MS:
        return f"{sign}{ms // MINUTE_MS}min"
    return f"{sign}{ms // 1000}s"


def shapes(problems):
    """Violations with their names and values blanked, so a shrunk history that fails the
    same way is recognised although its records are numbered differently."""
    return {SHAPE.sub("_", p) for p in problems}


def shrink(plan: Plan, still_fails) -> Plan:
    """Delta-debug the steps of a failing plan to a smaller one that still fails."""
    steps = list(plan.steps)
    parts = 2
    while len(steps) >= 2:
        size = math.ceil(len(steps) / parts)
        for start in range(0, len(steps), size):
            candidate = steps[:start] + steps[start + size :]
            if still_fails(replace(plan, steps=candidate)):
                steps = candidate
                parts = max(parts - 1, 2)
                break
        else:
            if parts >= len(steps):
                break
            parts = min(len(steps), parts * 2)
    smaller = replace(plan, steps=steps)
    for booth in sorted(plan.prefill):
        for count in (0, 1, 2, 5, 10, 15, 17, 18, 19):
            if count >= smaller.prefill.get(booth, 0):
                break
            candidate = replace(smaller, prefill={**smaller.prefill, booth: count})
            if still_fails(candidate):
                smaller = candidate
                break
    return smaller


# ---------------------------------------------------------------- running one seed by hand


def main():  # pragma: no cover - a developer's tool
    import tempfile

    from flask_migrate import upgrade
    from sqlalchemy import text

    import server.records
    from server import create_app
    from tests.factories import Factories

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", help="a seed, or a plan as JSON (a kept case)")
    parser.add_argument("--shrink", action="store_true", help="shrink the failing history")
    parser.add_argument("--keep", help="a regex the shrunk history's violations must match")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/sim.db",
            "SECRET_KEY": "simulation-secret-key-that-is-long-enough",
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        upgrade()

        def attempt(plan):
            db.session.remove()
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(text(f"DELETE FROM {table.name}"))
            db.session.commit()
            clock = SimClock()
            server.records.time = clock
            sim = Simulation(app.test_client(), Factories(app), clock, plan)
            sim.run()
            return sim, sim.check()

        if args.seed.lstrip().startswith("{"):
            plan = Plan.from_json(json.loads(args.seed))
        else:
            plan = make_plan(int(args.seed))
        sim, problems = attempt(plan)
        print(sim.report(problems) if problems else "\n".join(sim.history))
        if problems and args.shrink:
            if args.keep:
                wanted = re.compile(args.keep)

                def still_fails(p):
                    return any(wanted.search(v) for v in attempt(p)[1])
            else:
                first = shapes(problems[:1])

                def still_fails(p):
                    return first <= shapes(attempt(p)[1])

            small = shrink(plan, still_fails)
            sim, problems = attempt(small)
            print("\n\nSHRUNK:\n" + sim.report(problems))
            print("\nFor convergence_seeds.json:\n" + json.dumps(small.to_json()))


if __name__ == "__main__":  # pragma: no cover
    main()
