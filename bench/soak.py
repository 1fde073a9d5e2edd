"""Soak with faults: 1,000 simulated phones against the production rehearsal for 10 minutes
while workers die, a node stops, PgBouncer and PostgreSQL restart and connections drop;
then every mutation, every phone and the roster rules are verified (`make soak`).

    .venv/bin/python bench/soak.py [--phones 1000] [--minutes 10] [--stack prod|local]
    .venv/bin/python bench/soak.py --short      # 200 phones, 2 minutes, to try it

The figures go to the `## Soak` section of docs/benchmarks.md (not with --no-write).
"""

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from soakbench import crowd, report, verify  # noqa: E402
from soakbench.cpu import CpuSampler  # noqa: E402
from soakbench.faults import Faults  # noqa: E402
from soakbench.net import Net  # noqa: E402
from soakbench.phone import SoakPhone  # noqa: E402
from soakbench.serverlog import server_times  # noqa: E402
from soakbench.stacks import open_stack  # noqa: E402
from syncbench.seeding import Seeder  # noqa: E402

DRAIN_SECONDS = 600


def population(phones: int) -> dict:
    volunteers = max(2, round(phones * 0.9) // 2 * 2)
    presidents = max(1, round(phones * 0.06))
    leaders = max(0, phones - volunteers - presidents)
    booths = volunteers // 2
    blocks = max(1, min(presidents, booths // 20 or 1))
    return dict(
        volunteers=volunteers, presidents=presidents, leaders=leaders, booths=booths, blocks=blocks
    )


def seed(stack, shape: dict, secret_key: str):
    """Geography, users and devices in bulk SQL; the people in phone order."""
    seeder = Seeder(stack.database_url)
    seeder.app.config["SECRET_KEY"] = secret_key
    sizes = [
        shape["booths"] // shape["blocks"] + (i < shape["booths"] % shape["blocks"])
        for i in range(shape["blocks"])
    ]
    blocks = seeder.geography(
        sizes, districts=max(1, min(24, shape["blocks"] // 3)), panchayats=shape["blocks"] * 4
    )
    booths = [b for block in blocks for b in block.booths]
    block_of = {b: block.id for block in blocks for b in block.booths}
    people = seeder.people([("volunteer", booths[n // 2]) for n in range(shape["volunteers"])])
    people += seeder.people(
        [("block_president", blocks[n % len(blocks)].id) for n in range(shape["presidents"])]
    )
    leader_units = [
        ("district_president", blocks[n % len(blocks)].district_id)
        if n % 2 == 0
        else ("connect_centre", 1)
        for n in range(shape["leaders"])
    ]
    people += seeder.people(leader_units)
    seeder.close()
    return people, block_of, [(block.id, block.district_id) for block in blocks]


async def warm_up(phones, actors):
    """Each booth's first volunteer types its starting roster; then every phone pulls."""
    for phone in phones:
        if phone.person.role == "volunteer" and phone.index % 2 == 0:
            for _ in range(crowd.STARTING_MEMBERS):
                actors[phone.index].add_member()
    deadline = time.monotonic() + 300
    await crowd.gather_limited(
        [p.sync_until(deadline, asyncio.sleep, cap=2) for p in phones if p.outbox], 40
    )
    await crowd.gather_limited([p.sync_until(deadline, asyncio.sleep, cap=2) for p in phones], 100)


def actors_of(phones, plan, block_ids) -> dict:
    """Each phone's person (a Volunteer, a President or a Leader), by phone index."""
    actors = {}
    for phone in phones:
        role = phone.person.role
        if role == "volunteer":
            actors[phone.index] = crowd.Volunteer(phone, plan)
        elif role == "block_president":
            actors[phone.index] = crowd.President(phone, plan)
        else:
            actors[phone.index] = crowd.Leader(phone, plan, block_ids)
    return actors


async def soak(args, stack, people, block_of, block_ids) -> dict:
    rng = random.Random(args.seed)
    async with Net(stack.urls, args.drop_rate, args.seed, stack.ca_file) as net:
        phones = [
            SoakPhone(i, person, net, random.Random(rng.getrandbits(64)))
            for i, person in enumerate(people)
        ]
        plan = crowd.Plan(end=time.monotonic() + 1e9)
        net.drop_rate, saved = 0.0, net.drop_rate
        began = time.perf_counter()
        actors = actors_of(phones, plan, block_ids)
        await warm_up(phones, actors)
        print(
            f"warm-up: {sum(len(p.ledger) for p in phones):,} mutations pushed and every phone pulled in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        net.samples.clear()
        net.drop_rate = saved
        started = time.monotonic()
        plan.end = started + args.minutes * 60
        faults = Faults(stack, args.minutes)
        run = {"started": time.time()}
        cpu = CpuSampler(stack.process_groups)
        cpu.start()
        progress = asyncio.create_task(report_progress(net, phones, plan))
        await asyncio.gather(faults.run(started), *(actor.run() for actor in actors.values()))
        samples = list(net.samples)  # the run's; the drain and the checks come after
        run["cpu"] = cpu.stop()
        run["seconds"] = time.time() - run["started"]
        run["server_times"] = server_times(stack.log_paths(), run["started"], time.time())
        progress.cancel()
        faults.close_open()
        print("run over; draining every outbox", flush=True)
        net.drop_rate = 0.0
        began = time.perf_counter()
        stuck = await crowd.drain(phones, DRAIN_SECONDS)
        syncing = [p for p in phones if p.person.role in ("volunteer", "block_president")]
        # One more sync each, now that every phone has sent everything: each hears the rest.
        finals = await crowd.gather_limited(
            [p.sync_until(time.monotonic() + 300, asyncio.sleep, cap=2) for p in syncing], 100
        )
        for phone, finished in zip(syncing, finals, strict=True):
            phone.finished = finished and not phone.outbox
        run["drain"] = time.perf_counter() - began
        print(
            f"drained in {run['drain']:.0f} s; {len(stuck)} phones still had mutations", flush=True
        )
        conn = psycopg.connect(verify.libpq(stack.database_url))
        try:
            ledger = verify.check_ledgers(conn, phones)
            rules = verify.check_rules(conn)
            run["size"] = verify.database_size(conn)
            converge = await verify.check_convergence(conn, syncing, block_of)
        finally:
            conn.close()
        statuses, codes = Counter(), Counter()
        for phone in phones:
            for entry in phone.ledger.values():
                if entry.first:
                    statuses[entry.first["status"]] += 1
                    if entry.first.get("error"):
                        codes[entry.first["error"].get("code")] += 1
        run.update(statuses=dict(statuses), statuses_by_code=dict(codes))
        return dict(
            run=run,
            samples=samples,
            drain_samples=net.samples[len(samples) :],
            faults=faults,
            ledger=ledger,
            rules=rules,
            converge=converge,
        )


async def report_progress(net, phones, plan, every=30):
    while True:
        await asyncio.sleep(every)
        recent = [s for s in net.samples if s.started > time.time() - every]
        ok = [s.seconds for s in recent if s.outcome == "ok" and s.kind == "push"]
        failed = Counter(s.outcome for s in recent if s.outcome != "ok")
        queued = sum(len(p.outbox) for p in phones)
        left = max(0, plan.end - time.monotonic())
        print(
            f"  {len(recent)} requests in {every} s, push p95 "
            f"{report.percentile(ok, 95) * 1000:.0f} ms, failed {dict(failed)}, {queued} queued "
            f"in outboxes, {left:.0f} s left",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--short", action="store_true", help="200 phones for 2 minutes")
    parser.add_argument("--stack", choices=("prod", "local"), default="prod")
    parser.add_argument("--drop-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    args = parser.parse_args()
    if args.short:
        args.phones, args.minutes = 200, 2.0
    shape = population(args.phones)
    with open_stack(args.stack) as stack:
        people, block_of, block_ids = seed(stack, shape, stack.secret_key)
        print(f"seeded {shape}", flush=True)
        run_context = report.context(stack.database_url)
        result = asyncio.run(soak(args, stack, people, block_of, block_ids))
    run = {
        **result["run"],
        **run_context,
        **shape,
        "drain_samples": result["drain_samples"],
        "starting": crowd.STARTING_MEMBERS,
        "stack": stack.description,
    }
    lines = report.lines_for(
        args,
        run,
        result["samples"],
        result["faults"],
        result["ledger"],
        result["rules"],
        result["converge"],
    )
    print("\n".join(lines))
    for name in ("lost", "duplicated", "mismatched"):
        for problem in result["ledger"][name][:10]:
            print(f"  {name}: {problem}")
    for problem in result["converge"]["diverged"][:10]:
        print(f"  diverged: {problem}")
    if not args.no_write:
        report.write_section(
            [
                "    make soak                                  # 1,000 phones, 10 minutes",
                "    .venv/bin/python bench/soak.py --short     # 200 phones, 2 minutes",
                "",
                *lines,
            ]
        )
    bad = (
        result["ledger"]["lost"] or result["ledger"]["duplicated"] or result["converge"]["diverged"]
    )
    sys.exit(1 if bad or result["rules"]["over_cap"] or result["rules"]["epic_twice"] else 0)


if __name__ == "__main__":
    main()
