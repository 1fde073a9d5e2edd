"""The offline app in real Chromium through the production stack: HTTPS from nginx with a
self-signed certificate, two app nodes, PgBouncer, the stack's own PostgreSQL."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE_SIZE, Phone
from tests.e2e.harness import VOLUNTEER


@pytest.fixture
def phone(browser, stack):
    context = browser.new_context(
        viewport=PHONE_SIZE,
        is_mobile=True,
        has_touch=True,
        service_workers="allow",
        # The rehearsal's certificate is self-signed; a real server has a real one.
        ignore_https_errors=True,
    )
    yield Phone(context, stack.base_url)
    context.close()


def test_offline_then_synced_through_https(phone, stack):
    phone.login(VOLUNTEER)
    # The service worker installed over HTTPS and holds the app shell.
    assert phone.page.evaluate("location.protocol") == "https:"
    phone.offline()
    phone.page.reload()
    expect(phone.page.get_by_test_id("network")).to_have_text("ऑफ़लाइन")
    phone.add_member("रीना टोप्पो", age=23, phone="9123456780")
    assert phone.waiting() == 1
    assert stack.query("SELECT name FROM members WHERE name = %s", "रीना टोप्पो") == []

    phone.online()
    phone.wait_synced()
    rows = stack.query("SELECT status, phone FROM members WHERE name = %s", "रीना टोप्पो")
    assert rows == [("pending", "9123456780")]
    assert phone.errors == []
