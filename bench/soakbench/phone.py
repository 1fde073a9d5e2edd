"""One simulated phone of the soak: an outbox kept exactly as docs/protocol.md says (seqs
from 1 without gaps, every mutation re-sent with the same seq until a push answer names
it, `Retry-After` obeyed, a lost answer treated as "nothing may be assumed"), server
copies kept from pulls and push answers, and a ledger of every answer it heard."""

import random
import time
from dataclasses import dataclass, field

from sync.hlc import format_hlc, parse

BATCH = 100  # the app pushes at most this many outbox entries a request
BACKOFF_CAP = 30.0
DRAIN_BACKOFF_CAP = 5.0
ACCEPTED = ("applied", "merged", "conflict")


@dataclass
class Entry:
    """A mutation the phone made and every answer the server gave for it."""

    mutation: dict
    answers: list = field(default_factory=list)

    @property
    def first(self):
        return self.answers[0] if self.answers else None


class SyncFailed(Exception):
    """A push or pull that got no usable answer; `kind` is how it failed."""

    def __init__(self, kind: str, retry_after: float | None = None):
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


class SoakPhone:
    """A phone of one person: `net` carries its requests (soakbench.net.Net)."""

    def __init__(self, index: int, person, net, rng: random.Random):
        self.index = index
        self.person = person
        self.net = net
        self.rng = rng
        self.seq = 0
        self.clock = (0, 0)  # (ms, counter) of the last HLC made or seen
        self.outbox: list[dict] = []
        self.copies: dict[tuple, dict] = {}  # (entity, id) -> {"version", "deleted", "record"}
        self.cursor = ""
        self.ledger: dict[int, Entry] = {}
        self.failures = 0  # failed syncs in a row (for the backoff)
        self.not_before = 0.0  # monotonic time before which nothing is sent (Retry-After)
        self.offline_until = 0.0
        self.resets = 0
        self.finished = False  # its final sync after the run went through

    # ---- making changes (outbox.js enqueue, without folding: each edit is its own entry)

    def hlc(self) -> str:
        now = int(time.time() * 1000)
        ms, counter = self.clock
        self.clock = (now, 0) if now > ms else (ms, counter + 1)
        return format_hlc(self.clock[0], self.clock[1] % 0xFFFF, self.person.device_id)

    def observe(self, server_hlc: str | None):
        if server_hlc:
            ms, counter, _node = parse(server_hlc)
            self.clock = max(self.clock, (ms, counter))

    def enqueue(self, entity, record_id, fields=None, op="upsert") -> dict:
        held = self.copies.get((entity, record_id))
        self.seq += 1
        mutation = {
            "seq": self.seq,
            "entity": entity,
            "op": op,
            "id": record_id,
            "base_version": held["version"] if held else None,
            "hlc": self.hlc(),
        }
        if op == "upsert":
            mutation["fields"] = fields
        self.outbox.append(mutation)
        self.ledger[self.seq] = Entry(mutation)
        return mutation

    def live(self, entity):
        return [
            (key[1], copy)
            for key, copy in self.copies.items()
            if key[0] == entity and not copy["deleted"]
        ]

    # ---- syncing

    def offline(self) -> bool:
        return time.monotonic() < self.offline_until

    def store(self, change):
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

    async def push_once(self) -> bool:
        """Send the first batch of the outbox; True when it was answered."""
        batch = self.outbox[:BATCH]
        answer = await self.net.push(self, batch)
        results = {r["seq"]: r for r in answer["results"]}
        for m in batch:
            result = results.get(m["seq"])
            if result is None:
                continue
            self.ledger[m["seq"]].answers.append(
                {"status": result["status"], "error": result.get("error"), "at": time.time()}
            )
            if result.get("record"):
                self.store(
                    {
                        "entity": m["entity"],
                        "id": result.get("id") or m["id"],
                        "version": result["version"],
                        "deleted": result["record"].get("deleted", False),
                        "record": result["record"],
                    }
                )
        answered = set(results)
        self.outbox = [m for m in self.outbox if m["seq"] not in answered]
        self.observe(answer.get("server_hlc"))
        return True

    async def pull_all(self):
        """Every page from the cursor; `reset` drops the copies and starts again."""
        for _ in range(200):
            answer = await self.net.pull(self, self.cursor)
            self.observe(answer.get("server_hlc"))
            if answer["reset"]:
                self.resets += 1
                self.copies, self.cursor = {}, ""
                continue
            for change in answer["changes"]:
                self.store(change)
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                return
        raise SyncFailed("pull_never_ends")

    async def sync(self):
        """Push the whole outbox, then pull; raises SyncFailed on the first failure."""
        while self.outbox:
            await self.push_once()
        await self.pull_all()

    def backoff(self, failure: SyncFailed, cap=BACKOFF_CAP) -> float:
        """Seconds to wait after a failed sync (exponential, capped, jittered; a
        Retry-After is obeyed up to an hour and never counted as a failing batch)."""
        if failure.retry_after is not None:
            return min(failure.retry_after, 3600.0) + self.rng.uniform(0, 1)
        self.failures += 1
        return self.rng.uniform(0.5, 1.0) * min(cap, 2 ** min(self.failures, 10) * 0.5)

    async def sync_until(self, deadline: float, sleep, cap=BACKOFF_CAP) -> bool:
        """Sync, retrying after each failure, until it succeeds or `deadline` (monotonic)."""
        while time.monotonic() < deadline:
            if self.offline():
                return False
            wait = self.not_before - time.monotonic()
            if wait > 0:
                await sleep(min(wait, max(0.0, deadline - time.monotonic())))
                continue
            try:
                await self.sync()
            except SyncFailed as failure:
                delay = self.backoff(failure, cap)
                self.not_before = time.monotonic() + delay
                continue
            self.failures = 0
            return True
        return False
