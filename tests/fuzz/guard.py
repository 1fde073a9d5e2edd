"""What the fuzzer changes in a generated case before sending it, and why.

- Destructive people operations (disable, enable, change a person; revoke a device) aimed
  at an account or device the fuzzer's own sessions use are aimed at a spare instead, so
  one role's run never locks another's session out. Every other id goes as generated.
- A push names the session's own device and numbers its mutations from the device's next
  seq, so the mutations reach the sync engine instead of all stopping at `device_mismatch`
  or `seq_gap`. Values that are not of the declared type are left as generated: they test
  the request's own checks.
"""

PUSH = "/api/sync/push"


def aim_at_spares(case, live_api):
    params = case.path_parameters or {}
    own_users = {str(s.user_id) for s in live_api.sessions.values()}
    own_devices = {s.device_id for s in live_api.sessions.values()}
    if "user_id" in params and str(params["user_id"]) in own_users:
        case.path_parameters = {**params, "user_id": live_api.spare_user_id}
    if "device_id" in params and str(params["device_id"]).lower() in own_devices:
        case.path_parameters = {**params, "device_id": live_api.spare_device_id}


def fix_up_push(case, session):
    if case.operation.path != PUSH or case.method.upper() != "POST":
        return
    body = case.body
    if not isinstance(body, dict):
        return
    body = dict(body)
    if isinstance(body.get("device_id"), str):
        body["device_id"] = session.device_id
    mutations = body.get("mutations")
    if isinstance(mutations, list) and all(
        isinstance(m, dict) and type(m.get("seq")) is int for m in mutations
    ):
        body["mutations"] = [{**m, "seq": session.next_seq + i} for i, m in enumerate(mutations)]
    case.body = body


def note_push_answer(case, session, response):
    """Follow the device's seq from the server's answers."""
    if case.operation.path != PUSH or case.method.upper() != "POST":
        return
    if response.status_code == 200:
        session.next_seq = response.json()["last_seq"] + 1
    elif response.status_code == 409:
        expected = (response.json().get("error") or {}).get("fields", {}).get("expected")
        if isinstance(expected, int):
            session.next_seq = expected
