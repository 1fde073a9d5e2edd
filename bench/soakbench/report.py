"""The soak's figures: latency of push, pull and reads outside and inside fault windows,
failures by kind, the verification, written to the `## Soak` section of docs/benchmarks.md."""

import re
from collections import Counter

from syncbench.report import DOCS, load_average, machine, percentile, postgres_version, today

SECTION = "## Soak"
TARGET_P99_PUSH = 1.0


def latency_rows(samples, faults) -> tuple[list[str], dict]:
    """Markdown rows of p50/p95/p99 per kind, outside and inside fault windows; and the
    figures by (kind, where)."""
    groups: dict[tuple, list[float]] = {}
    for s in samples:
        if s.outcome != "ok":
            continue
        where = "inside" if faults.inside(s.started, s.seconds) else "outside"
        groups.setdefault((s.kind, where), []).append(s.seconds)
    rows, figures = [], {}
    for kind in ("push", "pull", "read"):
        for where in ("outside", "inside"):
            values = groups.get((kind, where), [])
            if not values:
                continue
            p = {q: percentile(values, q) for q in (50, 95, 99)}
            figures[(kind, where)] = p
            rows.append(
                f"| {kind} | {where} fault windows | {len(values):,} | {p[50] * 1000:,.0f} ms | "
                f"{p[95] * 1000:,.0f} ms | {p[99] * 1000:,.0f} ms | {max(values) * 1000:,.0f} ms |"
            )
    return rows, figures


def failure_rows(samples, faults) -> list[str]:
    counts = Counter(
        (s.kind, s.outcome, "inside" if faults.inside(s.started, s.seconds) else "outside")
        for s in samples
        if s.outcome != "ok"
    )
    return [
        f"| {kind} | {outcome} | {where} | {n:,} |"
        for (kind, outcome, where), n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]


