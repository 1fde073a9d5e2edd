"""Mutation testing of the server's sync and scope code (`make mutation-server`): prepares a
scratch copy of the project for mutmut 3 with its own configuration.

    .venv/bin/python bench/mutation_server.py [--fresh]

mutmut 3 reads one `[tool.mutmut]` table, from the pyproject.toml of the folder it runs in,
and keeps its mutants/ there; the one in pyproject.toml is `make mutation`'s (sync/). So
this copies the project's files (those git tracks or would, as they are in the working
tree) into build/mutation-server/ and writes there a pyproject.toml whose `[tool.mutmut]`
is CONFIG below; `make mutation-server` then runs `mutmut run` in that folder, and
bench/mutation_server_report.py reads its results. `make mutation` is untouched.

A copy left by a previous run keeps its mutants/ (mutmut then re-runs only what changed)
unless --fresh, which the make target passes.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "build" / "mutation-server"

# Mutated: server/syncing/*.py and server/scope.py (only_mutate); the rest of server/ is
# copied unmutated so that the package imports from mutants/.
# Left out (do_not_mutate): server/syncing/models.py, registry.py and schemas.py are
# declarations (SQLAlchemy tables, the list of record types, the marshmallow schemas of the
# answers and of the OpenAPI document) built at import, before any mutant is switched on,
# so no mutant of theirs could ever be live; __init__.py is empty.
# The tests, on SQLite: those of tests/server/syncing/ that finish in seconds (the
# protocol, the rules, visibility and scope, neighbours' pulls, masking, hostile values,
# retries, database errors, golden files, the prefetch's lock steps), the REST reads
# (roster, grievances, the unit tree, meeting pulls) that reach server/scope.py, and the
# demo (samples.py). Left out (SLOW): the convergence histories (every push and pull
# function reaches them, and a survivor runs every test that reaches it: 23.5 s of a 38 s
# selection; the engine's mutants meet histories in `make mutation`, and a rule a history
# alone would catch is a rule without a test of its own), the concurrency, crash,
# lock-order and concurrent-history suites (threads and server processes, PostgreSQL
# mostly), the push fuzzer, the migration tests; and the accounts' authorization tables
# (292 tests whose scope checks the read tests already make), tests/e2e and tests/prod.
SLOW = (
    "test_convergence",
    "test_concurrency",
    "test_concurrent_histories",
    "test_crash",
    "test_crash_histories",
    "test_lock_order",
    "test_push_fuzz",
    "test_migration_0003",
    "test_migration_0004",
)
TESTS = [
    # every test file here but the slow suites (new ones are picked up by themselves)
    "tests/server/syncing",
    *(f"--ignore=tests/server/syncing/{name}.py" for name in SLOW),
    "tests/server/roster/test_read_api.py",
    "tests/server/grievances/test_read_api.py",
    "tests/server/geo/test_tree.py",
    "tests/server/meetings/test_meeting_pulls.py",
    "tests/server/test_demo.py",  # the demo's sample records (samples.py)
]
CONFIG = {
    "source_paths": ["server/"],
    "only_mutate": ["server/syncing/*.py", "server/scope.py"],
    "do_not_mutate": [
        "server/syncing/__init__.py",
        "server/syncing/models.py",
        "server/syncing/registry.py",
        "server/syncing/schemas.py",
    ],
    "pytest_add_cli_args_test_selection": TESTS,
    "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
    # test_golden.py replays its requests with bench/syncbench and reads docs/protocol.md,
    # both found beside tests/
    "also_copy": ["bench/", "docs/"],
}


def toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def mutmut_table() -> str:
    lines = ["[tool.mutmut]"] + [f"{key} = {toml_value(v)}" for key, v in CONFIG.items()]
    return "\n".join(lines) + "\n"


def with_table(pyproject: str) -> str:
    """pyproject.toml with its `[tool.mutmut]` table replaced by this run's."""
    pattern = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n?)*", re.M)
    if not pattern.search(pyproject):
        return pyproject.rstrip("\n") + "\n\n" + mutmut_table()
    return pattern.sub(lambda _m: mutmut_table() + "\n", pyproject, count=1)


def tracked_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in done.stdout.split("\0") if name and (ROOT / name).is_file()]


def prepare(fresh: bool):
    if fresh and SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for name in tracked_files():
        if name == "pyproject.toml":
            continue  # written below, with this run's table
        source, target = ROOT / name, SCRATCH / name
        # Copy only what changed, with its time: mutmut compares a source file's mtime
        # with its mutant's to know which files to mutate again.
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            if target.read_bytes() == source.read_bytes():
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    pyproject = SCRATCH / "pyproject.toml"
    text = with_table((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if not pyproject.exists() or pyproject.read_text(encoding="utf-8") != text:
        pyproject.write_text(text, encoding="utf-8")
    print(f"prepared {SCRATCH.relative_to(ROOT)} (mutmut config: {CONFIG['only_mutate']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="start from an empty copy")
    args = parser.parse_args()
    prepare(args.fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
