"""What the fuzzer sent and got, printed at the end of the run: operations x roles, the
answers by status class, the requests per phase, the time taken, and every 5xx with the
server's traceback line and a curl command to reproduce it."""

import time
from collections import Counter, defaultdict

# (role, "METHOD /path") -> Counter of status classes.
SEEN: dict = defaultdict(Counter)
PHASES: Counter = Counter()
# (role, operation, where) -> (status, curl): the last one is the shrunk example.
SERVER_ERRORS: dict = {}
BROKEN_ANSWERS: set = set()
CLOCK = {"first": None, "last": None}


def record(role, case, response, server=None):
    now = time.monotonic()
    CLOCK["first"] = CLOCK["first"] or now
    CLOCK["last"] = now
    label = f"{case.operation.method.upper()} {case.operation.path}"
    SEEN[role, label][f"{response.status_code // 100}xx"] += 1
    meta = case.meta
    if meta is not None:
        PHASES[f"{meta.phase.name.value} {meta.generation.mode.value}"] += 1
    if response.status_code >= 500:
        where = last_traceback_line(server.log()) if server else ""
        SERVER_ERRORS[role, label, where] = (response.status_code, case.as_curl_command())


def record_failure(role, case, failure):
    """A check that failed on an answer other than a 5xx (a schema break)."""
    label = f"{case.operation.method.upper()} {case.operation.path}"
    BROKEN_ANSWERS.add((role, label, str(failure).splitlines()[0][:200]))


def last_traceback_line(log: str) -> str:
    """The last frame in our code, and the exception, of the newest traceback in the log."""
    start = log.rfind("Traceback (most recent call last)")
    if start < 0:
        return ""
    lines = log[start:].splitlines()
    ours = [line.strip() for line in lines if 'File "/' in line and "/.venv/" not in line]
    end = next((line for line in lines[1:] if line and not line.startswith(" ")), "")
    return f"{ours[-1] if ours else ''} -> {end}"


def lines():
    if not SEEN:
        return []
    roles = sorted({role for role, _ in SEEN})
    operations = sorted({label for _, label in SEEN})
    total = sum(sum(c.values()) for c in SEEN.values())
    seconds = (CLOCK["last"] or 0) - (CLOCK["first"] or 0)
    out = [
        f"API fuzzer: {len(operations)} operations x {len(roles)} roles, {total} requests "
        f"in {seconds:.0f} s ({', '.join(f'{k}: {v}' for k, v in sorted(PHASES.items()))}); "
        f"{len(SERVER_ERRORS)} answered 5xx, {len(BROKEN_ANSWERS)} broke their schema"
    ]
    for label in operations:
        cells = []
        for role in roles:
            counts = SEEN.get((role, label))
            if counts:
                cells.append(f"{role}=" + "/".join(f"{k}:{v}" for k, v in sorted(counts.items())))
        out.append(f"  {label}: " + " ".join(cells))
    for (role, label, where), (status, curl) in SERVER_ERRORS.items():
        out.append(f"  {status} as {role}: {label}: {where}\n    {curl[:600]}")
    for role, label, problem in sorted(BROKEN_ANSWERS):
        out.append(f"  schema broken as {role}: {label}: {problem}")
    return out
