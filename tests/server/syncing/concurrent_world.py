"""Convergence histories where phones push at the same moment (issue 15).

The world, steps and checks are the convergence simulation's (tests/sync/simulation/);
this adds a `burst` step: 2 to 8 phones sync at once, each from its own thread, each
request on its own database connection, a barrier making the requests start together.
A phone in a burst pushes (delivered, request lost, answer lost, delivered twice), races
a retry of its own batch against the original (two threads, the same mutations), pulls,
or is moved to another unit while the others push. A `rush` step is a registration drive
at the booth near its cap: every phone that reaches it adds a member (often with an
EPIC another phone types too) and all push at once.

The harness's bookkeeping (the phones, the ledger, the log) runs under one lock; only
the requests themselves run outside it, so they overlap on the server while the world
stays consistent. At the end every phone syncs to quiescence and the convergence checks
(tests/sync/simulation/checks.py) judge the history.

Concurrency makes a seed's history depend on timing: a failing seed replays the same
plan, not necessarily the same interleaving (run it a few times, or keep its plan).
"""

import random
import threading
import time
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field

from tests.sync.simulation.plan import (
    ACTIONS,
    CLOCK_OFFSETS,
    EPICS,
    PUSH_MODES,
    Plan,
    Step,
    Unexpected,
    new_uuid,
)
from tests.sync.simulation.world import Simulation

# Up to 8 phones: two volunteers of b1 (one booth near its cap), their block president
# who approves and rejects, a volunteer of b2, and second phones of the same people.
OWNERS = ("vA", "vB", "P", "vC", "vB", "vA", "P", "vC")
WEIGHTS = {
    **dict(ACTIONS),
    "create_member": 18,
    "push": 5,
    "pull": 4,
    "review_member": 14,
    "burst": 16,
    "rush": 4,
}
# What one phone does in a burst, and how often.
JOBS = (("push", 62), ("race", 10), ("pull", 23), ("scope_change", 5))
BARRIER_SECONDS = 60


class Lost(Exception):
    """A push that got no answer the phone could use (503 retry, or the server died)."""


def make_concurrent_plan(seed: int) -> Plan:
    """3 to 8 phones, b1 filled to 17 to 23 members, 20 to 40 steps of which several
    are bursts, perhaps a scope change."""
    rng = random.Random(f"concurrent:{seed}")
    count = rng.randint(3, 8)
    phones = [(owner, rng.choice(CLOCK_OFFSETS)) for owner in OWNERS[:count]]
    prefill = {"b1": rng.choice((17, 18, 19, 19, 19, 20, 23)), "b2": rng.choice((0, 2, 19))}
    names, weights = zip(*WEIGHTS.items(), strict=True)
    steps = [
        Step(rng.randrange(count), rng.choices(names, weights)[0], rng.getrandbits(48))
        for _ in range(rng.randint(20, 40))
    ]
    for _ in range(2):  # never a history without overlapping pushes
        steps.insert(rng.randint(2, len(steps)), Step(0, "burst", rng.getrandbits(48)))
    if rng.random() < 0.4:
        steps.insert(
            rng.randint(3, len(steps)),
            Step(rng.randrange(count), "scope_change", rng.getrandbits(48)),
        )
    return Plan(seed, phones, prefill, steps)


@dataclass
class Job:
    """One phone's part of a burst, run on its own thread."""

    phone: object
    kind: str
    work: object
    barrier: threading.Barrier | None = None
    met: bool = False
    error: BaseException | None = None
    spans: list = field(default_factory=list)  # (start, end) of each request

    def meet(self):
        if not self.met:
            self.met = True
            self.barrier.wait(BARRIER_SECONDS)


class Unlocking:
    """The transport as a burst's threads use it: a request leaves the world's lock while
    it is on the wire, and the first request of each job waits at the burst's barrier."""

    def __init__(self, inner, world):
        self.inner = inner
        self.world = world

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def push(self, credentials, body):
        return self.world.outside_lock(self.inner.push, credentials, body)

    def pull(self, credentials, cursor, limit):
        return self.world.outside_lock(self.inner.pull, credentials, cursor, limit)

    def move_user(self, user_id, unit_id):
        return self.world.outside_lock(self.inner.move_user, user_id, unit_id)


