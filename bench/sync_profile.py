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
from syncbench import Seeder, Typist, init_schema, throwaway_database, uuid_from

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


def run(args):
    with throwaway_database(prefix="booth_bench_prof_") as url:
        init_schema(url)
        seeder = Seeder(url)
        [block] = seeder.geography([max(1, -(-args.batch // 20))], districts=1)
        [person] = seeder.people([("block_president", block.id)])
        seeder.close()

        app = app_for(url)
        client = app.test_client()
        from server.extensions import db

        with app.app_context():
            counter = StatementCounter(db.engine)
        typist = Typist(1)
        members = [uuid_from(typist.random) for _ in range(args.batch)]
        seq = 0

        def batch(make):
            nonlocal seq
            mutations = []
            for n, member_id in enumerate(members):
                seq += 1
                mutations.append(
                    {
                        "seq": seq,
                        "entity": "member",
                        "op": "upsert",
                        "id": member_id,
                        "hlc": f"{int(time.time() * 1000):013d}-{seq % 0xFFFF:04x}-{person.device_id}",
                        **make(n),
                    }
                )
            return mutations

        def push(mutations, label):
            body = gzip.compress(
                json.dumps(
                    {"device_id": person.device_id, "schema_version": 1, "mutations": mutations},
                    ensure_ascii=False,
                ).encode()
            )
            headers = {
                "Authorization": f"Bearer {person.token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Accept-Encoding": "gzip",
            }
            counter.reset()
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            response = client.post("/api/sync/push", data=body, headers=headers)
            profile.disable()
            seconds = time.perf_counter() - started
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            results = json.loads(gzip.decompress(response.get_data()))["results"]
            print(
                f"\n== {label}: {len(mutations)} mutations in {seconds:.2f} s "
                f"({len(mutations) / seconds:.0f}/s in one process); {counter.count} SQL "
                f"statements ({counter.count / len(mutations):.1f} a mutation), "
                f"{counter.seconds:.2f} s waiting on PostgreSQL; {dict(sorted(counter.by_kind.items()))}"
            )
            statuses = {}
            for r in results:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            print("   statuses:", statuses)
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue().split("\n", 6)[-1])
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(r"/(server|sync)/", args.top)
            print(out.getvalue().split("\n", 6)[-1])
            return results

        created = push(
            batch(
                lambda n: {
                    "base_version": None,
                    "fields": typist.member(block.booths[n * len(block.booths) // args.batch]),
                }
            ),
            "new members",
        )
        versions = {r["id"]: r["version"] for r in created}
        push(
            batch(
                lambda n: {
                    "base_version": versions[members[n]],
                    "fields": typist.member_edit("notes"),
                }
            ),
            "edits",
        )
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