def minute_line(samples, started: float) -> str:
    """p99 of the answered pushes in each minute of the run."""
    minutes: dict[int, list[float]] = {}
    for s in samples:
        if s.kind == "push" and s.outcome == "ok":
            minutes.setdefault(int((s.started - started) // 60), []).append(s.seconds)
    return ", ".join(f"{percentile(v, 99) * 1000:,.0f}" for _, v in sorted(minutes.items()))


def drain_rows(samples) -> list[str]:
    rows = []
    for kind in ("push", "pull"):
        values = [s.seconds for s in samples if s.kind == kind and s.outcome == "ok"]
        if values:
            p = {q: percentile(values, q) for q in (50, 95, 99)}
            rows.append(
                f"| {kind} | drain (every phone at once, after the run) | {len(values):,} | "
                f"{p[50] * 1000:,.0f} ms | {p[95] * 1000:,.0f} ms | {p[99] * 1000:,.0f} ms | "
                f"{max(values) * 1000:,.0f} ms |"
            )
    return rows


def cpu_lines(run: dict, samples) -> list[str]:
    """CPU each part used during the run, per second and per answered request."""
    answered = [s for s in samples if s.outcome == "ok"]
    pushes = sum(1 for s in answered if s.kind == "push")
    seconds = run["seconds"]
    used = run.get("cpu", {})
    parts = ", ".join(
        f"{name} {value:,.0f} s ({value / seconds:.2f} cores)" for name, value in used.items()
    )
    server = sum(v for k, v in used.items() if not k.startswith("load generator"))
    size = run.get("size")
    lines = [
        f"Requests answered in the run: {len(answered):,} ({len(answered) / seconds:,.1f}/s; "
        f"pushes {pushes:,}, {pushes / seconds:,.1f}/s). CPU used in the run's "
        f"{seconds:,.0f} s, from /proc: {parts}. The whole server side: "
        f"{server / seconds:.2f} cores, {server / max(1, len(answered)) * 1000:.1f} ms of CPU "
        "an answered request.",
    ]
    if size:
        rows = ", ".join(f"{k} {v:,}" for k, v in size["rows"].items())
        lines += [
            "",
            f"Database at the end: {size['bytes'] / 2**20:,.0f} MiB ({rows}); "
            f"{size['bytes'] / max(1, size['rows']['members']):,.0f} bytes a member, "
            "everything included.",
        ]
    return lines


def verification_lines(run: dict, ledger: dict, rules: dict, converge: dict) -> list[str]:
    return [
        "Verification:",
        "",
        "| check | result |",
        "|---|---|",
        f"| mutations accepted by the server (applied, merged, conflict) and found in "
        f"`applied_mutations` with the status the phone heard, record stored | "
        f"{ledger['accepted']:,} |",
        f"| lost (answered but not on the server, or neither answered nor queued) | "
        f"**{len(ledger['lost'])}** |",
        f"| not answered yet, still queued on its phone when the soak stopped waiting | "
        f"{len(ledger['queued'])} |",
        f"| duplicated (a retry not answered `duplicate`, or more writes than mutations) | "
        f"**{len(ledger['duplicated'])}** |",
        f"| answered status differs from the server's log | {len(ledger['mismatched'])} |",
        f"| phones whose final pull differs from a fresh pull or the database "
        f"({converge['phones']:,} phones, {converge['records_compared']:,} records; "
        f"{converge['unfinished']} phones whose final sync did not get through are not "
        f"compared) | **{len(converge['diverged'])}** |",
        f"| booths over 20 pending or approved | **{len(rules['over_cap'])}** "
        f"({rules['full_booths']} booths full, {rules['waitlisted']} members waitlisted) |",
        f"| waitlisted members beside a free place | {len(rules['stranded_waitlist'])} |",
        f"| EPICs on two live members | **{len(rules['epic_twice'])}** "
        f"({run['statuses_by_code'].get('epic_taken', 0)} retyped EPICs refused `epic_taken`) |",
        "",
    ]


def lines_for(args, run: dict, samples, faults, ledger: dict, rules: dict, converge: dict):
    """The section's text."""
    rows, figures = latency_rows(samples, faults)
    rows += drain_rows(run.get("drain_samples", []))
    for kind, values in run.get("server_times", {}).items():
        if values:
            p = {q: percentile(values, q) for q in (50, 95, 99)}
            rows.append(
                f"| {kind} | the app's own time (its request log), whole run | {len(values):,} | "
                f"{p[50] * 1000:,.0f} ms | {p[95] * 1000:,.0f} ms | {p[99] * 1000:,.0f} ms | "
                f"{max(values) * 1000:,.0f} ms |"
            )
    push_out = figures.get(("push", "outside"), {}).get(99)
    met = push_out is not None and push_out < TARGET_P99_PUSH
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(run["statuses"].items()))
    out = [
        f"Run {run['when']} at commit {run['commit']} on {machine()}; load average at start "
        f"{run['load']} (the machine is shared with other engineers' jobs). Stack: "
        f"{run['stack']}. PostgreSQL {run['pg']}.",
        "",
        f"{args.phones:,} simulated phones (asyncio, aiohttp) for {args.minutes:g} minutes: "
        f"{run['volunteers']:,} volunteers on {run['booths']:,} booths (two a booth) in "
        f"{run['blocks']} blocks, {run['presidents']} block-president phones, "
        f"{run['leaders']} leaders reading lists online. Each booth started with "
        f"{run['starting']} members. Volunteers add and edit members and grievances in "
        "bursts of 1-6 every 20-60 s, 30% of them go offline once for 1-4 minutes and come "
        "back with their queue; presidents approve (a tenth rejected) and acknowledge every "
        f"30-90 s; {args.drop_rate:.0%} of requests are cut by the client mid-request "
        "(the answer is lost; the phone sends the same batch again). Afterwards every phone "
        f"syncs until its outbox is empty ({run['drain']:.0f} s), pulls once more, and is "
        "compared with a fresh pull of its person and with the database.",
        "",
        "Faults (window = from the fault until the service is back, plus 10 s):",
        "",
        "| at | fault | lasted | detail |",
        "|---|---|---|---|",
    ]
    for w in faults.windows:
        out.append(
            f"| {w.start - run['started']:,.0f} s | {w.kind} | {(w.end - w.start):.1f} s | {w.note} |"
        )
    for skipped in faults.skipped:
        out.append(f"| | skipped | | {skipped} |")
    out += [
        "",
        "| request | when | answered | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Push p99 in each minute of the run (ms): " + minute_line(samples, run["started"]) + ".",
        "",
        *cpu_lines(run, samples),
        "",
        f"Mutations made: {ledger['made']:,}; answered {ledger['answered']:,} ({statuses}). "
        f"Requests failed without an answer or with an error, by kind:",
        "",
        "| request | failure | when | count |",
        "|---|---|---|---|",
        *(failure_rows(samples, faults) or ["| | none | | 0 |"]),
        "",
        *verification_lines(run, ledger, rules, converge),
    ]
    verdict = "met" if met else "**missed**"
    zero = not (ledger["lost"] or ledger["duplicated"] or converge["diverged"])
    out.append(
        f"Target p99 push < 1 s outside fault windows: {verdict}"
        + (f" ({push_out * 1000:,.0f} ms)." if push_out is not None else ".")
        + f" 0 lost, 0 duplicated, 0 diverged: {'met' if zero else '**missed**'}."
    )
    return out


def context(url) -> dict:
    from syncbench.report import git_commit

    return {
        "when": today(),
        "commit": git_commit(),
        "load": load_average(),
        "pg": postgres_version(url),
    }


def write_section(lines: list[str]):
    """Replace the `## Soak` section of docs/benchmarks.md (or add it at the end)."""
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = SECTION + "\n\n" + "\n".join(lines).rstrip() + "\n"
    found = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", doc, re.M | re.S)
    if found:
        doc = doc[: found.start()] + block + "\n" + doc[found.end() :].lstrip("\n")
    else:
        doc = doc.rstrip("\n") + "\n\n" + block
    DOCS.write_text(doc.rstrip("\n") + "\n")
