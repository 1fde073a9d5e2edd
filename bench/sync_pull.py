"""A block president's first pull of a block of 150 booths: 3,000 members, 1,000 grievances.

The block's 150 volunteers push their squads (20 members each) and then their grievances
through the API; the block president's new phone then pulls from an empty cursor, 500
records a page, with `Accept-Encoding: gzip`. Printed: time, pages, bytes on the wire
(status line, headers and gzipped bodies; up and down), and bytes per member, measured
on the pages that hold only members (members commit before grievances, so the first
pages are all members). Target: at most 120 bytes per member compressed.

    .venv/bin/python bench/sync_pull.py [--booths 150] [--members 20] [--grievances 1000]
"""

import argparse
import gzip
import json
import time

from syncbench import (
    WORKERS,
    AutoAnalyze,
    GunicornServer,
    Phone,
    Seeder,
    Typist,
    context_lines,
    count_statuses,
    first_problems,
    in_parallel,
    init_schema,
    mean,
    throwaway_database,
    uuid_from,
    write_report,
)

TARGET = 120
CLIENTS = 4


def seed_block(url, server, args):
    """Volunteers push members, then grievances, through the API (two waves)."""
    seeder = Seeder(url)
    [block] = seeder.geography([args.booths], districts=1)
    people = seeder.people(
        [("volunteer", booth) for booth in block.booths] + [("block_president", block.id)]
    )
    seeder.close()
    volunteers, president = people[:-1], people[-1]
    phones = [Phone(server.url, person) for person in volunteers]
    now = int(time.time() * 1000)

    def push_squad(n):
        phone, typist = (
            phones[n],
            Typist(n, epic_prefix="JH" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26]),
        )
        typist.epics = (n // 26) * 1000
        mutations = [
            phone.mutation(uuid_from(typist.random), typist.member(phone.person.unit_id))
            for _ in range(args.members)
        ]
        return phone.push(mutations).answer["results"]

    def push_grievances(n):
        phone, typist = phones[n], Typist(10_000 + n)
        share = args.grievances // len(phones) + (n < args.grievances % len(phones))
        mutations = [
            phone.mutation(
                uuid_from(typist.random),
                typist.grievance(phone.person.unit_id, now),
                None,
                "grievance",
            )
            for _ in range(share)
        ]
        return phone.push(mutations).answer["results"] if mutations else []

    for label, work in (("members", push_squad), ("grievances", push_grievances)):
        started = time.perf_counter()
        results = [r for batch in in_parallel(work, range(len(phones)), CLIENTS) for r in batch]
        statuses = count_statuses(results)
        print(
            f"seeded {len(results)} {label} through the API in "
            f"{time.perf_counter() - started:.1f} s: {statuses}",
            flush=True,
        )
        if first_problems(results):
            raise RuntimeError(f"seeding refused some {label}: {first_problems(results)}")
    return president


def run(args):
    with throwaway_database(prefix="booth_bench_pull_") as url:
        init_schema(url)
        with GunicornServer(url, workers=WORKERS) as server, AutoAnalyze(url) as analyze:
            president = seed_block(url, server, args)
            phone = Phone(server.url, president)
            started = time.perf_counter()
            pages = phone.pull_all(limit=500)
            seconds = time.perf_counter() - started
            context = context_lines(url, analyze.note())
        report(args, pages, seconds, context)


def report(args, pages, seconds, context):
    entities: dict[str, int] = {}
    member_bytes = member_count = member_plain = 0
    for page in pages:
        kinds = {c["entity"] for c in page.answer["changes"]}
        for change in page.answer["changes"]:
            entities[change["entity"]] = entities.get(change["entity"], 0) + 1
        if kinds == {"member"}:
            member_bytes += page.bytes_down
            member_count += len(page.answer["changes"])
            member_plain += len(
                json.dumps(page.answer, ensure_ascii=False, separators=(",", ":")).encode()
            )
    down = sum(p.bytes_down for p in pages)
    up = sum(p.bytes_up for p in pages)
    body = sum(p.body_down for p in pages)
    plain = sum(
        len(json.dumps(p.answer, ensure_ascii=False, separators=(",", ":")).encode()) for p in pages
    )
    per_member = member_bytes / member_count if member_count else float("nan")
    expected = {"member": args.booths * args.members, "grievance": args.grievances}
    complete = all(entities.get(k, 0) == v for k, v in expected.items())
    met = "met" if per_member <= TARGET else "NOT met"
    print(
        f"pull: {sum(entities.values())} records {entities} in {len(pages)} pages, "
        f"{seconds:.2f} s; {down / 1024:.0f} KiB down ({body / 1024:.0f} KiB gzipped bodies, "
        f"{plain / 1024:.0f} KiB as plain JSON), {up / 1024:.1f} KiB up; "
        f"{per_member:.0f} bytes per member (target {TARGET}: {met}); all records: {complete}"
    )
    if not complete:
        raise RuntimeError(f"the pull missed records: got {entities}, expected {expected}")
    gzip_level_9 = len(
        gzip.compress(
            json.dumps(pages[0].answer, ensure_ascii=False, separators=(",", ":")).encode(), 9
        )
    ) / len(pages[0].answer["changes"])
    lines = [
        *context,
        f"A block of {args.booths} booths: {expected['member']} members and "
        f"{expected['grievance']} grievances pushed by its volunteers through the API; the "
        "block president's new phone pulls from an empty cursor, 500 records a page, "
        "`Accept-Encoding: gzip`.",
        "",
        "| records | pages | time | page p50 | down (wire) | gzipped bodies | as plain JSON | up |",
        "|---|---|---|---|---|---|---|---|",
        f"| {sum(entities.values())} | {len(pages)} | {seconds:.2f} s | "
        f"{sorted(p.seconds for p in pages)[len(pages) // 2]:.2f} s | {down / 1024:.0f} KiB | "
        f"{body / 1024:.0f} KiB | {plain / 1024:.0f} KiB | {up / 1024:.1f} KiB |",
        "",
        f"Bytes per member on the wire (pages of members only, headers included): "
        f"**{per_member:.0f}** ({member_plain / member_count:.0f} as plain JSON; "
        f"{gzip_level_9:.0f} if the server gzipped at level 9). "
        f"Target ≤ {TARGET}: **{met}**. Mean page time {mean([p.seconds for p in pages]):.2f} s.",
    ]
    write_report("Block president's first pull", lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booths", type=int, default=150)
    parser.add_argument("--members", type=int, default=20, help="members per booth (≤ 20)")
    parser.add_argument("--grievances", type=int, default=1000)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
