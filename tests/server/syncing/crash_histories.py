"""Convergence histories with the server killed in the middle of pushes (issue 15).

The real app runs under gunicorn (two sync workers, real HTTP, real connections) as
crash_server_app.py makes it; the histories are the concurrent ones
(concurrent_world.py), and about a third of the pushes are armed: the worker serving
the push SIGKILLs itself between two mutations of the batch, with the batch flushed but
not committed, or after the commit with the answer not yet sent. The master forks a new
worker; now and then (a sequential push) the harness SIGKILLs the master and its workers
as well and starts a new server on the same database. The phone got no answer, keeps
its outbox and sends the same mutations (the same seqs) again later.

Beyond the convergence checks, each crash is checked in the database at once: a push
killed before its commit left nothing (the device's last_seq and its applied
mutations as before), one killed after it left exactly its answer (last_seq as the
answer says, one applied row per new mutation); and the checks' ledger then proves the
retries answered `duplicate` and nothing was applied twice.

    .venv/bin/python -m tests.server.syncing.crash_histories --range 0 100
    .venv/bin/python -m tests.server.syncing.crash_histories 17
"""

import argparse
import json
import os
import random
import signal
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import func, select

import server.records
from server.accounts.models import Device
from server.extensions import db
from server.syncing.models import AppliedMutation
from tests.server.syncing.concurrent_world import ConcurrentSimulation, Lost
from tests.server.syncing.crash_server_app import (
    ANSWER_HEADER,
    CLOCK_HEADER,
    CRASH_APP,
    CRASH_HEADER,
)
from tests.server.syncing.server_process import GunicornServer, throwaway_database
from tests.server.syncing.simulation import HttpTransport
from tests.sync.simulation.plan import SimClock, Unexpected

CRASH_CHANCE = 0.35  # of a push
POINTS = (("apply", 40), ("before_commit", 30), ("after_commit", 30))
RESTART_CHANCE = 0.5  # of a crash in a push made alone: the whole server goes
WORKERS = 2


class ServerGone(Exception):
    """The connection dropped during an armed push: the worker was killed."""

    def __init__(self, point, answer):
        super().__init__(point)
        self.point = point
        self.answer = answer  # what the server would have answered (after_commit), or None
        self.before = self.after = None


class CrashServer:
    """The gunicorn server of a run; `restart()` kills it whole and starts another."""

    def __init__(self, database_url, folder, workers=WORKERS):
        self.database_url = database_url
        self.folder = Path(folder)
        self.workers = workers
        self.server = None
        self.restarts = 0
        self.url = None

    def start(self):
        log = self.folder / f"gunicorn-{self.restarts}.log"
        self.server = GunicornServer(
            self.database_url, workers=self.workers, app=CRASH_APP, preload=True, log_path=log
        )
        self.server.start()
        self.url = self.server.url
        return self

    def restart(self):
        """SIGKILL the master and every worker, then a new server on the same database."""
        for pid in self.server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        self.server.process.kill()
        self.server.process.wait()
        self.server.stop()
        self.restarts += 1
        self.start()

    def stop(self):
        if self.server is not None:
            self.server.stop()

    def killed_workers(self) -> int:
        return sum(
            path.read_text(errors="replace").count("was sent SIGKILL")
            for path in self.folder.glob("gunicorn-*.log")
        )


class Response:
    def __init__(self, response):
        self.status_code = response.status_code
        self._json = response.json() if response.content else None

    def get_json(self):
        return self._json


