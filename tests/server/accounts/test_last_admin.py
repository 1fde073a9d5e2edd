"""The last active admin is never disabled or demoted, even by two admins acting at once.

One after the other this cannot happen (nobody disables or demotes themselves, and only an
admin manages an admin); at once it could: each admin disables the other, each request sees
two active admins, and nobody is left to run the accounts. Both requests are held after
they have been authenticated and have read their target, then let go together.
"""

import contextlib
import threading

import pytest
from sqlalchemy import select

from server.accounts import people
from server.accounts.models import User
from server.extensions import db

pytestmark = pytest.mark.postgres_only


def _change(kind, district_id):
    if kind == "disable":
        return lambda client, target, headers: client.post(
            f"/api/users/{target}/disable", headers=headers
        )
    return lambda client, target, headers: client.patch(
        f"/api/users/{target}",
        headers=headers,
        json={"role": "district_president", "unit_id": district_id},
    )


@pytest.mark.parametrize("kind", ["disable", "demote"])
def test_two_admins_cannot_remove_each_other_at_once(app, make, monkeypatch, kind):
    g = make.geo()
    first, second = make.user("admin"), make.user("admin")
    pairs = [(make.headers(first), second.id), (make.headers(second), first.id)]
    change = _change(kind, g.d1.id)
    barrier = threading.Barrier(2, timeout=10)
    real = people._managed_user

    def held(actor, user_id):
        target = real(actor, user_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return target

    monkeypatch.setattr(people, "_managed_user", held)
    answers = []

    def act(headers, target):
        answers.append(change(app.test_client(), target, headers))

    threads = [threading.Thread(target=act, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(r.status_code for r in answers) == [200, 403]
    refused = next(r for r in answers if r.status_code == 403)
    assert refused.json["error"]["code"] == "forbidden"
    db.session.expire_all()
    admins = db.session.scalars(
        select(User.id).where(User.role == "admin", User.active.is_(True))
    ).all()
    assert len(admins) == 1
