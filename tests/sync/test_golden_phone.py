"""The golden exchanges (tests/golden/*.json) replayed to the convergence simulation's
phone (tests/sync/simulation/phone.py, driven by its World's push and pull as in a
history): fed the recorded server answers through a stand-in transport, it must build
exactly the recorded requests, and hold afterwards what the protocol says.

The recorded phone is the app's sync client (tests/golden/world.py AppPhone). Where the
simulation differs from it on purpose, the replay bends as follows, and nothing else:
- The app's sync (push, pull, push again when something is left) is one step here; the
  simulation pushes and pulls as separate steps, so `sync` runs them in the app's order.
- The page size is not the phone's choice in the simulation (a step picks it): each pull
  asks for the recorded `limit` (500, the app's, except in pull_pages).
- A mutation is pushed with the clock at the recorded time (`client_time`); the
  simulation's phones send their own wall clock, as the app does, so it is compared as is.
- An edit the recording made on a base version set by hand (push_rejected: a member of
  another booth, which the phone cannot hold) has that base written into the outbox entry.
- A 503 (database_unavailable, push_retry) is `Unexpected` for the simulation, whose
  transports never answer one; the replay expects it, checks that the outbox is kept
  untouched and sent again as it was, and does not model `Retry-After`.

Not expressible: register_device and login_throttled (the simulation's phones do not log
in; their credentials come from the transport's add_device).
"""

import json
from pathlib import Path

import pytest

from tests.sync.simulation.phone import SimulatedPhone
from tests.sync.simulation.plan import Plan, SimClock, Unexpected, parse_hlc
from tests.sync.simulation.world import World

GOLDEN = Path(__file__).parents[1] / "golden"
NOT_EXPRESSIBLE = {
    "register_device": "a login: the simulation's phones get credentials from add_device",
    "login_throttled": "a login: the simulation's phones get credentials from add_device",
}
USER_ID = 1  # the recorded volunteer (the first user of each recording)
BOOTH = 12  # her booth (the recordings' booth_id)
PUSH_LIMIT = 500  # the app's batch (pwa/src/sync/engine.js PUSH_MAX_MUTATIONS)


def golden(name):
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def scenarios():
    return [
        pytest.param(golden(p.stem), id=p.stem)
        for p in sorted(GOLDEN.glob("*.json"))
        if p.stem not in NOT_EXPRESSIBLE
    ]


class RecordedTransport:
    """The simulation's Transport for one phone: each request must be the next recorded
    one, and is answered with the recorded answer."""

    replay_module = "tests.sync.test_golden_phone"

    def __init__(self, exchanges):
        self.exchanges = list(exchanges)
        self.done = []

    def next(self, method, path):
        assert self.exchanges, f"{method} {path} sent, but nothing more was recorded"
        done = self.exchanges.pop(0)
        assert (done["request"]["method"], done["request"]["path"]) == (method, path)
        self.done.append(done)
        return done

    def push(self, credentials, body):
        done = self.next("POST", "/api/sync/push")
        assert body == done["request"]["body"]
        return done["response"]["status"], done["response"]["body"]

    def pull(self, credentials, cursor, limit):
        done = self.next("GET", "/api/sync/pull")
        assert {"cursor": cursor, "limit": str(limit)} == done["request"]["query"]
        return done["response"]["status"], done["response"]["body"]

    def unit_of(self, user_id):
        return BOOTH


