"""Many convergence histories over HTTP, outside pytest (`make convergence-http`): seeds
FIRST..STOP-1 of tests/sync/simulation/ against the Flask app on SQLite or PostgreSQL,
split over SHARDS processes (each with its own database: seeds i, i+SHARDS, ...).

Each failing seed is printed with its first violation, and its whole report (history and
replay command) is written beside the others in REPORTS; then the figure: histories,
failed, seconds. The exit status is 1 when any failed.

    .venv/bin/python -m tests.server.syncing.sweep --database sqlite --range 0 10000 --shards 2
    .venv/bin/python -m tests.server.syncing.sweep --database postgres --range 0 10000 \\
        --pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres

Costs cut (profiled with pyinstrument): the app and its migrated database are made once
per process and emptied between histories with DELETE (tests/conftest.py does the same);
SQLite's file lives on a RAM disk (/dev/shm) when there is one, so a commit costs no disk
flush, with the same SQL and locking; server logging below WARNING is off (a meeting's
alerts log a line each).
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.sync.simulation.plan import make_plan

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--range", nargs=2, type=int, default=(0, 10_000), metavar=("FIRST", "STOP")
    )
    parser.add_argument("--shards", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--shard", help="i/n: run only seeds FIRST+i, FIRST+i+n, ... (a worker)")
    parser.add_argument("--pg-admin-url", default=os.environ.get("PG_ADMIN_URL", PG_ADMIN_URL))
    parser.add_argument("--reports", default=None, help="folder for failing seeds' reports")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="stop taking seeds after this long (a time-boxed run: the figure says how many ran)",
    )
    return parser.parse_args(argv)


def scratch_folder() -> str:
    """A folder for a SQLite file: a RAM disk when there is one (no flush per commit)."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return tempfile.mkdtemp(prefix="booth-sweep-", dir=base)


class Database:
    """A throwaway database for one worker: a SQLite file or a PostgreSQL database."""

    def __init__(self, kind, admin_url):
        self.kind, self.admin_url = kind, admin_url
        if kind == "sqlite":
            self.folder = scratch_folder()
            self.url = f"sqlite:///{self.folder}/sweep.db"
            return
        import psycopg

        self.name = "booth_sweep_" + uuid.uuid4().hex[:10]
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{base}/{self.name}"

    def drop(self):
        if self.kind == "sqlite":
            for path in Path(self.folder).iterdir():
                path.unlink()
            Path(self.folder).rmdir()
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_shard(args, seeds) -> dict:
    """Run `seeds` on a fresh app and database; answer the shard's figures."""
    from server.extensions import db
    from tests.server.syncing.simulation import history_app, history_runner

    logging.disable(logging.INFO)
    reports = Path(args.reports or tempfile.mkdtemp(prefix="convergence-http-"))
    reports.mkdir(parents=True, exist_ok=True)
    database = Database(args.database, args.pg_admin_url)
    started, failed = time.monotonic(), []
    try:
        app = history_app(database.url)
        with app.app_context():
            attempt = history_runner(app)
            ran = 0
            for done, seed in enumerate(seeds, 1):
                if args.minutes and time.monotonic() - started > args.minutes * 60:
                    break
                ran = done
                simulation, problems = attempt(make_plan(seed))
                if problems:
                    failed.append(seed)
                    path = reports / f"{args.database}-seed-{seed}.txt"
                    path.write_text(simulation.report(problems), encoding="utf-8")
                    print(f"seed {seed}: {problems[0]} (report: {path})", flush=True)
                if done % 100 == 0:
                    elapsed = time.monotonic() - started
                    print(f"  shard {args.shard}: {done}/{len(seeds)}, {elapsed:.0f} s", flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()
    return {
        "histories": ran,
        "last_seed": seeds[ran - 1] if ran else None,
        "failed": failed,
        "seconds": time.monotonic() - started,
    }


def run_shards(args) -> int:
    """Start one worker per shard, wait for all, print the figure; answer the exit status."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="convergence-http-"))
    reports = args.reports or str(folder)
    workers = []
    for index in range(args.shards):
        out = folder / f"shard-{index}.json"
        command = [
            sys.executable,
            "-m",
            "tests.server.syncing.sweep",
            "--database",
            args.database,
            "--range",
            *map(str, args.range),
            "--shard",
            f"{index}/{args.shards}",
            "--pg-admin-url",
            args.pg_admin_url,
            "--reports",
            reports,
            *(["--minutes", str(args.minutes)] if args.minutes else []),
        ]
        workers.append((subprocess.Popen(command, env={**os.environ, "SWEEP_OUT": str(out)}), out))
    histories, failed, last = 0, [], []
    for process, out in workers:
        if process.wait() != 0 or not out.exists():
            print(f"a worker stopped with status {process.returncode}", flush=True)
            failed.append(None)
            continue
        figures = json.loads(out.read_text())
        histories += figures["histories"]
        failed += figures["failed"]
        last.append(figures["last_seed"])
    elapsed = time.monotonic() - started
    seeds = sorted(s for s in failed if s is not None)
    wanted = args.range[1] - args.range[0]
    cut = (
        f" (time box: seeds up to {max(s for s in last if s is not None)})"
        if histories < wanted
        else ""
    )
    print(
        f"{args.database}: {histories} histories over HTTP{cut}, {len(failed)} failed, "
        f"{elapsed:.0f} s on {args.shards} processes: {seeds}"
        + (f" (reports in {reports})" if failed else ""),
        flush=True,
    )
    return 1 if failed else 0


def main(argv=None):  # pragma: no cover - a developer's tool
    args = arguments(argv)
    if args.shard is None:
        raise SystemExit(run_shards(args))
    index, count = (int(n) for n in args.shard.split("/"))
    seeds = list(range(args.range[0] + index, args.range[1], count))
    figures = run_shard(args, seeds)
    if "SWEEP_OUT" in os.environ:
        Path(os.environ["SWEEP_OUT"]).write_text(json.dumps(figures))
    else:
        print(figures)
        raise SystemExit(1 if figures["failed"] else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
