"""The push API: the published key, subscribing a device, and refusing foreign hosts."""

import pytest
from sqlalchemy import select

from server.extensions import db
from server.push.models import PushSubscription
from server.push.vapid import KEY_FILE
from tests.server.push.standin import BrowserKeys


def _subs():
    return db.session.scalars(select(PushSubscription).order_by(PushSubscription.id)).all()


def test_key_is_published(client, push_config):
    response = client.get("/api/push/key")
    assert response.status_code == 200
    assert response.json == {"public_key": push_config}


def test_no_key_configured_is_a_clear_error(app, client, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    response = client.get("/api/push/key")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "push_unavailable"


def test_vapid_keys_command_makes_the_pair_once(app, client, runner, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    first = runner.invoke(args=["vapid-keys"])
    assert first.exit_code == 0, first.output
    assert "Made a new VAPID key pair" in first.output
    key_file = tmp_path / KEY_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    pem = key_file.read_text()
    second = runner.invoke(args=["vapid-keys"])
    assert "Keeping the key pair" in second.output
    assert key_file.read_text() == pem
    public = first.output.strip().splitlines()[-1].removeprefix("Public key: ")
    assert client.get("/api/push/key").json["public_key"] == public


def test_mismatched_public_key_is_refused(app, client, monkeypatch, push_config):
    monkeypatch.setitem(app.config, "VAPID_PUBLIC_KEY", push_config[:-4] + "AAAA")
    assert client.get("/api/push/key").status_code == 503


def test_subscribe_replace_and_unsubscribe(client, make, push_config):
    user = make.user("volunteer")
    device = make.device(user)
    headers = make.headers(user, device)
    keys = BrowserKeys()
    first = keys.subscription_json("https://fcm.googleapis.com/fcm/send/aaa")
    response = client.post("/api/push/subscriptions", json=first, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["endpoint"] == first["endpoint"]

    # The browser re-subscribes (new endpoint, new keys): still one row for the device.
    second = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/bbb")
    second["expirationTime"] = 1_900_000_000_000
    assert client.post("/api/push/subscriptions", json=second, headers=headers).status_code == 201
    [sub] = _subs()
    assert (sub.device_id, sub.endpoint, sub.expires_at) == (
        device.id,
        second["endpoint"],
        second["expirationTime"],
    )
    assert sub.p256dh == second["keys"]["p256dh"]

    assert client.delete("/api/push/subscriptions", headers=headers).status_code == 204
    assert _subs() == []
    # Removing again is harmless.
    assert client.delete("/api/push/subscriptions", headers=headers).status_code == 204


def _post(client, body, headers):
    return client.post("/api/push/subscriptions", json=body, headers=headers)


def test_an_endpoint_of_another_persons_device_is_refused_not_moved(client, make, push_config):
    owner, stranger = make.user("volunteer"), make.user("volunteer")
    owner_device = make.device(owner)
    body = BrowserKeys().subscription_json("https://updates.push.services.mozilla.com/wpush/v2/x")
    assert _post(client, body, make.headers(owner, owner_device)).status_code == 201

    stolen = BrowserKeys().subscription_json(body["endpoint"])
    response = _post(client, stolen, make.headers(stranger))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "endpoint_taken"
    assert list(response.json["error"]["fields"]) == ["endpoint"]
    [sub] = _subs()
    assert (sub.user_id, sub.device_id, sub.p256dh) == (
        owner.id,
        owner_device.id,
        body["keys"]["p256dh"],
    )


def test_an_endpoint_of_another_device_of_the_same_person_is_refused(client, make, push_config):
    user = make.user("volunteer")
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/one")
    assert _post(client, body, make.headers(user)).status_code == 201

    response = _post(client, body, make.headers(user))

    assert (response.status_code, response.json["error"]["code"]) == (409, "endpoint_taken")
    assert len(_subs()) == 1


def test_subscribing_the_same_endpoint_again_from_the_same_device_is_idempotent(
    client, make, push_config
):
    user = make.user("volunteer")
    headers = make.headers(user)
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/one")

    first = _post(client, body, headers)
    again = _post(client, body, headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json["id"] == again.json["id"]
    [sub] = _subs()
    assert sub.endpoint == body["endpoint"]


def test_a_revoked_devices_endpoint_may_be_registered_again(client, make, push_config):
    user = make.user("volunteer")
    old_device = make.device(user)
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/one")
    assert _post(client, body, make.headers(user, old_device)).status_code == 201
    new_device = make.device(user)
    new_headers = make.headers(user, new_device)
    assert (
        client.post(f"/api/devices/{old_device.id}/revoke", headers=new_headers).status_code == 200
    )

    response = _post(client, body, new_headers)

    assert response.status_code == 201, response.json
    assert [s.device_id for s in _subs()] == [new_device.id]


def test_subscribing_needs_a_login(client, push_config):
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/aaa")
    assert client.post("/api/push/subscriptions", json=body).status_code == 401


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://web.push.apple.com/QGx9",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
    ],
)
def test_browser_push_services_are_allowed(client, make, push_config, endpoint):
    body = BrowserKeys().subscription_json(endpoint)
    response = client.post(
        "/api/push/subscriptions", json=body, headers=make.headers(make.user("volunteer"))
    )
    assert response.status_code == 201, response.json


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://attacker.example.com/push",
        "https://fcm.googleapis.com.attacker.example.com/push",
        "https://push.apple.com.evil.test/x",
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://user:pw@fcm.googleapis.com/fcm/send/abc",
        "http://10.0.0.5/internal",
        "http://169.254.169.254/latest/meta-data",
        "ftp://fcm.googleapis.com/x",
        "not a url",
        # The authority must come back from parsing exactly as sent: these end in a
        # listed wildcard host for urlsplit, but an HTTP client may connect elsewhere.
        "https://attacker.example.com\\.push.apple.com/x",
        "https://attacker.example.com%2f.push.apple.com/x",
        "https://attacker.example.com%2F.web.push.apple.com/x",
        "https://attacker.example.com\n.push.apple.com/x",
        "https://attacker.example.com\t.push.apple.com/x",
        "https://attacker.example.com%00.push.apple.com/x",
        "https://attacker.example.com\\@fcm.googleapis.com/x",
        "https://fcm.googleapis.com\\.attacker.example.com/x",
        "https://fcm.googleapis.com%2f.attacker.example.com/x",
        "https://fcm.googleapis.com%2F@attacker.example.com/x",
        "https://fcm%2egoogleapis.com/x",
        "https://fcm.googleapis.com\n.attacker.example.com/x",
        "https://fcm.googleapis.com\r\n/x",
        "https://fcm.googleapis.com\t/x",
        "https://fcm.googleapis.com /x",
        " https://fcm.googleapis.com/x",
        "https://fcm.googleapis.com/x\n",
        "https://fcm.googleapis.com\x00.attacker.example.com/x",
        "https://@fcm.googleapis.com/x",
        "https://user@fcm.googleapis.com/x",
        "https://fcm.googleapis.com:443/fcm/send/abc",
        "https://fcm.googleapis.com:/fcm/send/abc",
        "https://FCM.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com./fcm/send/abc",
        "https://fcm.googleapis.com/fcm/send/abc#frag",
        "https://fcm.googleapis.com/fcm/send/abc?",
        "https://fcm.googleapis.com/fcm/send/ä",
        "https://fcm.googleapis.cоm/x",  # a Cyrillic o
        "https:fcm.googleapis.com/x",
        "https:///fcm.googleapis.com/x",
        "//fcm.googleapis.com/x",
    ],
)
def test_other_hosts_are_refused_at_subscribe_time(client, make, endpoint):
    body = BrowserKeys().subscription_json(endpoint)
    response = client.post(
        "/api/push/subscriptions", json=body, headers=make.headers(make.user("volunteer"))
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "endpoint" in response.json["error"]["fields"]
    assert _subs() == []


def test_loopback_http_only_when_listed(app, client, make, monkeypatch):
    body = BrowserKeys().subscription_json("http://127.0.0.1:8123/push/x")
    headers = make.headers(make.user("volunteer"))
    response = client.post("/api/push/subscriptions", json=body, headers=headers)
    assert response.status_code == 422
    assert "endpoint" in response.json["error"]["fields"]
    monkeypatch.setitem(app.config, "PUSH_ALLOWED_HOSTS", ["127.0.0.1"])
    assert client.post("/api/push/subscriptions", json=body, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),
        ({"p256dh": "BA" + "A" * 85, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),
        ({"auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),
        (None, "auth"),
    ],
)
def test_bad_keys_are_refused(client, make, keys, field):
    body = BrowserKeys().subscription_json("https://fcm.googleapis.com/fcm/send/abc")
    if keys is None:
        body["keys"]["auth"] = "c2hvcnQ"
    else:
        body["keys"] = keys
    response = client.post(
        "/api/push/subscriptions", json=body, headers=make.headers(make.user("volunteer"))
    )
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]["keys"]


def test_push_worker_without_a_key_says_what_to_do(app, runner, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 1
    assert "vapid-keys" in result.output
