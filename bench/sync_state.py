"""State scale: every Jharkhand booth's squad pushed through the API, then pulled per block.

29,562 booths in 264 blocks (24 districts, 4,345 panchayats, 81 assembly seats) and one
volunteer per booth and one president per block are written in bulk SQL; then each
volunteer pushes its 20 members in one batch (≈ 591,000 members through the API), and
each block president pulls its whole block from an empty cursor. Printed: time of each
phase and in total, and the peak resident memory of the gunicorn workers (from /proc).
Heavy: `--booths` scales it down (blocks and panchayats follow in proportion).

    .venv/bin/python bench/sync_state.py [--booths 29562] [--members 20] [--clients 4]
"""

import argparse
import itertools
import threading
import time

from syncbench import (
    WORKERS,
    AutoAnalyze,
    GunicornServer,
    MemorySampler,
    Phone,
    Seeder,
    Typist,
    context_lines,
    first_problems,
    in_parallel,
    init_schema,
    throwaway_database,
    uuid_from,
    write_report,
)

STATE_BOOTHS, STATE_BLOCKS, STATE_PANCHAYATS, DISTRICTS = 29_562, 264, 4_345, 24
MIB = 2**20


def block_sizes(booths: int) -> list[int]:
    """Booths per block: the state's 264 blocks, or fewer in proportion for a smaller run."""
    blocks = max(1, round(STATE_BLOCKS * booths / STATE_BOOTHS))
    return [booths // blocks + (i < booths % blocks) for i in range(blocks)]


class Progress:
    """Prints how far a phase is every `every` seconds (the rate since the last line, and
    the time left at that rate) and keeps the rate of each tenth of the work, which shows
    whether the cost of a push grows with the size of the database."""

    def __init__(self, label, total, unit, memory, every=30):
        self.label, self.total, self.unit, self.memory, self.every = (
            label,
            total,
            unit,
            memory,
            every,
        )
        self.done = self.last_done = 0
        self.started = self.last = time.perf_counter()
        self.tenth_times = [self.started]
        self.lock = threading.Lock()

    def add(self, n):
        with self.lock:
            self.done += n
            now = time.perf_counter()
            while (
                len(self.tenth_times) <= 10 and self.done >= self.total * len(self.tenth_times) / 10
            ):
                self.tenth_times.append(now)
            if now - self.last >= self.every or self.done == self.total:
                rate = (self.done - self.last_done) / (now - self.last)
                self.last, self.last_done = now, self.done
                left = (self.total - self.done) / rate if rate else 0
                print(
                    f"  {self.label}: {self.done:,}/{self.total:,} {self.unit} "
                    f"({self.done / self.total:.0%}) in {now - self.started:,.0f} s, now "
                    f"{rate:,.0f}/s, about {left / 60:.0f} min left at that rate; workers' "
                    f"peak RSS {self.memory.peak_total / MIB:.0f} MiB",
                    flush=True,
                )

    def tenths(self) -> list[float]:
        """Rate in each tenth of the work done so far."""
        step = self.total / 10
        times = self.tenth_times
        return [step / (b - a) for a, b in itertools.pairwise(times) if b > a]


def run(args):
    sizes = block_sizes(args.booths)
    panchayats = round(STATE_PANCHAYATS * args.booths / STATE_BOOTHS)
    figures = {"booths": args.booths, "blocks": len(sizes), "members": args.booths * args.members}
    began = time.perf_counter()
    with throwaway_database(prefix="booth_bench_state_") as url:
        init_schema(url)
        started = time.perf_counter()
        seeder = Seeder(url)
        blocks = seeder.geography(
            sizes, districts=min(DISTRICTS, len(sizes)), panchayats=panchayats
        )
        booths = [booth for block in blocks for booth in block.booths]
        volunteers = seeder.people([("volunteer", booth) for booth in booths])
        presidents = seeder.people([("block_president", block.id) for block in blocks])
        seeder.close()
        figures["seed_seconds"] = time.perf_counter() - started
        print(
            f"seeded {len(booths):,} booths in {len(blocks)} blocks, {len(volunteers):,} "
            f"volunteers and {len(presidents)} block presidents in bulk SQL in "
            f"{figures['seed_seconds']:.0f} s",
            flush=True,
        )
        with (
            GunicornServer(url, workers=WORKERS, timeout=600) as server,
            AutoAnalyze(url) as analyze,
        ):
            with MemorySampler(server, every_seconds=1) as memory:
                push_phase(server, volunteers, args, memory, figures)
                figures["rss_after_push"] = memory.peak_total
                pull_phase(server, presidents, blocks, args, memory, figures)
                memory.sample()
            figures["peak_rss"] = memory.peak_total
            figures["peak_worker_rss"] = memory.peak_worker
            context = context_lines(url, analyze.note())
    figures["total_seconds"] = time.perf_counter() - began
    report(args, figures, context)


def push_phase(server, volunteers, args, memory, figures):
    progress = Progress("push", len(volunteers) * args.members, "members", memory)
    statuses: dict[str, int] = {}
    problems = []

    def push_squad(n):
        phone = Phone(server.url, volunteers[n])
        typist = Typist(n, epic_prefix="JHS")
        typist.epics = n * args.members  # EPICs stay unique across the state
        mutations = [
            phone.mutation(uuid_from(typist.random), typist.member(phone.person.unit_id))
            for _ in range(args.members)
        ]
        return phone.push(mutations).answer["results"]

    started = time.perf_counter()
    for results in in_parallel(push_squad, range(len(volunteers)), args.clients):
        for result in results:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        problems.extend(first_problems(results, 1))
        progress.add(len(results))
    figures["push_seconds"] = time.perf_counter() - started
    figures["push_statuses"] = statuses
    figures["push_tenths"] = progress.tenths()
    if problems:
        print("  not applied, e.g.:", problems[:3], flush=True)
    print(
        f"pushed {sum(statuses.values()):,} members in {figures['push_seconds']:,.0f} s "
        f"({sum(statuses.values()) / figures['push_seconds']:,.0f}/s): {statuses}",
        flush=True,
    )


def pull_phase(server, presidents, blocks, args, memory, figures):
    progress = Progress("pull", len(blocks), "blocks", memory)
    records = pages = wire = 0
    short = []

    def pull_block(n):
        phone = Phone(server.url, presidents[n])
        got = phone.pull_all(limit=500)
        members = sum(
            1 for page in got for change in page.answer["changes"] if change["entity"] == "member"
        )
        return n, members, len(got), sum(page.bytes_down for page in got)

    started = time.perf_counter()
    for n, members, n_pages, n_bytes in in_parallel(pull_block, range(len(blocks)), args.clients):
        records += members
        pages += n_pages
        wire += n_bytes
        if members != len(blocks[n].booths) * args.members:
            short.append((blocks[n].id, members))
        progress.add(1)
    figures.update(
        pull_seconds=time.perf_counter() - started,
        pulled=records,
        pull_pages=pages,
        pull_bytes=wire,
        short_blocks=short,
    )
    print(
        f"pulled {records:,} members in {pages:,} pages ({wire / MIB:.0f} MiB on the wire) "
        f"in {figures['pull_seconds']:,.0f} s; blocks with missing members: {short[:5] or 'none'}",
        flush=True,
    )


def report(args, f, context):
    pushed = sum(f["push_statuses"].values())
    full = args.booths == STATE_BOOTHS and args.members == 20
    scale = "the full state" if full else f"a scaled-down run ({args.booths:,} booths)"
    print(
        f"state: {f['members']:,} members in {f['booths']:,} booths, {f['blocks']} blocks; "
        f"push {f['push_seconds']:,.0f} s, pull {f['pull_seconds']:,.0f} s, total "
        f"{f['total_seconds'] / 60:,.1f} min; workers' peak RSS {f['peak_rss'] / MIB:.0f} MiB "
        f"(one worker at most {f['peak_worker_rss'] / MIB:.0f} MiB)"
    )
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(f["push_statuses"].items()))
    lines = [
        *context,
        f"{scale.capitalize()}: {f['booths']:,} booths in {f['blocks']} blocks, "
        f"{args.members} members each pushed by the booth's volunteer in one batch "
        f"({args.clients} client threads), then each block president pulls the block "
        "from an empty cursor.",
        "",
        "| phase | amount | time | rate |",
        "|---|---|---|---|",
        f"| bulk SQL seed (units, users, devices) | {f['booths']:,} booths | "
        f"{f['seed_seconds']:,.0f} s | |",
        f"| push through the API | {pushed:,} members ({statuses}) | "
        f"{f['push_seconds']:,.0f} s | {pushed / f['push_seconds']:,.0f} members/s |",
        f"| pull per block | {f['pulled']:,} members, {f['pull_pages']:,} pages, "
        f"{f['pull_bytes'] / MIB:.0f} MiB on the wire | {f['pull_seconds']:,.0f} s | "
        f"{f['pulled'] / f['pull_seconds']:,.0f} members/s |",
        f"| total (with schema and seeding) | | {f['total_seconds'] / 60:,.1f} min | |",
        "",
        "Push rate in each tenth of the run (members/s): "
        + ", ".join(f"{rate:,.0f}" for rate in f["push_tenths"])
        + ". A falling rate means a push costs more as the roster grows.",
        "",
        f"Peak RSS of the {WORKERS} gunicorn workers together: **{f['peak_rss'] / MIB:.0f} MiB** "
        f"(one worker at most {f['peak_worker_rss'] / MIB:.0f} MiB; after the push phase "
        f"{f['rss_after_push'] / MIB:.0f} MiB). Blocks that pulled fewer members than they "
        f"hold: {len(f['short_blocks'])}.",
    ]
    write_report("State scale", lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booths", type=int, default=STATE_BOOTHS)
    parser.add_argument("--members", type=int, default=20, help="members per booth (≤ 20)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