class Replay:
    """The recorded steps, done by the simulation's World with one SimulatedPhone."""

    def __init__(self, scenario):
        self.transport = RecordedTransport(scenario["exchanges"])
        self.clock = SimClock()
        self.world = World(self.transport, self.clock, Plan(0, [], {}, []))
        self.world.unit_names = {BOOTH: "b1"}
        self.phone = SimulatedPhone(
            "golden", "vA", USER_ID, "volunteer", BOOTH, scenario["device_id"], "token", 0
        )

    def run(self, steps):
        for step in steps:
            ((kind, detail),) = step.items()
            getattr(self, kind)(detail)
        assert not self.transport.exchanges, "recorded requests the phone never sent"

    def edit(self, step):
        self.clock.ms = step["at"]
        m = self.world.enqueue(
            self.phone, step["entity"], step["id"], step.get("fields"), step["op"], quiet=True
        )
        if "base_version" in step:
            m["base_version"] = step["base_version"]

    def set_cursor(self, cursor):
        self.phone.cursor = cursor

    def pull(self, _step=None):
        limit = int(self.transport.exchanges[0]["request"]["query"]["limit"])
        held = dict(self.phone.copies)
        start = len(self.transport.done)
        self.world.pull(self.phone, limit)
        check_pull(self.phone, held, self.transport.done[start:])

    def sync(self, step):
        """engine.js syncNow: push, pull, and push again when something is left."""
        if not self.push(step["at"]):
            return
        self.pull()
        if self.phone.outbox:
            self.push(step["at"])

    def push(self, at):
        """One push of the whole outbox; answer whether the phone heard its answer."""
        if not self.phone.outbox:
            return True
        self.clock.ms = at
        before = [dict(m) for m in self.phone.outbox]
        state = (dict(self.phone.copies), dict(self.phone.attention))
        done = self.transport.exchanges[0]
        if done["response"]["status"] != 200:
            with pytest.raises(Unexpected, match=f"push answered {done['response']['status']}"):
                self.world.push(self.phone, PUSH_LIMIT, "delivered", quiet=True)
            check_untouched(self.phone, before, state)
            return False
        if done.get("lost"):
            self.world.push(self.phone, PUSH_LIMIT, "answer_lost", quiet=True)
            check_untouched(self.phone, before, state)
            return False
        hlc = self.phone.hlc
        self.world.push(self.phone, PUSH_LIMIT, "delivered", quiet=True)
        check_push(self.phone, before, hlc, done["response"]["body"])
        return True


# ---------------------------------------------------------------- what the protocol says


def check_untouched(phone, before, state):
    """No answer heard: every entry stays, marked sent, and nothing else changes."""
    assert [m["seq"] for m in phone.outbox] == [m["seq"] for m in before]
    assert all(m["sent"] for m in phone.outbox)
    assert [{**m, "sent": True} for m in before] == phone.outbox
    assert (phone.copies, phone.attention) == state


def check_push(phone, batch, hlc, answer):
    """A push answer: returned records kept, rejections in needs-attention with the
    server's reason, the answered batch up to last_seq gone, the clock past server_hlc."""
    results = {r["seq"]: r for r in answer["results"]}
    for m in batch:
        result = results[m["seq"]]
        if result["status"] == "rejected":
            kept = {k: v for k, v in m.items() if k not in ("sent", "acked")}
            assert phone.attention[m["seq"]] == {**kept, "error": result["error"]}
        else:
            assert m["seq"] not in phone.attention
        if result["record"]:
            copy = phone.copies[(m["entity"], result["id"])]
            assert copy["version"] >= result["version"]
            if copy["version"] == result["version"]:
                assert copy["record"] == result["record"]
                assert copy["deleted"] == result["record"]["deleted"]
    upto = min(answer["last_seq"], batch[-1]["seq"])
    assert all(m["seq"] > upto for m in phone.outbox)
    assert parse_hlc(phone.hlc) >= max(parse_hlc(hlc), parse_hlc(answer["server_hlc"]))