class RemoteClient:
    """The test client's post and get, over real HTTP to the crash server, with the
    history's clock and (for an armed push) the crash point as headers. No keep-alive:
    a killed worker must not leave a dead connection for the next request."""

    def __init__(self, crash_server, clock, folder):
        self.crash_server = crash_server
        self.clock = clock
        self.folder = Path(folder)
        self.armed = {}  # device id -> (point, restart)
        self.lock = threading.Lock()

    def headers(self, headers):
        return {**headers, CLOCK_HEADER: str(self.clock.ms), "Connection": "close"}

    def get(self, url, query_string, headers):
        answer = requests.get(
            self.crash_server.url + url,
            params=query_string,
            headers=self.headers(headers),
            timeout=120,
        )
        return Response(answer)

    def post(self, url, json, headers):
        armed = self.armed.pop(json.get("device_id"), None)
        headers = self.headers(headers)
        answer_file = None
        if armed:
            answer_file = self.folder / f"answer-{uuid.uuid4().hex}.json"
            headers.update({CRASH_HEADER: armed[0], ANSWER_HEADER: str(answer_file)})
        try:
            answer = requests.post(
                self.crash_server.url + url, json=json, headers=headers, timeout=120
            )
        except requests.ConnectionError as exc:
            if not armed:
                raise Unexpected(f"the server dropped an unarmed request: {exc}") from exc
            gone = ServerGone(armed[0], self.dying_answer(answer_file))
            if armed[1]:
                with self.lock:
                    self.crash_server.restart()
                gone.point += " (then the whole server)"
            raise gone from None
        return Response(answer)

    def dying_answer(self, answer_file):
        if answer_file is None or not answer_file.exists():
            return None
        answer = json.loads(answer_file.read_text(encoding="utf-8"))
        answer_file.unlink()
        return answer


class RemoteTransport(HttpTransport):
    """HttpTransport over RemoteClient; the database is read and seeded through this
    process's app (`app`, bound to the server's database)."""

    replay_module = "tests.server.syncing.crash_histories"

    def __init__(self, app, make, client):
        self.app = app
        self.make = make
        self.client = client

    def thread_context(self):
        return self.app.app_context()

    def arm(self, device_id, point, restart):
        self.client.armed[device_id] = (point, restart)

    def disarm(self, device_id):
        self.client.armed.pop(device_id, None)

    def push(self, credentials, body):
        device_id = body["device_id"]
        before = self.progress(device_id) if device_id in self.client.armed else None
        try:
            return super().push(credentials, body)
        except ServerGone as gone:
            gone.before, gone.after = before, self.progress(device_id)
            raise

    def progress(self, device_id):
        """(last_seq, applied mutations) of a device, as committed."""
        db.session.remove()
        last_seq = db.session.execute(
            select(Device.last_seq).where(Device.id == device_id)
        ).scalar_one()
        applied = db.session.execute(
            select(func.count()).where(AppliedMutation.device_id == device_id)
        ).scalar_one()
        db.session.remove()
        return last_seq, applied


class CrashSimulation(ConcurrentSimulation):
    """A concurrent history whose pushes are sometimes killed (see the module doc)."""

    def __init__(self, transport, clock, plan):
        super().__init__(transport, clock, plan)
        self.crash_problems = []
        self.racing = set()  # devices whose batch two threads send in this burst
        self.stats.update(crashes=0)

    def check(self):
        return super().check() + self.crash_problems

    def arm(self, phone, rng, alone):
        if rng.random() >= CRASH_CHANCE:
            return
        names, weights = zip(*POINTS, strict=True)
        point = rng.choices(names, weights)[0]
        if point == "apply":
            point = f"apply:{rng.randint(1, 3)}"
        self.transport.arm(phone.device_id, point, alone and rng.random() < RESTART_CHANCE)

    def do_push(self, phone, rng):
        self.arm(phone, random.Random(rng.getrandbits(48)), alone=True)
        try:
            super().do_push(phone, rng)
        finally:
            self.transport.disarm(phone.device_id)

    def jobs_of(self, phone, rng):
        jobs = super().jobs_of(phone, rng)
        if len(jobs) == 1 and jobs[0].kind.startswith("push"):
            job, chooser = jobs[0], random.Random(rng.getrandbits(48))
            work = job.work

            def armed_work():
                self.arm(phone, chooser, alone=False)
                try:
                    work()
                finally:
                    self.transport.disarm(phone.device_id)

            job.work = armed_work
        elif len(jobs) == 2 and phone.outbox:
            # A retry racing its original, one of them killed: the other waits on the
            # dead one's device lock, which the database must release.
            self.arm(phone, random.Random(rng.getrandbits(48)), alone=False)
            self.racing.add(phone.device_id)
        return jobs

    def run_jobs(self, jobs):
        try:
            super().run_jobs(jobs)
        finally:
            for job in jobs:
                self.transport.disarm(job.phone.device_id)
            self.racing.clear()

    def deliver(self, phone, body):
        try:
            return super().deliver(phone, body)
        except ServerGone as gone:
            self.stats["crashes"] += 1
            kind = "killed_" + gone.point.split(":")[0].split(" ")[0]
            self.stats[kind] = self.stats.get(kind, 0) + 1
            answer = gone.answer
            if answer and answer["status"] == 200:
                self.record_answer(phone, answer["body"])
            if phone.device_id in self.racing:  # its twin may commit the batch
                self.stats["killed_racing"] = self.stats.get("killed_racing", 0) + 1
            else:
                self.crash_problems += crash_violations(phone.label, body, gone)
            raise Lost(f"SERVER KILLED ({gone.point}); no answer came") from None


