"""What the fuzzer changes in a generated case before sending it, and why.

- Destructive people operations (disable, enable, change a person; revoke a device) aimed
  at an account or device the fuzzer's own sessions use are aimed at a spare instead, so
  one role's run never locks another's session out. Every other id goes as generated.
- A push names the session's own device and numbers its mutations from the device's next
  seq, so the mutations reach the sync engine instead of all stopping at `device_mismatch`
  or `seq_gap`. Values that are not of the declared type are left as generated: they test
  the request's own checks.
- Ids are aimed at what exists two times in three (`aim_at_known`): booth and unit ids at
  booth 1's block and beyond, record ids (in paths and in mutations, with the version the
  server last gave) at seeded records and those earlier pushes made; half of the other
  mutations become creates. Which ones, and which are left as generated, follows from the
  generated value, so a run stays reproducible.
"""

import zlib

PUSH = "/api/sync/push"
RECORD_PARAMS = {"member_id": "member", "grievance_id": "grievance"}
REFERENCES = {"grievance_id": "grievance", "meeting_id": "meeting"}


def _pick(options, value):
    """One of `options` chosen by `value`, or None (keep the value) one time in three."""
    h = zlib.crc32(repr(value).encode())
    if not options or h % 3 == 0:
        return None
    return options[h % len(options)]


def aim_at_known(case, live_api):
    known = live_api.known
    params = dict(case.path_parameters or {})
    for name, entity in RECORD_PARAMS.items():
        if isinstance(params.get(name), str):
            params[name] = _pick(list(known.records[entity]), params[name]) or params[name]
    if type(params.get("unit_id")) is int:
        params["unit_id"] = _pick(known.units, params["unit_id"]) or params["unit_id"]
    if params:
        case.path_parameters = params
    query = dict(case.query or {})
    for name, options in (("booth_id", known.booths), ("block_id", known.units)):
        if type(query.get(name)) is int:
            query[name] = _pick(options, query[name]) or query[name]
    if query:
        case.query = query
    if case.operation.path == PUSH and isinstance(case.body, dict):
        mutations = case.body.get("mutations")
        if isinstance(mutations, list):
            mutations = [_aim_mutation(m, known) for m in mutations]
            case.body = {**case.body, "mutations": mutations}


def _aim_mutation(m, known):
    if not isinstance(m, dict):
        return m
    m = dict(m)
    records = known.records.get(m.get("entity")) if isinstance(m.get("entity"), str) else None
    if records is not None and isinstance(m.get("id"), str):
        target = _pick(list(records), m["id"])
        if target is not None:
            m["id"] = target
            if type(m.get("base_version")) is int and zlib.crc32(target.encode()) % 2:
                m["base_version"] = records[target]
        elif zlib.crc32(m["id"].encode()) % 2 and m.get("op") in ("upsert", "delete"):
            # A new id: half of them become creates.
            m["op"], m["base_version"] = "upsert", None
    body = m.get("fields")
    if isinstance(body, dict):
        body = dict(body)
        if type(body.get("booth_id")) is int:
            body["booth_id"] = _pick(known.booths, body["booth_id"]) or body["booth_id"]
        if type(body.get("unit_id")) is int:
            body["unit_id"] = _pick(known.units, body["unit_id"]) or body["unit_id"]
        for name, entity in REFERENCES.items():
            if isinstance(body.get(name), str):
                body[name] = _pick(list(known.records[entity]), body[name]) or body[name]
        m["fields"] = body
    return m


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


def note_push_answer(case, session, response, live_api):
    """Follow the device's seq from the server's answers."""
    if case.operation.path != PUSH or case.method.upper() != "POST":
        return
    if response.status_code == 200:
        answer = response.json()
        session.next_seq = answer["last_seq"] + 1
        for raw, result in zip(case.body["mutations"], answer["results"], strict=False):
            if result["status"] in ("applied", "merged", "conflict") and result["version"]:
                live_api.known.learn(raw["entity"], result["id"], result["version"])
    elif response.status_code == 409:
        expected = (response.json().get("error") or {}).get("fields", {}).get("expected")
        if isinstance(expected, int):
            session.next_seq = expected
