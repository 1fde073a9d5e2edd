"""A server bug never wedges the phone: in real Chromium against the real server, a change
the server keeps failing on (500) is set aside in "needs attention" with the error, and the
changes behind it sync."""

import gzip
import json

from playwright.sync_api import expect

from tests.e2e.harness import VOLUNTEER

POISONED = "मीना टोप्पो"
SERVER_ERROR = {
    "error": {
        "code": "internal_error",
        "message": "Something went wrong on the server.",
        "fields": {},
    }
}


def push_body(request) -> str:
    body = request.post_data_buffer or b""
    if (request.headers.get("content-encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def test_a_change_the_server_keeps_failing_is_set_aside_and_the_rest_sync(phones, server):
    phone = phones()
    phone.login(VOLUNTEER)
    phone.offline()
    for name, age in (("सरिता मुंडा", 21), (POISONED, 24), ("Vikas Hembrom", 27)):
        phone.add_member(name, age=age)
    assert phone.waiting() == 3

    # The server has a bug that fails every push holding one particular change. The route is
    # the context's, so it also catches the service worker's Background Sync pushes.
    failed = []

    def push(route):
        if POISONED in push_body(route.request):
            failed.append(route.request.service_worker is not None)
            route.fulfill(
                status=500, content_type="application/json", body=json.dumps(SERVER_ERROR)
            )
        else:
            route.fallback()

    phone.context.route("**/api/sync/push", push)
    phone.online()
    phone.go("/")
    attention = phone.page.get_by_test_id("attention-count")
    # The app retries with backoff by itself; "sync now" only makes the test quicker.
    for _ in range(120):
        if (
            attention.inner_text() == "1"
            and phone.page.get_by_test_id("waiting-count").inner_text() == "0"
        ):
            break
        button = phone.page.get_by_role("button", name="अभी सिंक करें")
        if button.is_enabled():
            button.click()
        phone.page.wait_for_timeout(500)
    expect(attention).to_have_text("1")
    expect(phone.page.get_by_test_id("waiting-count")).to_have_text("0")
    assert len(failed) >= 6, "three tries of the batch, then three of the change alone"

    # The two good changes reached the server, numbered without a gap; the bad one did not.
    assert sorted(r[0] for r in server.query("SELECT name FROM members")) == sorted(
        ["सरिता मुंडा", "Vikas Hembrom"]
    )
    assert [r[0] for r in server.query("SELECT seq FROM applied_mutations ORDER BY seq")] == [1, 2]

    phone.go("/sync")
    card = phone.page.get_by_test_id("rejected")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(POISONED)
    expect(card).to_contain_text("सर्वर इस बदलाव को सहेजते समय बार-बार गड़बड़ा गया")
    expect(card.get_by_test_id("server-error")).to_have_text(
        "सर्वर का जवाब: HTTP 500 · internal_error · Something went wrong on the server."
    )
    expect(phone.page.get_by_test_id("waiting")).to_have_count(0)
    phone.page.evaluate(
        "window.scrollTo(0, document.querySelector('[data-testid=rejected]').offsetTop - 120)"
    )
    phone.screenshot("sync-set-aside")
    phone.go("/members")
    expect(phone.member_row(POISONED).locator("[data-sync=rejected]")).to_be_visible()

    # Once the server is fixed, the person sends it again: a new change with the next seq.
    phone.context.unroute("**/api/sync/push")
    phone.go("/sync")
    phone.page.get_by_test_id("rejected").get_by_role("button", name="फिर से भेजें").click()
    expect(phone.page.get_by_test_id("rejected")).to_have_count(0)
    phone.wait_synced()
    assert sorted(r[0] for r in server.query("SELECT name FROM members")) == sorted(
        ["सरिता मुंडा", POISONED, "Vikas Hembrom"]
    )
    assert [r[0] for r in server.query("SELECT seq FROM applied_mutations ORDER BY seq")] == [
        1,
        2,
        3,
    ]
    assert phone.errors == []
