"""Convergence with the server SIGKILLed in the middle of pushes (issue 15).

The real app under gunicorn (crash_histories.py): pushes of the concurrent histories
are killed between two mutations of their batch, with the batch flushed but not
committed, or after the commit with the answer unsent; sometimes the whole server goes
and a new one starts on the same database. The phones send the same mutations again;
right after each crash the database must hold nothing of an uncommitted batch and
exactly the answer of a committed one, and at the end the convergence checks must hold
(nothing lost, nothing applied twice, every phone equal to the server).

The server runs on the database of the pass: a throwaway PostgreSQL database in the
PostgreSQL pass, a SQLite file in the SQLite pass. CI runs CRASH_HISTORIES (default 4)
plus every kept case; `make convergence-concurrent` runs many more.
"""

import json
import os
from pathlib import Path

import pytest

import server.records
from server.extensions import db
from tests.factories import Factories
from tests.server.syncing.concurrent_histories import empty_tables, plan_of
from tests.server.syncing.concurrent_world import make_concurrent_plan
from tests.server.syncing.crash_histories import (
    CrashServer,
    ServerGone,
    crash_database,
    crash_violations,
    run_crash,
)
from tests.server.syncing.server_process import app_for, init_schema, postgres_reachable
from tests.sync.simulation.plan import SimClock

SEEDS_FILE = Path(__file__).with_name("crash_seeds.json")
HISTORIES = int(os.environ.get("CRASH_HISTORIES", "4"))
KINDS = ("killed_apply", "killed_before_commit", "killed_after_commit")


def backend():
    return os.environ.get("TEST_DATABASE", "postgres" if os.environ.get("CI") else "sqlite")


@pytest.fixture(scope="module")
def crash_world(tmp_path_factory):
    kind = backend()
    if kind != "sqlite":
        problem = postgres_reachable()
        if problem:
            pytest.fail(f"PostgreSQL is needed for the crash histories: {problem}")
    folder = tmp_path_factory.mktemp("crash-histories")
    with crash_database(kind, folder) as url:
        init_schema(url)
        crash_server = CrashServer(url, folder).start()
        app = app_for(url)
        try:
            yield app, crash_server, folder
        finally:
            crash_server.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def run(crash_world, monkeypatch, plan):
    app, crash_server, folder = crash_world
    with app.app_context():
        empty_tables()
        clock = SimClock()
        monkeypatch.setattr(server.records, "time", clock)
        return run_crash(app, Factories(app), crash_server, plan, clock, folder)


def plans():
    """Every kept case, then the fast slice of seeds."""
    kept = json.loads(SEEDS_FILE.read_text(encoding="utf-8"))["cases"]
    return [plan_of(case) or make_concurrent_plan(case["seed"]) for case in kept] + [
        make_concurrent_plan(seed) for seed in range(HISTORIES)
    ]


def test_histories_with_pushes_killed_anywhere_converge_and_apply_nothing_twice(
    crash_world, monkeypatch
):
    totals = dict.fromkeys(("crashes", *KINDS), 0)
    for plan in plans():
        simulation, problems = run(crash_world, monkeypatch, plan)
        assert not problems, simulation.report(problems)
        for name in totals:
            totals[name] += simulation.stats.get(name, 0)
    # Every kind of crash happened, and each was a worker really killed mid-push
    # (a worker killed just before its whole server may die unlogged).
    assert all(totals[kind] for kind in KINDS), totals
    assert crash_world[1].killed_workers() >= totals["crashes"] - crash_world[1].restarts


def gone(point, before, after, answer=None):
    crash = ServerGone(point, answer)
    crash.before, crash.after = before, after
    return crash


BATCH = {"mutations": [{"seq": 3}, {"seq": 4}]}


def test_the_crash_check_catches_a_partial_commit_and_a_double_one():
    """The check run right after each crash is not blind (the histories above pass)."""
    assert crash_violations("vA", BATCH, gone("apply:2", (2, 2), (2, 2))) == []
    assert crash_violations("vA", BATCH, gone("before_commit", (2, 2), (3, 3)))
    assert crash_violations("vA", BATCH, gone("apply:1", (2, 2), (2, 3)))
    answer = {"status": 200, "body": {"last_seq": 4}}
    assert crash_violations("vA", BATCH, gone("after_commit", (2, 2), (4, 4), answer)) == []
    assert crash_violations("vA", BATCH, gone("after_commit", (2, 2), (2, 2), answer))
    assert crash_violations("vA", BATCH, gone("after_commit", (2, 2), (4, 6), answer))
    refused = {"status": 503, "body": {"error": {"code": "retry"}}}
    assert crash_violations("vA", BATCH, gone("after_commit", (2, 2), (2, 2), refused)) == []
