"""Steps the rehearsal tests share: a sync push through HTTPS, reading /metrics, waiting."""

import collections
import time
import uuid

from prometheus_client.parser import text_string_to_metric_families

# The last outbox seq each test device used: a device numbers its mutations on and on.
_last_seq = collections.Counter()


def push(https, token, device, mutations):
    """POST /api/sync/push as `device` (numbering on from its last push); the results."""
    now = int(time.time() * 1000)
    for mutation in mutations:
        _last_seq[device] += 1
        seq = _last_seq[device]
        mutation.setdefault("seq", seq)
        mutation.setdefault("op", "upsert")
        mutation.setdefault("base_version", None)
        mutation.setdefault("hlc", f"{now:013d}-{seq:04d}-{device}")
    status, _, data = https.request(
        "POST",
        "/api/sync/push",
        {"device_id": device, "schema_version": 1, "client_time": now, "mutations": mutations},
        token,
    )
    assert status == 200, (status, data)
    return data["results"]


def new_member(booth_id, **fields):
    return {
        "entity": "member",
        "id": str(uuid.uuid4()),
        "fields": {
            "booth_id": booth_id,
            "name": "कविता मुंडा",
            "age": 25,
            "gender": "female",
            "consent": True,
            **fields,
        },
    }


def metrics(https) -> dict:
    """{(name, sorted label items): value} from /metrics."""
    status, _, text = https.request("GET", "/metrics")
    assert status == 200, (status, text)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(figures: dict, name: str, **labels) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for (sample, items), value in figures.items()
        if sample == name and labels.items() <= dict(items).items()
    )


def wait_until(fn, timeout=30, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s")
