"""Two logins of one new device at the same moment (a double tap on 2G) both succeed."""

import threading
import uuid

import pytest

pytestmark = pytest.mark.postgres_only


def test_two_simultaneous_logins_of_a_new_device(app, make):
    make.user("volunteer", phone="9111111111")
    device_id = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    statuses = []

    def login():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/auth/login",
            json={
                "phone": "9111111111",
                "password": "booth-demo",
                "device_id": device_id,
                "device_name": "phone",
            },
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=login) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert statuses == [200, 200]
