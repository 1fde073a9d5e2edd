"""App budgets: shell size, repeat loads from the worker alone, first load on slow 3G with a
4x slower CPU, and an offline start; prints the figures and writes docs/benchmarks.md.

    .venv/bin/python bench/app_budget.py [--runs 3]

The built app is served by the real server (gunicorn, throwaway PostgreSQL database) and
loaded in Debian's Chromium at 360x640. Networks and CPU are emulated through the DevTools
protocol: DevTools' "Slow 3G" of the issue, 400 kbps both ways and 400 ms round trip.
"""

import argparse
import gzip
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    VOLUNTEER,
    LiveServer,
    build_app,
)

SHELL_BUDGET = 60 * 1024
FIRST_LOAD_BUDGET_MS = 5000
OFFLINE_START_BUDGET_MS = 1500
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
CPU_SLOWDOWN = 4
PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
SECTION = "## App budgets"
# When the login form can be used: it is drawn and its fields take input.
LOGIN_USABLE = "() => document.querySelector('input[name=phone]') && performance.now()"
HOME_READY = (
    "() => document.querySelector('[data-testid=waiting-count]') && "
    "document.querySelector('[data-testid=squad-progress]') && performance.now()"
)


def is_shell(url: str) -> bool:
    path = url.split("//", 1)[-1].split("/", 1)[-1]
    return not path.startswith("api/")


class Recorder:
    """Every request of a context (page and worker) and whether it reached the network."""

    def __init__(self, context):
        self.requests = []
        context.on("requestfinished", self.finished)

    def finished(self, request):
        response = request.response()
        from_worker_cache = bool(response and response.from_service_worker)
        self.requests.append(
            {
                "url": request.url,
                "by_worker": request.service_worker is not None,
                "network": not from_worker_cache,
                "bytes": request.sizes()["responseBodySize"] if not from_worker_cache else 0,
                "type": request.resource_type,
            }
        )

    def clear(self):
        self.requests = []

    def network_shell(self):
        return [r for r in self.requests if r["network"] and is_shell(r["url"])]


def shell_sizes(dist: Path) -> dict:
    """Gzipped bytes of the app shell files the first load fetches."""
    html = (dist / "index.html").read_text()
    sizes = {"index.html": len(gzip.compress((dist / "index.html").read_bytes(), 9))}
    for asset in sorted((dist / "assets").glob("*.*")):
        if asset.suffix in (".js", ".css") and f"/assets/{asset.name}" in html:
            sizes[f"assets/{asset.name}"] = len(gzip.compress(asset.read_bytes(), 9))
    sizes["sw.js"] = len(gzip.compress((dist / "sw.js").read_bytes(), 9))
    return sizes


def first_load(browser, url):
    """Fresh phone, slow 3G, 4x CPU: ms until the login form can be used; bytes transferred."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    transferred = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(url + "/", wait_until="commit")
    usable = page.wait_for_function(LOGIN_USABLE, polling=50, timeout=60000).json_value()
    page.wait_for_load_state("load")
    total = sum(transferred.values())
    context.close()
    return usable, total


def repeat_and_offline(browser, server):
    """Log in, let the worker install, then: a repeat load (what reaches the network), and
    an offline start (ms until home shows the phone's data), CPU 4x slower."""
    url = server.url
    context = browser.new_context(**PHONE)
    recorder = Recorder(context)
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=phone]", VOLUNTEER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=sync-summary]")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("!!navigator.serviceWorker.controller", timeout=15000)
    page.wait_for_timeout(1500)

    recorder.clear()
    offset = server.log_size()
    page.reload()
    page.wait_for_function(HOME_READY, timeout=15000)
    page.wait_for_timeout(1500)
    repeat = recorder.network_shell()
    # The server's own access log: whatever the browser fetched, seen or not by Playwright.
    served = [line for line in server.requests_since(offset) if " /api/" not in line]
    from_worker = [r for r in recorder.requests if not r["network"]]
    api_calls = [r for r in recorder.requests if not is_shell(r["url"])]

    context.set_offline(True)
    timings = []
    for _ in range(3):
        page.close()
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url + "/", wait_until="commit")
        timings.append(page.wait_for_function(HOME_READY, polling=50, timeout=15000).json_value())
    context.close()
    return {
        "repeat_network": repeat,
        "repeat_served": served,
        "repeat_from_worker": len(from_worker),
        "repeat_api": len(api_calls),
        "offline_ms": statistics.median(timings),
    }


