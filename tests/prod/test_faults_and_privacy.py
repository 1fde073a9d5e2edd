"""Personal data stays out of every log and metric of the stack, and the stack rides out
the faults the soak puts on it (one of each here; bench/soak.py runs them under load)."""

import time

from tests.e2e.harness import VOLUNTEER
from tests.prod.helpers import metric, metrics, new_member, push, wait_until

MOBILE, EPIC = "9123987654", "JHK7654321"


def every_log(stack) -> str:
    names = [f"node-{i}.log" for i in range(stack.node_count)]
    names += ["push-worker.log", "nginx/access.log", "nginx/error.log", "pgbouncer/pgbouncer.log"]
    return "\n".join(
        stack.log_path(name).read_text(errors="replace")
        for name in names
        if stack.log_path(name).exists()
    )


def test_a_mobile_number_and_epic_leave_no_trace(https, stack):
    token, device, user = https.login(VOLUNTEER)
    booth = user["unit"]["id"]
    first = new_member(booth, phone=MOBILE, epic=EPIC)
    # The same EPIC again (refused), and a value the server refuses outright.
    again = new_member(booth, phone=MOBILE, epic=EPIC)
    bad = new_member(booth, phone=MOBILE, epic=EPIC, age=99)
    results = push(https, token, device, [first, again, bad])
    assert results[0]["status"] == "applied"
    assert {r["status"] for r in results[1:]} == {"rejected"}
    # A search by mobile number puts it in a query string.
    status, _, _ = https.request("GET", f"/api/members?booth_id={booth}&q={MOBILE}", token=token)
    assert status in (200, 422)
    assert stack.query("SELECT count(*) FROM members WHERE epic = %s", EPIC) == [(1,)]
    status, _, text = https.request("GET", "/metrics")
    assert status == 200
    time.sleep(0.5)  # let the log lines of those requests reach their files
    for trace in (MOBILE, EPIC, EPIC.lower()):
        assert trace not in text
        assert trace not in every_log(stack)


def test_faults_are_survived(https, stack):
    token, device, user = https.login(VOLUNTEER)
    booth = user["unit"]["id"]

    killed = stack.kill_worker(0)
    # Its master reaps it and starts another (a zombie not yet reaped is not counted).
    wait_until(lambda: killed not in (pids := stack.worker_pids(0)) and len(pids) == stack.workers)
    stack.stop_node(1)
    # nginx sends everything to the node that is left.
    for _ in range(6):
        assert https.request("GET", "/api/health")[0] == 200
    [result] = push(https, token, device, [new_member(booth, name="सरिता उरांव")])
    assert result["status"] == "applied"
    stack.start_node(1)

    stack.restart_pgbouncer()
    wait_until(lambda: https.request("GET", "/api/health")[0] == 200)
    stack.restart_postgres()
    wait_until(lambda: https.request("GET", "/api/health")[0] == 200, timeout=60)
    [result] = push(https, token, device, [new_member(booth, name="सुमन लकड़ा")])
    assert result["status"] == "applied"
    assert metric(metrics(https), "booth_database_up") == 1
