"""Push throughput: 50 devices push batches of 100 new or edited members at once.

Each device belongs to its own user, a block president over 5 booths of its own block:
a batch of 100 distinct members needs 5 booths, because a booth holds 20 pending or
approved members and the app folds edits of one record into one outbox entry
(pwa/src/sync/outbox.js), so a single volunteer never sends 100 distinct members.
Round 1 creates 100 members per device (20 a booth, none waitlisted); each later round
edits all 100, a quarter of them from a stale base version on a field nobody else
touched (merged), the rest from the version the last answer gave (applied).
Target: at least 2,000 mutations a second merged.

    .venv/bin/python bench/sync_push.py [--devices 50] [--rounds 5] [--batch 100]
"""

import argparse
import threading
import time

from syncbench import (
    WORKERS,
    AutoAnalyze,
    CpuMeter,
    GunicornServer,
    MemorySampler,
    Phone,
    Seeder,
    Typist,
    context_lines,
    count_statuses,
    first_problems,
    init_schema,
    load_average,
    percentile,
    throwaway_database,
    uuid_from,
    write_report,
)

TARGET = 2000
EDITED_FIELDS = ("notes", "phone", "skills", "age", "name")


class Device:
    """A block president's phone with the members it typed and the versions it last saw."""

    def __init__(self, base_url, person, booths, batch, seed):
        self.phone = Phone(base_url, person)
        self.typist = Typist(seed, epic_prefix="JH" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[seed % 26])
        self.typist.epics = (seed // 26) * 1_000
        self.booths = booths
        self.batch = batch
        self.members = []  # ids
        self.versions = {}  # id -> [version after each of its writes]
        self.last_field = {}

    def round_mutations(self, round_no):
        rng = self.typist.random
        if round_no == 1:
            mutations = []
            for n in range(self.batch):
                member_id = uuid_from(rng)
                self.members.append(member_id)
                booth = self.booths[n * len(self.booths) // self.batch]
                mutations.append(self.phone.mutation(member_id, self.typist.member(booth)))
            return mutations
        mutations = []
        for n, member_id in enumerate(self.members):
            history = self.versions[member_id]
            stale = n % 4 == round_no % 4 and len(history) >= 2
            # A stale edit changes a field other than the one written since its base.
            choices = [f for f in EDITED_FIELDS if f != self.last_field.get(member_id)]
            field_name = rng.choice(choices)
            self.last_field[member_id] = field_name
            base = history[-2] if stale else history[-1]
            mutations.append(
                self.phone.mutation(member_id, self.typist.member_edit(field_name), base)
            )
        return mutations

    def push(self, mutations):
        exchange = self.phone.push(mutations)
        for result in exchange.answer["results"]:
            if result["status"] in ("applied", "merged", "conflict"):
                self.versions.setdefault(result["id"], []).append(result["version"])
        return exchange


def run(args):
    with throwaway_database(prefix="booth_bench_push_") as url:
        print(f"database ready; schema via flask init-db ({args.devices} devices)", flush=True)
        init_schema(url)
        seeder = Seeder(url)
        booths_each = max(1, -(-args.batch // 20))
        blocks = seeder.geography([booths_each] * args.devices, districts=min(24, args.devices))
        people = seeder.people([("block_president", b.id) for b in blocks])
        seeder.close()
        with (
            GunicornServer(url, workers=WORKERS) as server,
            MemorySampler(server) as memory,
            AutoAnalyze(url) as analyze,
        ):
            devices = [
                Device(server.url, person, block.booths, args.batch, seed)
                for seed, (person, block) in enumerate(zip(people, blocks, strict=True))
            ]
            rounds = []
            cpu = CpuMeter(server, url)
            cpu.reading()
            for round_no in range(1, args.rounds + 1):
                rounds.append(push_round(devices, round_no))
                r = rounds[-1]
                r["cpu"] = cpu.reading()
                print(
                    f"round {round_no} ({r['kind']}): {r['mutations']} mutations in "
                    f"{r['seconds']:.1f} s = {r['rate']:.0f}/s; batch p50 {r['p50']:.2f} s, "
                    f"p95 {r['p95']:.2f} s; CPU a mutation: app "
                    f"{r['cpu']['app'] / r['mutations'] * 1000:.1f} ms, PostgreSQL "
                    f"{r['cpu']['db'] / r['mutations'] * 1000:.1f} ms, client "
                    f"{r['cpu']['client'] / r['mutations'] * 1000:.1f} ms; load average "
                    f"{load_average()}; {r['statuses']}",
                    flush=True,
                )
            cpu.close()
            peak = memory.peak_total
            context = context_lines(url, analyze.note())
        report(args, rounds, peak, context)


def push_round(devices, round_no):
    batches = [d.round_mutations(round_no) for d in devices]
    latencies, statuses, problems, errors = [], {}, [], []
    start = threading.Barrier(len(devices) + 1)

    def device_pushes(device, mutations):
        start.wait()
        try:
            exchange = device.push(mutations)
        except Exception as exc:
            errors.append(repr(exc))
            return
        latencies.append(exchange.seconds)
        for status, n in count_statuses(exchange.answer["results"]).items():
            statuses[status] = statuses.get(status, 0) + n
        problems.extend(first_problems(exchange.answer["results"], 1))

    threads = [
        threading.Thread(target=device_pushes, args=(d, m))
        for d, m in zip(devices, batches, strict=True)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} pushes failed, e.g. {errors[0]}")
    if problems:
        print("  not merged, e.g.:", problems[:2], flush=True)
    merged = statuses.get("applied", 0) + statuses.get("merged", 0)
    return {
        "kind": "new members" if round_no == 1 else "edits",
        "mutations": sum(len(b) for b in batches),
        "merged": merged,
        "seconds": seconds,
        "rate": merged / seconds,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "latencies": latencies,
        "statuses": statuses,
    }


def report(args, rounds, peak_rss, context):
    merged = sum(r["merged"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    rate = merged / seconds
    latencies = [x for r in rounds for x in r["latencies"]]
    met = "met" if rate >= TARGET else "NOT met"
    print(
        f"push: {merged} mutations merged in {seconds:.1f} s = {rate:.0f} mutations/s "
        f"(target {TARGET}: {met}); batch latency p50 {percentile(latencies, 50):.2f} s, "
        f"p95 {percentile(latencies, 95):.2f} s; peak worker RSS {peak_rss / 2**20:.0f} MiB"
    )
    lines = [
        *context,
        f"{args.devices} devices at once, each its own block president over "
        f"{max(1, -(-args.batch // 20))} booths, batches of {args.batch} members; round 1 "
        "creates them, later rounds edit each once (a quarter from a stale base, merged).",
        "",
        "CPU columns: CPU time a mutation cost in the gunicorn workers and in PostgreSQL "
        "(from /proc, so other load on the machine does not inflate them).",
        "",
        "| round | mutations | merged | time | mutations/s | batch p50 | batch p95 "
        "| CPU app | CPU db | statuses |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in enumerate(rounds, 1):
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        lines.append(
            f"| {n} ({r['kind']}) | {r['mutations']} | {r['merged']} | {r['seconds']:.1f} s "
            f"| {r['rate']:.0f} | {r['p50']:.2f} s | {r['p95']:.2f} s "
            f"| {r['cpu']['app'] / r['mutations'] * 1000:.1f} ms "
            f"| {r['cpu']['db'] / r['mutations'] * 1000:.1f} ms | {statuses} |"
        )
    app_ms = sum(r["cpu"]["app"] for r in rounds) / sum(r["mutations"] for r in rounds) * 1000
    db_ms = sum(r["cpu"]["db"] for r in rounds) / sum(r["mutations"] for r in rounds) * 1000
    client_ms = sum(r["cpu"]["client"] for r in rounds) / sum(r["mutations"] for r in rounds) * 1000
    lines += [
        f"| all | {sum(r['mutations'] for r in rounds)} | {merged} | {seconds:.1f} s | "
        f"**{rate:.0f}** | {percentile(latencies, 50):.2f} s | {percentile(latencies, 95):.2f} s "
        f"| {app_ms:.1f} ms | {db_ms:.1f} ms | |",
        "",
        f"At these CPU costs, two cores doing nothing else would merge at most "
        f"{2000 / (app_ms + db_ms):,.0f} mutations/s (the benchmark's own client used "
        f"{client_ms:.2f} ms a mutation of the same cores).",
        "",
        f"Target ≥ {TARGET} mutations/s merged: **{met}** ({rate:.0f}/s). Peak RSS of the "
        f"{WORKERS} workers together: {peak_rss / 2**20:.0f} MiB.",
    ]
    write_report("Push throughput", lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
