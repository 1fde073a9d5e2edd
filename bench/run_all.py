"""Run the sync benchmarks one after another (`make bench`); each writes docs/benchmarks.md.

    .venv/bin/python bench/run_all.py [--state-booths 29562] [--skip-state] [--skip-soak]

Each benchmark runs in its own process with its own server and throwaway database, so
one's leftovers never slow the next. The exit status is the first failure's, if any.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-booths", type=int, default=None, help="default: every booth")
    parser.add_argument("--skip-state", action="store_true", help="leave out the state run")
    parser.add_argument("--skip-soak", action="store_true", help="leave out the 10-minute soak")
    args = parser.parse_args()

    runs = [["sync_push.py"], ["sync_pull.py"]]
    if not args.skip_state:
        state = ["sync_state.py"]
        if args.state_booths:
            state += ["--booths", str(args.state_booths)]
        runs.append(state)
    if not args.skip_soak:
        runs.append(["soak.py"])
    failed = 0
    for script, *options in runs:
        print(f"== {script} {' '.join(options)}".rstrip(), flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / script), *options], check=False)
        print(f"== {script} finished in {time.perf_counter() - started:,.0f} s", flush=True)
        if done.returncode and not failed:
            failed = done.returncode
    sys.exit(failed)


if __name__ == "__main__":
    main()
