"""A number the database cannot hold is a 422 with the field named, never a database error.

Found by the API fuzzer (tests/fuzz): ids above 2^31 - 1 (integer columns), page numbers
whose offset overflows a bigint, and push subscription expiry times past a bigint all
reached the database, which failed the statement (a 500 on PostgreSQL and on SQLite).
"""

import pytest

from server.ranges import INT32_MAX
from tests.server.push.standin import BrowserKeys

BIG = [INT32_MAX + 1, 2**63, 10**20]


def assert_refused(answer, field):
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize("value", BIG)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/members", "booth_id"),
        ("/api/members", "block_id"),
        ("/api/members", "page"),
        ("/api/grievances", "booth_id"),
        ("/api/grievances", "block_id"),
        ("/api/grievances", "page"),
    ],
)
def test_list_arguments_beyond_the_columns_are_refused(client, make, path, field, value):
    g = make.geo()
    headers = make.headers(make.user("connect_centre", g.state))
    assert_refused(client.get(f"{path}?{field}={value}", headers=headers), field)


@pytest.mark.parametrize("value", [*BIG, 0, -1])
@pytest.mark.parametrize("field", ["unit_id", "page"])
def test_people_list_arguments_beyond_the_columns_are_refused(client, make, field, value):
    headers = make.headers(make.user("admin", make.geo().state))
    assert_refused(client.get(f"/api/users?{field}={value}", headers=headers), field)


@pytest.mark.parametrize("value", BIG)
def test_device_list_user_id_beyond_the_column_is_refused(client, make, value):
    headers = make.headers(make.user("admin", make.geo().state))
    assert_refused(client.get(f"/api/devices?user_id={value}", headers=headers), "user_id")


@pytest.mark.parametrize("value", [*BIG, 0])
def test_a_new_persons_unit_beyond_the_column_is_refused(client, make, value):
    headers = make.headers(make.user("admin", make.geo().state))
    body = {
        "phone": "9123456780",
        "name": "नया साथी",
        "password": "a-good-password",
        "role": "volunteer",
        "unit_id": value,
    }
    assert_refused(client.post("/api/users", json=body, headers=headers), "unit_id")


@pytest.mark.parametrize("value", BIG)
def test_a_changed_unit_beyond_the_column_is_refused(client, make, value):
    g = make.geo()
    headers = make.headers(make.user("admin", g.state))
    target = make.user("volunteer", g.b1)
    answer = client.patch(f"/api/users/{target.id}", json={"unit_id": value}, headers=headers)
    assert_refused(answer, "unit_id")


@pytest.mark.parametrize("value", [2**63, 10**20, -1])
def test_a_push_subscription_expiry_beyond_a_bigint_is_refused(client, make, value):
    headers = make.headers(make.user("volunteer", make.geo().b1))
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/abc")
    body["expirationTime"] = value
    answer = client.post("/api/push/subscriptions", json=body, headers=headers)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert list(answer.get_json()["error"]["fields"]) == ["expirationTime"]