def crash_violations(label, body, gone):
    """What the database holds right after a killed push, against what it must."""
    seqs = f"#{body['mutations'][0]['seq']}..#{body['mutations'][-1]['seq']}"
    where = f"(crash) {label} push {seqs} killed at {gone.point}"
    answer = gone.answer
    if answer is None or answer["status"] != 200:
        if gone.after != gone.before:
            return [
                f"{where}: nothing was committed, yet (last_seq, applied) went from "
                f"{gone.before} to {gone.after}"
            ]
        return []
    last_seq = answer["body"]["last_seq"]
    expected = (last_seq, gone.before[1] + last_seq - gone.before[0])
    if gone.after != expected:
        return [
            f"{where}: committed with last_seq {last_seq}, so (last_seq, applied) must be "
            f"{expected}, yet it is {gone.after}"
        ]
    return []


def run_crash(app, make, crash_server, plan, clock, folder):
    """One history against the crash server; answers (simulation, problems)."""
    client = RemoteClient(crash_server, clock, folder)
    simulation = CrashSimulation(RemoteTransport(app, make, client), clock, plan)
    simulation.run()
    return simulation, simulation.check()


@contextmanager
def crash_database(backend, folder):
    """A new database for the crash server: a throwaway PostgreSQL one, or a SQLite file."""
    if backend == "sqlite":
        yield f"sqlite:///{Path(folder) / 'crash.db'}"
        return
    with throwaway_database(prefix="booth_crashh_") as url:
        yield url


def main():  # pragma: no cover - a developer's tool
    from tests.factories import Factories
    from tests.server.syncing.concurrent_histories import empty_tables, plan_of, run_many
    from tests.server.syncing.concurrent_world import make_concurrent_plan
    from tests.server.syncing.server_process import app_for, init_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", nargs="?", help="a seed, or a plan as JSON")
    parser.add_argument("--range", nargs=2, type=int, metavar=("FIRST", "STOP"))
    parser.add_argument("--sqlite", action="store_true", help="the server on SQLite")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="crash-histories-")
    backend = "sqlite" if args.sqlite else "postgres"
    with crash_database(backend, folder) as url:
        init_schema(url)
        crash_server = CrashServer(url, folder).start()
        app = app_for(url)
        try:
            with app.app_context():

                def attempt(plan):
                    empty_tables()
                    clock = SimClock()
                    server.records.time = clock
                    return run_crash(app, Factories(app), crash_server, plan, clock, folder)

                if args.range:
                    plans = [make_concurrent_plan(s) for s in range(*args.range)]
                    failed, _ = run_many(attempt, plans, f"crash ({backend})")
                    print(
                        f"crash: {crash_server.killed_workers()} workers killed, "
                        f"{crash_server.restarts} whole-server restarts"
                    )
                else:
                    simulation, problems = attempt(plan_of(args.seed))
                    print(
                        simulation.report(problems) if problems else "\n".join(simulation.history)
                    )
                    print(simulation.stats)
                    failed = problems
                db.session.remove()
                db.engine.dispose()
        finally:
            crash_server.stop()
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
