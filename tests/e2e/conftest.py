"""Browser fixtures: the built app served by the real server on PostgreSQL, and phones
(Chromium contexts at 360x640) that go offline and come back."""

import json
import os
import shutil
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    ROOT,
    LiveServer,
    build_app,
    deploy,
)

SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE_SIZE = {"width": 360, "height": 640}
# Records the tests make; emptied before each test so each starts from the demo data.
RECORD_TABLES = (
    "members",
    "grievance_notes",
    "grievances",
    "grievance_serials",
    "conflicts",
    "rsvps",
    "meetings",
    "record_changes",
    "applied_mutations",
)


@pytest.fixture(autouse=True)
def _empty_database():
    """The unit tests' database is not used here: the server below has its own."""
    yield


@pytest.fixture(scope="session")
def chromium_path():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: install Debian's chromium "
            "(apt-get install chromium); the browser tests never download a browser."
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def builds(tmp_path_factory):
    """Two releases of the app: the one served first, and a later one to deploy."""
    root = tmp_path_factory.mktemp("releases")
    first = build_app(root / "release-1", release="e2e-1")
    return {"first": first, "second_dir": root / "release-2", "root": root}


@pytest.fixture(scope="session")
def live_dist(builds):
    live = builds["root"] / "live"
    shutil.copytree(builds["first"], live)
    return live


@pytest.fixture(scope="session")
def server(live_dist):
    live = LiveServer(live_dist).start()
    yield live
    live.stop()


@pytest.fixture(autouse=False)
def clean_server(server, builds, live_dist):
    """Each test starts from the demo data and the first release."""
    server.execute(f"TRUNCATE {', '.join(RECORD_TABLES)} RESTART IDENTITY CASCADE")
    server.execute("UPDATE users SET language = 'hi'")
    deploy(builds["first"], live_dist)
    return server


@pytest.fixture(scope="session")
def browser(chromium_path):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Phone:
    """One phone: a browser context with its own storage, and the steps a person takes."""

    def __init__(self, context, base_url):
        self.context = context
        self.base = base_url
        self.page = context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def go(self, path):
        self.page.goto(self.base + path)
        self.page.wait_for_selector("main")

    def new_tab(self):
        """Close this tab and open the app again in a new one (same phone, same storage)."""
        self.page.close()
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def login(self, phone):
        self.go("/login")
        self.page.fill("input[name=phone]", phone)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("[data-testid=sync-summary]")
        self.wait_controlled()
        self.wait_synced()

    def wait_controlled(self):
        """The service worker has installed the app shell and controls this page."""
        self.page.evaluate("navigator.serviceWorker.ready")
        if not self.page.evaluate("!!navigator.serviceWorker.controller"):
            self.page.reload()
        self.page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)

    def offline(self):
        self.context.set_offline(True)

    def online(self):
        self.context.set_offline(False)

    def waiting(self) -> int:
        self.go("/")
        return int(self.page.get_by_test_id("waiting-count").inner_text())

    def wait_synced(self, timeout=20000):
        """Home shows nothing waiting (the sync on open, on `online`, or after a change)."""
        if self.page.url != self.base + "/":
            self.go("/")
        expect(self.page.get_by_test_id("waiting-count")).to_have_text("0", timeout=timeout)
        expect(self.page.get_by_test_id("network")).not_to_have_text("सिंक हो रहा है…")

    def sync_now(self):
        self.go("/")
        self.page.get_by_role("button", name="अभी सिंक करें").click()

    def add_member(self, name, age="22", gender="female", phone=None, epic=None):
        self.go("/members/new")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=age]", str(age))
        self.page.check(f"input[name=gender][value={gender}]")
        if phone:
            self.page.fill("input[name=phone]", phone)
        if epic:
            self.page.fill("input[name=epic]", epic)
        self.page.check("input[name=skills][value=social_media]")
        self.page.check("input[name=consent]")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/members")
        expect(self.page.locator(f"[data-testid=member-row][data-name='{name}']")).to_be_visible()

    def add_grievance(self, category, description):
        self.go("/grievances/new")
        self.page.select_option("select[name=category]", category)
        self.page.fill("textarea[name=description]", description)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("[data-testid=ref-no]")

    def member_row(self, name):
        return self.page.locator(f"[data-testid=member-row][data-name='{name}']")

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(150)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def phones(browser, clean_server):
    """Make phones; each is a fresh browser context, as a separate handset would be."""
    contexts = []

    def make():
        context = browser.new_context(
            viewport=PHONE_SIZE,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            service_workers="allow",
        )
        contexts.append(context)
        return Phone(context, clean_server.url)

    yield make
    for context in contexts:
        context.close()


def api(server, method, path, body=None, token=None):
    """Call the server as another device would (to set the stage for a test)."""
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read() or b"null")


def api_login(server, phone):
    device = str(uuid.uuid4())
    answer = api(
        server,
        "POST",
        "/api/auth/login",
        {"phone": phone, "password": DEMO_PASSWORD, "device_id": device, "device_name": "test"},
    )
    return answer["access_token"], device, answer["user"]


@pytest.fixture
def second_release(builds):
    """Build (once) a later release of the app, to deploy during a test."""
    target: Path = builds["second_dir"]
    if not target.exists():
        build_app(target, release="e2e-2")
    return target
