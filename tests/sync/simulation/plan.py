"""The histories of the convergence simulation: what a step can be, the random plan of a
seed, the server's simulated clock, the app's hybrid logical clock, and shrinking a
failing plan. Nothing here knows how the phones reach a server (tests/sync/simulation/)."""

import math
import random
import re
import uuid
from dataclasses import dataclass, replace

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
    "title",
    "agenda",
    "place",
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
MEETING_EDITABLE = ("title", "agenda", "starts_at", "place", "unit_id", "audience_roles", "status")
# Who a meeting is for: the roles of its audience (in and under its unit).
AUDIENCES = (("volunteer",), ("block_president",), ("volunteer", "block_president"))
RSVP_ANSWERS = ("yes", "no", "maybe")

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
    ("rebooth_grievance", 4),
    ("add_note", 5),
    ("resolve_conflict", 4),
    ("create_meeting", 3),
    ("reschedule_meeting", 3),
    ("cancel_meeting", 2),
    ("rsvp", 10),
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
# Steps mostly taken by the leader's phone (P's, the third), else by anyone: a block
# president's complaint is the one that can move to another booth of the block.
LEADER_STEPS = ("create_meeting", "reschedule_meeting", "cancel_meeting", "rebooth_grievance")
LEADER_PHONE = 2
# Where a scope change moves each person, and back.
MOVES = {"b1": "b2", "b2": "b1", "k1": "k2", "k2": "k1"}


SHAPE = re.compile(r"\b(?:mt|[mgncr])\d+\b|#\d+|\bv\d+|'[^']*'|\[[^]]*\]|\{[^}]*\}|\d+")


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
    # booth key -> members already on its roster; "meetings" -> meetings already called
    prefill: dict
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
    """The random history of `seed`: 3 to 5 phones, members on the rosters and meetings
    already called, 16 to 32 steps, maybe a scope change."""
    rng = random.Random(seed)
    count = rng.randint(3, 5)
    phones = [(owner, rng.choice(CLOCK_OFFSETS)) for owner in PHONE_OWNERS[:count]]
    prefill = {"b1": rng.choice((0, 0, 3, 17, 19)), "b2": rng.choice((0, 0, 0, 2, 19))}
    prefill["meetings"] = rng.choice((0, 1, 1, 2))
    names, weights = zip(*ACTIONS, strict=True)
    steps = []
    for _ in range(rng.randint(16, 32)):
        phone, action = rng.randrange(count), rng.choices(names, weights)[0]
        if action in LEADER_STEPS and rng.random() < 0.75:
            phone = LEADER_PHONE
        steps.append(Step(phone, action, rng.getrandbits(48)))
    if rng.random() < 0.6:
        steps.insert(
            rng.randint(3, len(steps)),
            Step(rng.randrange(count), "scope_change", rng.getrandbits(48)),
        )
    return Plan(seed, phones, prefill, steps)


def case_id(case: dict) -> str:
    """A kept case's test id: `kept-SEED` for a shrunk history, `whole-SEED` for a failing
    seed's whole history frozen as make_plan drew it then (make_plan changed since)."""
    return f"{'whole' if case.get('whole') else 'kept'}-{case['seed']}"


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
