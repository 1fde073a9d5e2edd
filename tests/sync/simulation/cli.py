"""Running one seed by hand, and shrinking it when it fails: the command line of
`python -m tests.server.syncing.simulation` and `python -m tests.sync.simulation.memory`."""

import argparse
import json
import re

from tests.sync.simulation.plan import Plan, make_plan, shapes, shrink


def run_cli(attempt, description):  # pragma: no cover - a developer's tool
    """`attempt(plan)` runs a history on a fresh server and answers (simulation, problems)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("seed", help="a seed, or a plan as JSON (a kept case)")
    parser.add_argument("--shrink", action="store_true", help="shrink the failing history")
    parser.add_argument("--keep", help="a regex the shrunk history's violations must match")
    args = parser.parse_args()
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
