"""Running one seed by hand, and shrinking it when it fails: the command line of
`python -m tests.server.syncing.simulation` and `python -m tests.sync.simulation.memory`."""

import argparse
import json
import re
import time

from tests.sync.simulation.plan import Plan, make_plan, shapes, shrink


def run_cli(attempt, description):  # pragma: no cover - a developer's tool
    """`attempt(plan)` runs a history on a fresh server and answers (simulation, problems)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("seed", nargs="?", help="a seed, or a plan as JSON (a kept case)")
    parser.add_argument("--shrink", action="store_true", help="shrink the failing history")
    parser.add_argument("--keep", help="a regex the shrunk history's violations must match")
    parser.add_argument(
        "--range", nargs=2, type=int, metavar=("FIRST", "STOP"), help="run seeds FIRST..STOP-1"
    )
    parser.add_argument("--seeds", help="run these seeds, comma-separated")
    args = parser.parse_args()
    if args.range or args.seeds:
        seeds = range(*args.range) if args.range else [int(s) for s in args.seeds.split(",")]
        raise SystemExit(run_range(attempt, seeds))
    if args.seed is None:
        parser.error("give a seed, a plan, --range or --seeds")
    if args.seed.lstrip().startswith("{"):
        plan = Plan.from_json(json.loads(args.seed))
    else:
        plan = make_plan(int(args.seed))
    sim, problems = attempt(plan)
    print(sim.report(problems) if problems else "\n".join(sim.history))
    if not (problems and args.shrink):
        return
    if args.keep:
        wanted = re.compile(args.keep)

        def still_fails(p):
            return any(wanted.search(v) for v in attempt(p)[1])
    else:
        first = shapes(problems[:1])

        def still_fails(p):
            return first <= shapes(attempt(p)[1])

    small = shrink(plan, still_fails)
    sim, problems = attempt(small)
    print("\n\nSHRUNK:\n" + sim.report(problems))
    print("\nFor convergence_seeds.json:\n" + json.dumps(small.to_json()))


def run_range(attempt, seeds):  # pragma: no cover - a developer's tool
    """Run many seeds; print each failing one with its first violation, then the figure.
    Answers the exit status: 1 when any failed."""
    started, failed = time.monotonic(), []
    for seed in seeds:
        _sim, problems = attempt(make_plan(seed))
        if problems:
            failed.append(seed)
            print(f"seed {seed}: {problems[0]}", flush=True)
    elapsed = time.monotonic() - started
    print(f"{len(seeds)} histories, {len(failed)} failed, {elapsed:.0f} s: {failed}")
    return 1 if failed else 0
