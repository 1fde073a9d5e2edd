"""The app's own timing of each request (its JSON request log, `duration_ms`), to tell the
server's time from what the client adds (queueing in nginx and the sockets, TLS, and the
load generator's own event loop on the same cores)."""

import json
from datetime import datetime
from pathlib import Path

ROUTES = {"/api/sync/push": "push", "/api/sync/pull": "pull"}


def server_times(paths: list[Path], start: float, end: float) -> dict[str, list[float]]:
    """Seconds the app took for each push and pull answered between `start` and `end`."""
    times: dict[str, list[float]] = {"push": [], "pull": []}
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if '"duration_ms"' not in line:
                continue
            try:
                entry = json.loads(line)
                at = datetime.fromisoformat(entry["time"]).timestamp()
            except (ValueError, KeyError):
                continue
            kind = ROUTES.get(entry.get("route"))
            if kind and start <= at <= end and entry.get("status") == 200:
                times[kind].append(entry["duration_ms"] / 1000)
    return times
