"""Correctness under real concurrent connections (PostgreSQL)."""

import threading

import pytest

from server.syncing import push
from tests.server.syncing.phone import Phone, member_fields, new_id

pytestmark = pytest.mark.postgres_only


def test_a_pull_between_out_of_order_commits_never_skips_a_change(app, client, make, monkeypatch):
    """T1 begins first and commits last; a pull in between; the later pull gets both."""
    g = make.geo()
    first = Phone(client, make, make.user("volunteer", g.b1))
    second = Phone(app.test_client(), make, make.user("volunteer", g.b2))
    reader = Phone(client, make, make.user("block_president", g.k1))
    reader.pull()
    in_t1, release_t1 = threading.Event(), threading.Event()
    real_crash_hook = push.before_commit

    def hold_first_push(applied):
        if threading.current_thread().name == "t1":
            in_t1.set()
            release_t1.wait(10)
        real_crash_hook(applied)

    monkeypatch.setattr(push, "before_commit", hold_first_push)
    a, b = new_id(), new_id()
    fields_a = member_fields(g.b1)
    t1 = threading.Thread(target=lambda: first.send("member", a, fields_a), name="t1")
    t1.start()
    assert in_t1.wait(10)  # T1 has written its member and holds its transaction open
    second.send("member", b, member_fields(g.b2))  # T2 began later, commits first
    reader.pull()
    between = set(reader.records("member"))
    release_t1.set()
    t1.join(10)
    reader.pull()
    assert between <= {a, b}
    assert set(reader.records("member")) == {a, b}


def test_two_phones_adding_the_20th_and_21st_member_at_once_never_exceed_20(app, make):
    g = make.geo()
    phones = [Phone(app.test_client(), make, make.user("volunteer", g.b1)) for _ in range(2)]
    phones[0].push(
        *[phones[0].mutation("member", new_id(), member_fields(g.b1)) for _ in range(19)]
    )
    booth = g.b1.id
    for _round in range(5):
        barrier = threading.Barrier(2)
        results = []

        def add(phone, barrier=barrier, results=results):
            m = phone.mutation("member", new_id(), member_fields(booth))
            barrier.wait()
            results.append(phone.push(m)["results"][0]["record"]["status"])

        threads = [threading.Thread(target=add, args=(p,)) for p in phones]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        if _round == 0:
            assert sorted(results) == ["pending", "waitlisted"]
        else:
            assert results == ["waitlisted", "waitlisted"]
    reader = Phone(app.test_client(), make, make.user("block_president", g.k1))
    reader.pull()
    active = [
        r for r in reader.records("member").values() if r["status"] in ("pending", "approved")
    ]
    assert len(active) == 20


def test_two_phones_claiming_one_epic_at_once_one_is_rejected(app, make):
    g = make.geo()
    phones = [Phone(app.test_client(), make, make.user("volunteer", b)) for b in (g.b1, g.b3)]
    barrier = threading.Barrier(2)
    statuses = []

    def add(phone, booth):
        m = phone.mutation("member", new_id(), member_fields(booth, epic="XYZ7654321"))
        barrier.wait()
        statuses.append(phone.push(m)["results"][0]["status"])

    booths = (g.b1.id, g.b3.id)
    threads = [
        threading.Thread(target=add, args=(p, b)) for p, b in zip(phones, booths, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(statuses) == ["applied", "rejected"]
