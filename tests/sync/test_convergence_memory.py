"""Convergence against the engine alone: the histories of
tests/server/syncing/test_convergence.py, with pushes applied by sync.engine over an
in-memory store and pulls decided by sync.scope.can_see (tests/sync/simulation/memory.py
says what this cannot judge: masking, the change index's SQL, HTTP and locks).

Every history must end with every phone holding exactly what a fresh pull of its person
brings, every mutation in the server's state, in a conflict its author can see, or
rejected and kept in its phone's needs-attention list, every roster within the rules, no
personal data of an erased member left in a conflict, and no phone's later write lost to
its own earlier one. A few hundred histories take seconds here, so many more run than
over HTTP; MEMORY_HISTORIES=5000 runs more.
"""

import json
import os
from pathlib import Path

import pytest

from tests.sync.memory_server import MemoryServer
from tests.sync.memory_store import MemoryStore
from tests.sync.simulation.memory import MemoryTransport, run_history
from tests.sync.simulation.plan import Plan, SimClock, case_id, make_plan

SEEDS_FILE = Path(__file__).parents[1] / "server" / "syncing" / "convergence_seeds.json"
HISTORIES = int(os.environ.get("MEMORY_HISTORIES", "300"))
# Histories that pass on a correct engine and exercise what the sabotage tests break
# (the same seeds as the HTTP sabotage tests).
SABOTAGE_SEED = 14
FULL_BOOTH_SEED = 3


def cases():
    """The kept failing histories of the HTTP test first, then fresh random seeds and every
    seed that ever failed."""
    kept = json.loads(SEEDS_FILE.read_text(encoding="utf-8"))
    params = [pytest.param(case, id=case_id(case)) for case in kept["cases"]]
    seeds = sorted(set(range(HISTORIES)) | set(kept["failed_seeds"]))
    params += [pytest.param({"seed": seed}, id=f"seed-{seed}") for seed in seeds]
    return params


@pytest.mark.parametrize("case", cases())
def test_every_phone_converges_and_nothing_typed_is_lost(case):
    plan = Plan.from_json(case) if "steps" in case else make_plan(case["seed"])
    simulation, problems = run_history(plan)
    assert not problems, simulation.report(problems)


def run_broken(plan, server_class=MemoryServer, store_class=MemoryStore):
    clock = SimClock()
    server = server_class(clock)
    server.store_class = store_class
    return run_history(plan, MemoryTransport(clock, server))


# The checker must not be blind: break the server on purpose and it must notice.


class ForgetfulServer(MemoryServer):
    """Answers every edit as taken, but drops one of its fields."""

    def apply_one(self, store, who, raw, now):
        fields = dict(raw.get("fields") or {})
        for name in sorted(fields, reverse=True)[:1]:
            if name != "status" and raw["op"] == "upsert" and len(fields) > 1:
                del fields[name]
        return super().apply_one(store, who, {**raw, "fields": fields}, now)


class SkippingServer(MemoryServer):
    """Leaves every other change out of a pull that is not a first one."""

    def pull(self, device_id, cursor, limit):
        status, answer = super().pull(device_id, cursor, limit)
        if cursor:
            answer["changes"] = answer["changes"][::2]
        return status, answer


class RoomyStore(MemoryStore):
    """Always finds room in a booth."""

    def active_count(self, booth_id, exclude_id):
        return 0


def test_an_edit_the_server_drops_silently_is_caught():
    _simulation, problems = run_broken(make_plan(SABOTAGE_SEED), ForgetfulServer)
    assert any(p.startswith("(b)") and "is lost" in p for p in problems), problems


def test_a_pull_that_skips_changes_is_caught():
    _simulation, problems = run_broken(make_plan(SABOTAGE_SEED), SkippingServer)
    assert any(p.startswith("(a)") for p in problems), problems


def test_a_squad_beyond_twenty_is_caught():
    _simulation, problems = run_broken(make_plan(FULL_BOOTH_SEED), store_class=RoomyStore)
    assert any(p.startswith("(c)") and "pending or approved" in p for p in problems), problems
