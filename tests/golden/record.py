"""Record the golden push/pull exchanges from the real server into tests/golden/*.json.

    .venv/bin/python -m tests.golden.record [directory]

Each scenario (tests/golden/scenarios.py) runs on an empty SQLite database with the
server's clock frozen at T0 (2026-01-01 00:00 UTC) and moved on one second a step, with
fixed user, device and record ids, so a recording is the same every time. Two kinds of
value are still made fresh by the server and are written normalised:
- `access_token` and `refresh_token` (JWTs stamped with the real time) become
  "<access_token>" and "<refresh_token>";
- UUIDs the server makes (a conflict record's id) become `0000000c-0000-4000-8000-<n>`,
  numbered in order of appearance within the file.
`server_hlc`, `created_at` and `updated_at` come from the frozen clock and are recorded
as they are. tests/server/syncing/test_golden.py records again into a temp dir and fails
when anything differs: re-record with the command above after a deliberate change of the
protocol, and read the diff.
"""

import json
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.golden.scenarios import SCENARIOS  # noqa: E402
from tests.golden.world import UUID_RE, World, fixed_id  # noqa: E402

TOKENS = ("access_token", "refresh_token")
FIXED_ID = re.compile(r"[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}")


def normalised(record: dict) -> dict:
    """The scenario with tokens and server-made UUIDs replaced (see the module docstring)."""
    made: dict[str, str] = {}

    def rename(match):
        value = match.group(0)
        if FIXED_ID.fullmatch(value):
            return value
        return made.setdefault(value, fixed_id(0xC, len(made) + 1))

    def walk(value, key=None):
        if key in TOKENS and isinstance(value, str):
            return f"<{key}>"
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return UUID_RE.sub(rename, value)
        return value

    return walk(record)


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, indent=1) + "\n"


def record_all(directory: Path, names=None) -> list[Path]:
    """Run every scenario (or those named) and write <name>.json into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        world = World(Path(scratch))
        with world.running():
            for name, scenario in SCENARIOS.items():
                if names and name not in names:
                    continue
                world.reset()
                record = {"scenario": name, **normalised(scenario(world))}
                path = directory / f"{name}.json"
                path.write_text(dumps(record))
                written.append(path)
    return written


def main():
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in record_all(directory, sys.argv[2:]):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