class ConcurrentSimulation(Simulation):
    """A history whose `burst` steps sync several phones at once (see the module doc).

    The transport may offer `thread_context()` (what a thread needs to reach the
    database, e.g. an app context); 503 `retry` answers are a lost push, as the app
    treats them (nothing was kept, the outbox goes again)."""

    def __init__(self, transport, clock, plan):
        super().__init__(Unlocking(transport, self), clock, plan)
        self.lock = threading.RLock()
        self.local = threading.local()
        self.stats.update(bursts=0, rushes=0, overlapping=0, lost=0, retry_503=0)

    def run(self):
        with self.lock:
            super().run()

    # ---- threads

    def outside_lock(self, call, *args):
        job = getattr(self.local, "job", None)
        if job is None:
            return call(*args)
        self.lock.release()
        try:
            job.meet()
            started = time.monotonic()
            try:
                return call(*args)
            finally:
                job.spans.append((started, time.monotonic()))
        finally:
            self.lock.acquire()

    def run_job(self, job):
        self.local.job = job
        context = getattr(self.transport.inner, "thread_context", None)
        try:
            with context() if context else nullcontext(), self.lock:
                job.work()
        except BaseException as exc:  # reported by the main thread
            job.error = exc
        finally:
            with suppress(threading.BrokenBarrierError):
                job.meet()
            self.local.job = None

    def run_jobs(self, jobs):
        barrier = threading.Barrier(len(jobs))
        for job in jobs:
            job.barrier = barrier
        threads = [threading.Thread(target=self.run_job, args=(job,)) for job in jobs]
        self.lock.release()
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(BARRIER_SECONDS * 3)
        finally:
            self.lock.acquire()
        if any(thread.is_alive() for thread in threads):
            raise Unexpected("a request of a burst never ended")
        self.stats["overlapping"] += overlapping(jobs)
        self.first_answers_first(jobs)
        for job in jobs:
            if isinstance(job.error, Unexpected):
                raise job.error
            if job.error is not None:
                raise Unexpected(f"{job.phone.label} {job.kind}: {job.error!r}") from job.error

    def first_answers_first(self, jobs):
        """When a retry raced its original, the one that applied answered first (the
        ledger reads deliveries[0] as the first answer; arrival order is the threads')."""
        labels = {job.phone.label for job in jobs}
        for (label, _seq), entry in self.ledger.items():
            if label in labels and len(entry.deliveries) > 1:
                entry.deliveries.sort(key=lambda result: result["status"] == "duplicate")

    # ---- steps

    def do_burst(self, _phone, rng):
        count = rng.randint(2, len(self.phones))
        chosen = [self.phones[i] for i in sorted(rng.sample(range(len(self.phones)), count))]
        jobs = []
        for phone in chosen:
            jobs += self.jobs_of(phone, rng)
        self.stats["bursts"] += 1
        self.log("BURST: " + ", ".join(f"{job.phone.label} {job.kind}" for job in jobs))
        self.run_jobs(jobs)

    def do_rush(self, _phone, rng):
        """A registration drive at the booth near its cap: every phone that may add to b1
        types a new member there (half of them with an EPIC of the small pool), and all
        push at the same moment."""
        booth = self.units["b1"]
        jobs = []
        for phone in self.phones:
            reach = phone.unit_id if phone.role == "volunteer" else None
            if reach != booth and self.block_of[booth] != phone.unit_id:
                continue
            fields = self.member_fields(rng, phone, "b1")
            if rng.random() < 0.5:
                fields["epic"] = rng.choice(EPICS)
            self.enqueue(phone, "member", new_uuid(rng), fields)
            jobs.append(Job(phone, "push", lambda p=phone: self.push(p, 500, "delivered")))
        if len(jobs) < 2:
            return self.log("RUSH: fewer than two phones reach b1")
        self.stats["rushes"] += 1
        self.log("RUSH on b1: " + ", ".join(job.phone.label for job in jobs))
        self.run_jobs(jobs)

    def jobs_of(self, phone, rng):
        names, weights = zip(*JOBS, strict=True)
        kind = rng.choices(names, weights)[0]
        if kind in ("push", "race") and not phone.outbox:
            kind = "pull"  # nothing to send: it pulls while the others push
        modes, mode_weights = zip(*PUSH_MODES, strict=True)
        mode = rng.choices(modes, mode_weights)[0]
        size = rng.choice((1, 2, 3, 500))
        limit = rng.choice((2, 7, 500))
        if kind == "push":
            return [Job(phone, f"push {mode}", lambda: self.push(phone, size, mode))]
        if kind == "race":
            # The app gave up waiting and sent its batch again while the first was running.
            return [
                Job(phone, "push (original)", lambda: self.push(phone, size, "delivered")),
                Job(phone, "push (racing retry)", lambda: self.push(phone, size, "delivered")),
            ]
        if kind == "pull":
            return [Job(phone, "pull", lambda: self.pull(phone, limit))]
        return [Job(phone, "moved", lambda: self.do_scope_change(phone, rng))]

    # ---- answers

    def deliver(self, phone, body):
        self.clock.advance(40)
        status, answer = self.transport.push(phone.credentials, body)
        if status == 503 and (answer or {}).get("error", {}).get("code") == "retry":
            self.stats["retry_503"] += 1
            raise Lost("answered 503 retry: nothing kept, the outbox goes again")
        if status != 200:
            raise Unexpected(f"push answered {status}: {answer}")
        self.record_answer(phone, answer)
        return answer

    def record_answer(self, phone, answer):
        for result in answer["results"]:
            entry = self.ledger[(phone.label, result["seq"])]
            entry.deliveries.append(result)
            self.stats[result["status"]] = self.stats.get(result["status"], 0) + 1

    def push(self, phone, size, mode, quiet=False):
        try:
            super().push(phone, size, mode, quiet)
        except Lost as lost:
            self.stats["lost"] += 1
            self.log(f"{phone.label} push: {lost}")


def overlapping(jobs) -> int:
    """How many of the jobs had a request on the wire while another job's was."""
    count = 0
    for job in jobs:
        others = [span for other in jobs if other is not job for span in other.spans]
        if any(a < d and c < b for a, b in job.spans for c, d in others):
            count += 1
    return count