def git_commit():
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_section(text: str):
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start = current.find(SECTION)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        following = current.find("\n## ", start + len(SECTION))
        rest = current[following + 1 :] if following != -1 else ""
        updated = current[:start] + text + ("\n" + rest if rest else "")
    path.write_text(updated)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="first loads to take the median of")
    args = parser.parse_args()

    sizes, loads, later, version = measure(args.runs)
    checks = budget_checks(sizes, loads, later)
    print_checks(checks, later)
    write_section(report_section(checks, sizes, later, version))
    print("wrote docs/benchmarks.md (## App budgets)")
    return 0 if all(ok for *_, ok in checks[:2] + checks[3:]) else 1


def measure(runs: int):
    """Build the app, serve it and load it: (gzip sizes, first loads, later loads, Chromium)."""
    dist = build_app(Path(tempfile.mkdtemp(prefix="booth-budget-")) / "dist")
    sizes = shell_sizes(dist)
    server = LiveServer(dist, access_log=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            loads = [first_load(browser, server.url) for _ in range(runs)]
            later = repeat_and_offline(browser, server)
            version = browser.version
            browser.close()
    finally:
        server.stop()
    return sizes, loads, later, version


def budget_checks(sizes, loads, later) -> list[tuple[str, str, str, bool]]:
    """(budget, measured, limit, met) for each budget of the issue."""
    page_shell = sum(v for k, v in sizes.items() if k != "sw.js")
    first_ms = statistics.median(ms for ms, _ in loads)
    first_bytes = statistics.median(b for _, b in loads)
    repeat_bytes = sum(r["bytes"] for r in later["repeat_network"])
    checks = [
        (
            "App shell (HTML, JS, CSS), gzip",
            f"{page_shell / 1024:.1f} KB",
            "≤ 60 KB",
            page_shell <= SHELL_BUDGET,
        ),
        (
            "… with the service worker",
            f"{(page_shell + sizes['sw.js']) / 1024:.1f} KB",
            "≤ 60 KB",
            page_shell + sizes["sw.js"] <= SHELL_BUDGET,
        ),
        ("First load, all bytes transferred (slow 3G)", f"{first_bytes / 1024:.1f} KB", "", True),
        (
            f"First load usable (slow 3G, 4× CPU), median of {len(loads)}",
            f"{first_ms / 1000:.2f} s",
            "≤ 5 s",
            first_ms <= FIRST_LOAD_BUDGET_MS,
        ),
        (
            "Repeat load: app-shell requests reaching the network",
            f"{len(later['repeat_network'])} ({repeat_bytes} B)",
            "0",
            not later["repeat_network"],
        ),
        (
            "Repeat load: app-shell requests in the server's access log",
            str(len(later["repeat_served"])),
            "0",
            not later["repeat_served"],
        ),
        (
            "Offline start to home with data (4× CPU), median of 3",
            f"{later['offline_ms'] / 1000:.2f} s",
            "≤ 1.5 s",
            later["offline_ms"] <= OFFLINE_START_BUDGET_MS,
        ),
    ]
    return checks


def print_checks(checks, later):
    for name, value, budget, ok in checks:
        print(f"{name:<62} {value:>14} {budget:>8}  {'ok' if ok else 'OVER'}")
    print(
        f"repeat load: {later['repeat_from_worker']} answered by the worker, "
        f"{later['repeat_api']} API calls (the sync on open)"
    )
    for r in later["repeat_network"]:
        print("  reached the network:", r["url"], r["bytes"], "B")
    for line in later["repeat_served"]:
        print("  served:", line)


def report_section(checks, sizes, later, version) -> str:
    """The "## App budgets" section of docs/benchmarks.md."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(
        f"| {name} | {value} | {budget or '—'} | {'met' if ok else '**over**'} |"
        for name, value, budget, ok in checks
    )
    files = ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in sizes.items())
    return f"""{SECTION}

    .venv/bin/python bench/app_budget.py     # --runs 3

Run {now} at commit {git_commit()} on {platform.machine()}, {version and "Chromium " + version};
the built app served by gunicorn from a throwaway PostgreSQL database, loaded at 360×640.
Slow 3G is emulated over the DevTools protocol (400 kbps down and up, 400 ms round trip)
with the CPU slowed 4× (`Emulation.setCPUThrottlingRate`). "Usable" is the moment the
login form is drawn and takes input, from navigation start (`performance.now()`); the
offline start is a new tab with no network opening the home screen with the phone's data.
The machine is shared with other engineers' runs, so times can vary from run to run.

| budget | measured | limit | |
|---|---|---|---|
{rows}

Gzip sizes: {files}. A repeat load answered {later["repeat_from_worker"]} requests from the
service worker's precache; the {later["repeat_api"]} API calls it made are the sync on open
(data, not the app), which the app makes whenever it opens with a signal.
"""


if __name__ == "__main__":
    sys.exit(main())
