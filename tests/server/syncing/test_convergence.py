"""Convergence: phones edit shared records offline, lose requests and answers, then all sync.
The records: members, grievances and their notes, meetings and RSVPs, conflict records.

Every history (a seed, see simulation.py) must end with every phone holding exactly what
the server holds for its person, with every mutation ever made either in the server's
state, in a conflict record its author can see, or rejected and kept in its phone's
needs-attention list, and with every roster within the rules (at most 20 active, the
waitlist promoted when room frees, one live member per EPIC). Also checked: a fresh pull
brings exactly the database's records of the person's scope (a meeting only to its
audience and the leaders over its unit), an RSVP answer not on the server was followed
by a later answer of the same person (rule 9), a member who withdrew
consent keeps no personal data in any conflict, and a phone's later write never loses
to its own earlier one.
"""

import json
import os
import sys
from pathlib import Path

import pytest

import server.records
from server.syncing import pull
from sync import merge, registry
from sync.records import roster
from tests.server.syncing.simulation import (
    ACTIONS,
    PUSH_MODES,
    Plan,
    SimClock,
    Simulation,
    make_plan,
)
from tests.sync.simulation.plan import case_id

SEEDS_FILE = Path(__file__).with_name("convergence_seeds.json")
# At least 200 in CI (issue 3); more locally with CONVERGENCE_HISTORIES=2000.
HISTORIES = int(os.environ.get("CONVERGENCE_HISTORIES", "200"))
# Histories that pass on a correct server and exercise what the sabotage tests break:
# applied edits and incremental pulls; a booth filled to 19 that then gets more members.
SABOTAGE_SEED = 14
FULL_BOOTH_SEED = 3


def kept():
    return json.loads(SEEDS_FILE.read_text(encoding="utf-8"))


def cases():
    """Kept failing histories first, then fresh random seeds and every seed that ever
    failed (a sweep found them; they run whole beside their shrunk cases)."""
    kept_cases = kept()["cases"]
    params = [pytest.param(case, id=case_id(case)) for case in kept_cases]
    replayed = {case["seed"] for case in kept_cases if "steps" not in case}
    seeds = sorted(set(range(HISTORIES)) | set(kept()["failed_seeds"]))
    params += [
        pytest.param({"seed": seed}, id=f"seed-{seed}") for seed in seeds if seed not in replayed
    ]
    return params


def run_history(client, make, monkeypatch, plan):
    clock = SimClock()
    # The server's clock is the simulated one, so a seed replays the same history.
    monkeypatch.setattr(server.records, "time", clock)
    simulation = Simulation(client, make, clock, plan)
    simulation.run()
    return simulation, simulation.check()


@pytest.mark.parametrize("case", cases())
def test_every_phone_converges_and_nothing_typed_is_lost(client, make, monkeypatch, case):
    plan = Plan.from_json(case) if "steps" in case else make_plan(case["seed"])
    simulation, problems = run_history(client, make, monkeypatch, plan)
    assert not problems, simulation.report(problems)


def test_histories_mix_every_kind_of_step():
    """The random histories CI runs do cover what the issue asks: 3 to 5 phones, clocks
    days off and ahead beyond the one-minute rule, scope changes, and every action."""
    plans = [make_plan(seed) for seed in range(HISTORIES)]
    assert {len(p.phones) for p in plans} == {3, 4, 5}
    offsets = {offset for p in plans for _owner, offset in p.phones}
    assert min(offsets) <= -3 * 86_400_000 and max(offsets) >= 2 * 86_400_000
    assert any(60_000 < o < 86_400_000 for o in offsets)
    actions = {step.action for p in plans for step in p.steps}
    assert actions == {name for name, _w in ACTIONS} | {"scope_change"}
    with_scope_change = sum(any(s.action == "scope_change" for s in p.steps) for p in plans)
    assert with_scope_change >= len(plans) // 3
    assert all(hasattr(Simulation, "do_" + action) for action in actions)
    assert {mode for mode, _w in PUSH_MODES} == {
        "delivered",
        "request_lost",
        "answer_lost",
        "duplicated",
    }


# The checker must not be blind: break the server on purpose and it must notice.


def test_an_edit_the_server_drops_silently_is_caught(client, make, monkeypatch):
    original = merge.merge

    def forgetful_merge(record, incoming, base, hlc):
        result = original(record, incoming, base, hlc)
        for name in sorted(result.changes, reverse=True)[:1]:
            if name != "status":
                del result.changes[name]
        return result

    for rules in registry.RECORD_TYPES:  # each record type's module calls the merge
        monkeypatch.setattr(sys.modules[rules.apply.__module__], "merge", forgetful_merge)
    _simulation, problems = run_history(client, make, monkeypatch, make_plan(SABOTAGE_SEED))
    assert any(p.startswith("(b)") and "is lost" in p for p in problems), problems


def test_a_pull_that_skips_changes_is_caught(client, make, monkeypatch):
    original = pull.pull_changes

    def skipping_pull(actor, cursor, limit):
        answer = original(actor, cursor, limit)
        if cursor:
            answer["changes"] = answer["changes"][::2]  # a first pull is complete
        return answer

    monkeypatch.setattr(pull, "pull_changes", skipping_pull)
    _simulation, problems = run_history(client, make, monkeypatch, make_plan(SABOTAGE_SEED))
    assert any(p.startswith("(a)") for p in problems), problems


def test_a_squad_beyond_twenty_is_caught(client, make, monkeypatch):
    monkeypatch.setattr(roster, "room_in_booth", lambda store, booth_id, member_id: True)
    _simulation, problems = run_history(client, make, monkeypatch, make_plan(FULL_BOOTH_SEED))
    assert any(p.startswith("(c)") and "pending or approved" in p for p in problems), problems
