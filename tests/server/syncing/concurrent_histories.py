"""Concurrent convergence histories against the app in this process on PostgreSQL: the
burst's threads each send their requests through a test client of their own, in an app
context of their own, so each request runs on its own pooled connection and the
transactions of a burst really overlap in the database (row locks, advisory locks,
retries after a deadlock or a uniqueness race).

Run many outside pytest (`make convergence-concurrent` runs them with the crash
histories of crash_histories.py), or one seed, or a kept plan:
    .venv/bin/python -m tests.server.syncing.concurrent_histories --range 0 1000
    .venv/bin/python -m tests.server.syncing.concurrent_histories 17
"""

import argparse
import json
import sys
import threading
import time

from sqlalchemy import text

import server.records
from server.extensions import db
from tests.server.syncing.concurrent_world import ConcurrentSimulation, make_concurrent_plan
from tests.server.syncing.simulation import HttpTransport
from tests.sync.simulation.plan import Plan, SimClock

SEEDS_FILE = "concurrent_seeds.json"
# Totals printed by a run of many histories.
FIGURES = (
    "bursts",
    "rushes",
    "overlapping",
    "conflict",
    "rejected",
    "duplicate",
    "lost",
    "retry_503",
    "crashes",
    "killed_apply",
    "killed_before_commit",
    "killed_after_commit",
    "killed_racing",
)


class ThreadedHttpTransport(HttpTransport):
    """HttpTransport whose every thread has its own test client and app context."""

    replay_module = "tests.server.syncing.concurrent_histories"

    def __init__(self, app, make):
        self.app = app
        self.make = make
        self.local = threading.local()

    @property
    def client(self):
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = self.app.test_client()
        return client

    def thread_context(self):
        return self.app.app_context()


def run_concurrent(app, make, plan, clock=None):
    """One history on the app (whose server clock must already be `clock`); answers
    (simulation, problems)."""
    clock = clock or SimClock()
    simulation = ConcurrentSimulation(ThreadedHttpTransport(app, make), clock, plan)
    simulation.run()
    return simulation, simulation.check()


def plan_of(text_or_seed):
    if isinstance(text_or_seed, dict):
        return Plan.from_json(text_or_seed) if "steps" in text_or_seed else None
    if str(text_or_seed).lstrip().startswith("{"):
        return Plan.from_json(json.loads(text_or_seed))
    return make_concurrent_plan(int(text_or_seed))


def empty_tables():
    db.session.remove()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f"DELETE FROM {table.name}"))
    db.session.commit()
    db.session.remove()


def run_many(attempt, plans, label, out=sys.stdout):  # pragma: no cover - a developer's tool
    """Run plans with `attempt(plan) -> (simulation, problems)`; print each failure and
    the figures; answer (failed seeds, totals)."""
    started, failed, totals = time.monotonic(), [], dict.fromkeys(FIGURES, 0)
    for plan in plans:
        simulation, problems = attempt(plan)
        for name in totals:
            totals[name] += simulation.stats.get(name, 0)
        if problems:
            failed.append(plan.seed)
            print(f"{label} seed {plan.seed}: {problems[0]}", file=out, flush=True)
    elapsed = time.monotonic() - started
    figures = ", ".join(f"{name} {value}" for name, value in totals.items())
    print(
        f"{label}: {len(plans)} histories, {len(failed)} failed, {elapsed:.0f} s "
        f"({figures}): {failed}",
        file=out,
        flush=True,
    )
    return failed, totals


def main():  # pragma: no cover - a developer's tool
    from flask_migrate import upgrade

    from tests.factories import Factories
    from tests.server.syncing.server_process import app_for, throwaway_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", nargs="?", help="a seed, or a plan as JSON")
    parser.add_argument("--range", nargs=2, type=int, metavar=("FIRST", "STOP"))
    args = parser.parse_args()
    with throwaway_database(prefix="booth_conc_") as url:
        app = app_for(url)
        app.config["TESTING"] = True
        with app.app_context():
            upgrade()

            def attempt(plan):
                empty_tables()
                clock = SimClock()
                server.records.time = clock
                return run_concurrent(app, Factories(app), plan, clock)

            if args.range:
                plans = [make_concurrent_plan(s) for s in range(*args.range)]
                failed, _totals = run_many(attempt, plans, "concurrent")
                db.session.remove()
                db.engine.dispose()
                raise SystemExit(1 if failed else 0)
            simulation, problems = attempt(plan_of(args.seed))
            print(simulation.report(problems) if problems else "\n".join(simulation.history))
            print(simulation.stats)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
