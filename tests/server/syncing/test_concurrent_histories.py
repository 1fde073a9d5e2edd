"""Convergence with phones syncing at the same moment on PostgreSQL (issue 15).

Each history (concurrent_world.py) has 3 to 8 phones over shared booths, one booth near
its cap of 20, a small pool of EPICs, and the block president approving and rejecting
while the volunteers edit; its `burst` steps sync several phones at once from threads,
each request on its own pooled connection, so the push transactions overlap in the
database. Lost requests, lost answers, duplicates and a retry racing its original are
among them. At the end every phone syncs to quiescence and the convergence checks
(tests/sync/simulation/checks.py) must hold.

CI runs a fast slice (CONCURRENT_HISTORIES, default 5) plus every kept case;
`make convergence-concurrent` runs hundreds.
"""

import json
import os
import threading
from pathlib import Path

import pytest

import server.records
from server.syncing import locks
from server.syncing import push as push_module
from tests.factories import Factories
from tests.server.syncing.concurrent_histories import empty_tables, plan_of, run_concurrent
from tests.server.syncing.concurrent_world import make_concurrent_plan
from tests.sync.simulation.plan import SimClock

pytestmark = pytest.mark.postgres_only

SEEDS_FILE = Path(__file__).with_name("concurrent_seeds.json")
HISTORIES = int(os.environ.get("CONCURRENT_HISTORIES", "5"))
# Seed 0 runs with the overlap of push transactions measured; the others plainly.
BUSY_SEED = 0
# Seeds whose rush overfills b1 when pushes take no booth locks (seed 3 every time it
# was tried); the test stops at the first that is caught.
# The race shows on seed 3 on a quiet machine; under heavy load threads overlap less, so
# more seeds are tried (the loop stops at the first one caught).
SABOTAGE_SEEDS = (3, 5, 7, 9, 11, 13, 15, 17)


def cases():
    kept = json.loads(SEEDS_FILE.read_text(encoding="utf-8"))["cases"]
    params = [pytest.param(case, id=f"kept-{case['seed']}") for case in kept]
    seeds = [s for s in range(HISTORIES) if s != BUSY_SEED]
    return params + [pytest.param({"seed": s}, id=f"seed-{s}") for s in seeds]


def run(app, make, monkeypatch, plan):
    clock = SimClock()
    monkeypatch.setattr(server.records, "time", clock)
    return run_concurrent(app, make, plan, clock)


@pytest.mark.parametrize("case", cases())
def test_phones_pushing_at_once_converge_and_lose_nothing(app, make, monkeypatch, case):
    plan = plan_of(case) or make_concurrent_plan(case["seed"])
    simulation, problems = run(app, make, monkeypatch, plan)
    assert not problems, simulation.report(problems)
    assert simulation.stats["bursts"] >= 2


def test_plans_mix_many_phones_a_nearly_full_booth_and_the_president():
    plans = [make_concurrent_plan(seed) for seed in range(200)]
    assert {len(p.phones) for p in plans} == set(range(3, 9))
    assert all(p.prefill["b1"] >= 17 for p in plans)
    assert any(p.prefill["b1"] > 20 for p in plans)  # a waitlist to promote
    assert all(sum(s.action == "burst" for s in p.steps) >= 2 for p in plans)
    assert all("P" in [owner for owner, _ in p.phones] for p in plans)
    assert sum(any(s.action == "rush" for s in p.steps) for p in plans) >= 100


def test_push_transactions_really_overlap(app, make, monkeypatch):
    """Not threads taking turns: two or more pushes are inside their transactions at once."""
    inside, most = [0], [0]
    guard = threading.Lock()
    real_push_once = push_module.push_once

    def counting_push_once(*args, **kwargs):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return real_push_once(*args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(push_module, "push_once", counting_push_once)
    simulation, problems = run(app, make, monkeypatch, make_concurrent_plan(BUSY_SEED))
    assert not problems, simulation.report(problems)
    assert most[0] >= 2
    assert simulation.stats["overlapping"] >= 2


def test_pushes_without_booth_locks_are_caught(app, make, monkeypatch):
    """The checker is not blind to a race: without the booth and EPIC locks, phones
    adding members to a nearly full booth at once overfill it or double an EPIC."""
    monkeypatch.setattr(locks, "booth_rows", lambda session, booths: None)
    monkeypatch.setattr(locks, "epic_keys", lambda session, epics: None)
    found = []
    for seed in SABOTAGE_SEEDS:
        empty_tables()
        plan = make_concurrent_plan(seed)
        _simulation, problems = run(app, Factories(app), monkeypatch, plan)
        found += [p for p in problems if p.startswith("(c)")]
        if found:
            break
    assert found
