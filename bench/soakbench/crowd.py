"""What the soak's people do: volunteers add and edit members and grievances every 20-60 s
in bursts and go offline for minutes with their outboxes filling; block presidents approve
and acknowledge; district and state leaders read lists online."""

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field

from soakbench.phone import DRAIN_BACKOFF_CAP, SoakPhone, SyncFailed
from syncbench.typist import NOTES, Typist

STARTING_MEMBERS = 12  # each booth's roster before the timed run (the cap is 20)


def letters(n: int) -> str:
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return a[n // 676 % 26] + a[n // 26 % 26] + a[n % 26]


@dataclass
class Plan:
    """The run's shape: when it ends and how the people behave."""

    end: float  # monotonic
    offline_share: float = 0.3  # volunteers who go offline for minutes at some point
    offline_minutes: tuple = (1.0, 4.0)
    burst_gap: tuple = (20.0, 60.0)
    epics: list = field(default_factory=list)  # EPICs typed so far (to retype one at times)


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Volunteer:
    def __init__(self, phone: SoakPhone, plan: Plan):
        self.phone, self.plan = phone, plan
        self.rng = phone.rng
        self.typist = Typist(phone.index, epic_prefix=letters(phone.index))

    def add_member(self):
        values = self.typist.member(self.phone.person.unit_id)
        if "epic" in values:
            if self.plan.epics and self.rng.random() < 0.03:
                values["epic"] = self.rng.choice(self.plan.epics)  # one already taken
            else:
                self.plan.epics.append(values["epic"])
        self.phone.enqueue("member", uid(self.rng), values)

    def edit_member(self):
        members = self.phone.live("member")
        if not members:
            return self.add_member()
        record_id, _copy = self.rng.choice(members)
        field_name = self.rng.choice(("notes", "phone", "skills", "age", "name"))
        self.phone.enqueue("member", record_id, self.typist.member_edit(field_name))

    def add_grievance(self):
        values = self.typist.grievance(self.phone.person.unit_id, int(time.time() * 1000))
        self.phone.enqueue("grievance", uid(self.rng), values)

    def touch_grievance(self):
        grievances = self.phone.live("grievance")
        if not grievances:
            return self.add_grievance()
        record_id, copy = self.rng.choice(grievances)
        mine = copy["record"].get("created_by") == self.phone.person.user_id
        if mine and copy["record"].get("status") == "new" and self.rng.random() < 0.5:
            text = self.rng.choice(NOTES) + " " + str(self.rng.randint(1, 999))
            self.phone.enqueue("grievance", record_id, {"against": text[:60]})
        else:
            text = self.rng.choice(NOTES)
            self.phone.enqueue(
                "grievance_note", uid(self.rng), {"grievance_id": record_id, "text": text}
            )

    def burst(self):
        for _ in range(self.rng.choice((1, 1, 2, 2, 3, 4, 6))):
            self.rng.choices(
                (self.add_member, self.edit_member, self.add_grievance, self.touch_grievance),
                (3, 4, 2, 2),
            )[0]()

    async def run(self):
        phone, rng, plan = self.phone, self.rng, self.plan
        if rng.random() < plan.offline_share:
            # Somewhere in the run this phone loses its signal for minutes.
            start = time.monotonic() + rng.uniform(0, max(1.0, plan.end - time.monotonic()) * 0.7)
            self.offline_at = start
        else:
            self.offline_at = None
        await asyncio.sleep(rng.uniform(0, plan.burst_gap[1]))
        while time.monotonic() < plan.end:
            now = time.monotonic()
            if self.offline_at is not None and now >= self.offline_at:
                phone.offline_until = now + 60 * rng.uniform(*plan.offline_minutes)
                self.offline_at = None
            self.burst()
            gap = rng.uniform(*plan.burst_gap)
            if not phone.offline():
                await phone.sync_until(min(plan.end, time.monotonic() + gap), asyncio.sleep)
            await sleep_until(min(plan.end, now + gap))


class President:
    """A block president: pulls, approves pending members (a few rejected with a reason),
    acknowledges new grievances."""

    def __init__(self, phone: SoakPhone, plan: Plan):
        self.phone, self.plan, self.rng = phone, plan, phone.rng

    def decide(self):
        pending = [
            (i, c) for i, c in self.phone.live("member") if c["record"]["status"] == "pending"
        ]
        for record_id, _copy in self.rng.sample(pending, min(len(pending), self.rng.randint(1, 6))):
            if self.rng.random() < 0.1:
                fields = {"status": "rejected", "status_reason": "उम्र का प्रमाण नहीं"}
            else:
                fields = {"status": "approved"}
            self.phone.enqueue("member", record_id, fields)
        new = [(i, c) for i, c in self.phone.live("grievance") if c["record"]["status"] == "new"]
        for record_id, _copy in self.rng.sample(new, min(len(new), self.rng.randint(0, 2))):
            self.phone.enqueue("grievance", record_id, {"status": "acknowledged"})

    async def run(self):
        await asyncio.sleep(self.rng.uniform(0, 60))
        while time.monotonic() < self.plan.end:
            now = time.monotonic()
            gap = self.rng.uniform(30, 90)
            if await self.phone.sync_until(min(self.plan.end, now + gap), asyncio.sleep):
                self.decide()
                await self.phone.sync_until(min(self.plan.end, now + gap), asyncio.sleep)
            await sleep_until(min(self.plan.end, now + gap))


class Leader:
    """A district president or the Connect Centre: reads the lists online."""

    def __init__(self, phone: SoakPhone, plan: Plan, blocks: list[tuple[int, int]]):
        """`blocks`: (block id, district id) of every block; a district president reads
        those of its district, the Connect Centre any."""
        self.phone, self.plan, self.rng = phone, plan, phone.rng
        person = phone.person
        mine = [b for b, d in blocks if person.role != "district_president" or d == person.unit_id]
        self.blocks = mine or [b for b, _ in blocks]

    async def run(self):
        await asyncio.sleep(self.rng.uniform(0, 30))
        net, token = self.phone.net, self.phone.person.token
        while time.monotonic() < self.plan.end:
            block = self.rng.choice(self.blocks)
            path = self.rng.choice(
                (
                    f"/api/members?block_id={block}&status=pending&per_page=50",
                    f"/api/grievances?block_id={block}&per_page=50",
                    f"/api/members?block_id={block}&page=2&per_page=50",
                )
            )
            with contextlib.suppress(SyncFailed):
                await net.read(token, path)
            await sleep_until(min(self.plan.end, time.monotonic() + self.rng.uniform(20, 60)))


async def sleep_until(moment: float):
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def drain(phones: list[SoakPhone], seconds: float) -> list[SoakPhone]:
    """Every phone back online syncs until its outbox is empty and a pull has answered;
    the phones that could not within `seconds` are returned."""
    deadline = time.monotonic() + seconds
    for phone in phones:
        phone.offline_until = 0.0
        phone.failures = 0

    async def one(phone):
        ok = await phone.sync_until(deadline, asyncio.sleep, cap=DRAIN_BACKOFF_CAP)
        return None if ok and not phone.outbox else phone

    stuck = await gather_limited([one(p) for p in phones], 100)
    return [p for p in stuck if p is not None]


async def gather_limited(coroutines, limit: int):
    gate = asyncio.Semaphore(limit)

    async def gated(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(gated(c) for c in coroutines))