def check_pull(phone, held, pages):
    """Pulled pages: a reset drops the copies (the outbox stays), each change after the
    last reset is held unless a newer version was, the last page's cursor is kept, and
    the outbox up to the page's last_seq is acknowledged."""
    answers = [done["response"]["body"] for done in pages]
    resets = [n for n, page in enumerate(answers) if page["reset"]]
    expected = {} if resets else dict(held)
    for page in answers[resets[-1] + 1 :] if resets else answers:
        for change in page["changes"]:
            key = (change["entity"], change["id"])
            if change.get("removed"):
                expected.pop(key, None)
            elif key not in expected or expected[key]["version"] <= change["version"]:
                expected[key] = {k: change[k] for k in ("version", "deleted", "record")}
    assert phone.copies == expected
    last = answers[-1]
    assert not last["reset"] and not last["has_more"]
    assert phone.cursor == last["cursor"]
    assert all(m.get("acked") for m in phone.outbox if m["seq"] <= last["last_seq"])
    assert parse_hlc(phone.hlc) >= parse_hlc(last["server_hlc"])


# What each scenario leaves on the phone: server versions held (by record id), outbox
# seqs, needs-attention (seq -> error code).
MEMBER = "00000002-0000-4000-8000-{:012x}".format
ENDS = {
    "push_applied": ({MEMBER(1): 1}, [], {}),
    "push_duplicate": ({MEMBER(1): 1}, [], {}),
    "push_merged": ({MEMBER(1): 3}, [], {}),
    "push_conflict": ({MEMBER(1): 2, "0000000c-0000-4000-8000-000000000001": 1}, [], {}),
    "push_rejected": ({MEMBER(2): 1}, [], {1: "validation_error", 2: "not_found"}),
    "squad_full": ({MEMBER(1): 1, **{MEMBER(100 + n): 1 for n in range(20)}}, [], {}),
    "push_delete": ({MEMBER(1): 2}, [], {}),
    "database_unavailable": ({MEMBER(1): 1}, [], {}),
    "push_retry": ({MEMBER(1): 1}, [], {}),
    "pull_pages": ({MEMBER(100 + n): 1 for n in range(5)}, [], {}),
    "forged_cursor": ({MEMBER(100): 1}, [], {}),
    "foreign_cursor": ({MEMBER(100): 1}, [], {}),
}


@pytest.mark.parametrize("scenario", scenarios())
def test_the_simulated_phone_builds_the_recorded_requests(scenario):
    replay = Replay(scenario)
    replay.run(scenario["steps"])
    phone = replay.phone
    versions, outbox, attention = ENDS[scenario["scenario"]]
    assert {key[1]: copy["version"] for key, copy in phone.copies.items()} == versions
    assert [m["seq"] for m in phone.outbox] == outbox
    assert {seq: m["error"]["code"] for seq, m in phone.attention.items()} == attention
    pulls = [d for d in replay.transport.done if d["request"]["method"] == "GET"]
    assert phone.cursor == pulls[-1]["response"]["body"]["cursor"]


def test_every_golden_scenario_is_replayed_or_named_here():
    names = {p.stem for p in GOLDEN.glob("*.json")}
    assert names == set(ENDS) | set(NOT_EXPRESSIBLE)


def test_a_push_answer_clears_only_its_batch_and_settles_the_rest():
    """Not recorded (the recordings push the whole outbox): the answer to #1 alone, after
    the answer to #1..#3 was lost, says last_seq 3. As engine.js applyPushAnswer does, #2
    and #3 stay, acknowledged, to go out once more and hear whether they were rejected
    (the simulation's phone used to drop them unseen: convergence seed 602)."""
    scenario = golden("push_rejected")
    replay = Replay(scenario)
    for step in scenario["steps"][:-1]:  # the three edits; the sync is done by hand
        replay.edit(step["edit"])
    phone = replay.phone
    recorded = scenario["exchanges"][0]["response"]["body"]
    batch = phone.outbox[:1]
    phone.apply_push_answer(batch, {**recorded, "results": recorded["results"][:1]})
    assert [(m["seq"], m.get("acked")) for m in phone.outbox] == [(2, True), (3, True)]
    assert list(phone.attention) == [1]
    assert phone.pending() == []
