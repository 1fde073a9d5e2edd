"""Where a push spends its time: one device's batches run in-process under cProfile.

Not a benchmark with a target: a tool to find hotspots when sync_push.py misses its
target. It seeds a throwaway PostgreSQL database, then pushes one batch of new members
and one batch of edits through the Flask test client (the same view, service and engine
code gunicorn runs), counting SQL statements and round trips per mutation.

    .venv/bin/python bench/sync_profile.py [--batch 100] [--top 25]
"""

import argparse
import cProfile
import gzip
import io
import json
import pstats
import time

from sqlalchemy import event
from syncbench import Seeder, Typist, init_schema, throwaway_database, uuid_from, wire

from tests.server.syncing.server_process import app_for


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        self.seconds = 0.0
        self.by_kind: dict[str, int] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()
        kind = statement.split(None, 1)[0].upper()
        if kind == "SELECT" and "FOR" in statement and "UPDATE" in statement:
            kind = "SELECT ... FOR UPDATE"
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        self.count += 1

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - conn.info.pop("t0", time.perf_counter())

    def reset(self):
        self.count, self.seconds, self.by_kind = 0, 0.0, {}


def package_of(filename: str) -> str:
    """The library (or our package) a profiled function lives in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    for ours in ("/server/", "/sync/"):
        if ours in filename:
            return ours.strip("/")
    return "python" if filename.startswith(("<", "~")) or "/lib/python" in filename else filename


def by_package(stats: pstats.Stats) -> str:
    """Own time per package: where the CPU goes, not which function calls which."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        totals[package_of(filename)] = totals.get(package_of(filename), 0.0) + tottime
    whole = sum(totals.values())
    top = sorted(totals.items(), key=lambda kv: -kv[1])[:8]
    return ", ".join(f"{name} {seconds / whole:.0%}" for name, seconds in top)


class Pusher:
    """One block president's phone pushing through the Flask test client."""

    def __init__(self, client, person, block, batch, seed):
        self.client, self.person, self.block = client, person, block
        self.typist = Typist(seed, epic_prefix="JHP" if seed else "JHQ")
        self.members = [uuid_from(self.typist.random) for _ in range(batch)]
        self.versions = {}
        self.seq = 0

    def creates(self):
        booths = self.block.booths
        return self.batch(
            lambda n: (
                None,
                self.typist.member(booths[n * len(booths) // len(self.members)]),
            )
        )

    def edits(self):
        return self.batch(
            lambda n: (self.versions[self.members[n]], self.typist.member_edit("notes"))
        )

    def batch(self, make):
        mutations = []
        for n, member_id in enumerate(self.members):
            self.seq += 1
            base, fields = make(n)
            stamp = wire.hlc(int(time.time() * 1000), self.seq % 0xFFFF, self.person.device_id)
            mutations.append(wire.mutation(self.seq, "member", member_id, stamp, fields, base))
        return mutations

    def push(self, mutations):
        body = gzip.compress(wire.encode(wire.push_body(self.person.device_id, mutations, None)))
        headers = {
            "Authorization": f"Bearer {self.person.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        }
        response = self.client.post(wire.PUSH_PATH, data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        results = json.loads(gzip.decompress(response.get_data()))["results"]
        for result in results:
            self.versions[result["id"]] = result["version"]
        return results


def run(args):
    with throwaway_database(prefix="booth_bench_prof_") as url:
        init_schema(url)
        seeder = Seeder(url)
        blocks = seeder.geography([max(1, -(-args.batch // 20))] * 2, districts=1)
        people = seeder.people([("block_president", block.id) for block in blocks])
        seeder.close()

        app = app_for(url)
        client = app.test_client()
        from server.extensions import db

        with app.app_context():
            counter = StatementCounter(db.engine)
        # The same work twice: once timed without a profiler, once under cProfile.
        plain, profiled = (
            Pusher(client, person, block, args.batch, seed)
            for seed, (person, block) in enumerate(zip(people, blocks, strict=True))
        )
        for label, kind in (("new members", "creates"), ("edits", "edits")):
            mutations = getattr(plain, kind)()
            counter.reset()
            started, cpu = time.perf_counter(), time.process_time()
            results = plain.push(mutations)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            statuses = {}
            for r in results:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            n = len(mutations)
            print(
                f"\n== {label}: {n} mutations in {seconds:.2f} s ({n / seconds:.0f}/s in one "
                f"process; {cpu / n * 1000:.1f} ms of its CPU a mutation); {counter.count} SQL "
                f"statements ({counter.count / n:.1f} a mutation), {counter.seconds:.2f} s in "
                f"them; {dict(sorted(counter.by_kind.items()))}; {statuses}"
            )
            mutations = getattr(profiled, kind)()
            # CPU time, not wall time: waiting on PostgreSQL is not a hotspot of this process.
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            profiled.push(mutations)
            profile.disable()
            stats = pstats.Stats(profile)
            print("   own time by package:", by_package(stats))
            for order, restrict in (("tottime", ()), ("cumulative", (r"/(server|sync)/",))):
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(order).print_stats(*restrict, args.top)
                print(out.getvalue().split("\n", 6)[-1].rstrip())
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
