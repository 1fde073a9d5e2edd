"""Mutation scores of the sync rules (`make mutation`): reads mutmut's results (sync/) and
StrykerJS's JSON report (pwa/src/sync/), prints both scores and writes the "## Mutation
testing" section at the end of docs/benchmarks.md.

    .venv/bin/python bench/mutation_report.py [--python-seconds S] [--js-seconds S]

Run after `mutmut run` and `stryker run` (the make target does both); after `mutmut run`
alone (no reports/mutation/stryker.json) the StrykerJS rows of the section already in
docs/benchmarks.md are kept as they are, from the run they came from. The score is
Stryker's: (killed + timeout) / (killed + timeout + survived + no coverage).
Every survivor is listed; those looked at and found equivalent carry the reason below
(SURVIVOR_NOTES), the others are marked as known and not yet killed.
"""

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
STRYKER_JSON = ROOT / "reports" / "mutation" / "stryker.json"
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
SECTION = "## Mutation testing"
TARGET = 90.0

# Survivors looked at, by mutmut function name or StrykerJS "file:line": equivalent (no
# behaviour a test could tell apart) or why they are left.
# Reasons shared by many functions: what neither store (server/syncing/writing.py and
# conflicts.py, tests/sync/memory_store.py) reads, so no behaviour can tell the mutant apart.
UPDATE_ACTOR = (
    "equivalent: a store reads write()'s actor only for a new record (its created_by); an "
    "update's audit row names the batch's user"
)
NO_PLACE = (
    "equivalent: a meeting, RSVP or conflict record is not booth-scoped, so neither store "
    "reads the place of its write"
)
OWN_HLC = (
    "equivalent: keep_clashes' hlc only names the actor as the author of a value that lost "
    "with the actor's own stamp; store.author_of(that stamp) names the same user"
)
NOT_FOUND = (
    "equivalent: not_found() words only a conflict differently; any other entity name gives "
    "the same answer"
)
SURVIVOR_NOTES: dict[str, str] = {
    "sync.fields.x_one_of": "equivalent: error=None (or left out) is marshmallow's OneOf "
    "default, the same text 'Must be one of: {choices}.'",
    "sync.fields.xǁQueryIntǁ__init__": "equivalent: strict=None is as falsy as False",
    "sync.fields.xǁSafeStringǁ_deserialize": "equivalent: marshmallow's (4.x) "
    "String._deserialize reads only the value, never attr, data or its keyword arguments",
    "sync.fields.x_check_fields": "equivalent: no field of the sync schemas is required=True "
    "(REQUIRED_ON_CREATE is checked after the load), so `partial` changes nothing",
    "sync.protocol.x_printable": "equivalent: 3 escapes text that needs none (a no-op), 15 and "
    "19 spell the codec UTF-8 (codec names ignore case)",
    "sync.protocol.x_printable_envelope": "17 equivalent (ensure_ascii=None is falsy), 28 "
    "equivalent (an envelope key is plain ASCII, printable() returns it unchanged); 10, 11 "
    "killed by the hlc case of test_printable_envelope_escapes_the_envelope_text (added "
    "after this run)",
    "sync.protocol.x_mutation_problems": "equivalent: in_int_range's default is 32 bits",
    "sync.protocol.x_is_cursor_state": "28, 35 equivalent (in_int_range's default is 32 bits)",
    "sync.protocol.x_decode_cursor": "equivalent: Python's base64 decoder ignores surplus padding",
    "sync.protocol.x_encode_cursor": "equivalent: also strips a trailing X, but a cursor is "
    "the base64 of a JSON object, whose closing brace always encodes as a last Q, w or 9",
    "sync.values.xǁRejectionǁ__init__": "equivalent: answers carry `message`, never str(rejection)",
    "sync.hlc.x_parse": "equivalent: neither '' nor 'XXXX' is an HLC",
    "sync.merge.x_merge": "20 equivalent (a field never written has version 0, never above a "
    "base, so its stamp is never read); 27 equivalent (two stamps are equal only from one "
    "device, taken by the branch before)",
    "sync.merge.x_keep_clashes": OWN_HLC,
    "sync.merge.x_write": "equivalent: neither store's save() reads the hlc (write() stamps "
    "the fields itself)",
    "sync.merge.x_delete_record": "equivalent: the actor (as for any update) and the stamp of "
    "`deleted` (never merged: a phone cannot send it, changed_since skips it) are not read",
    "sync.scope.x_can_see": "62, 63 equivalent: sees_grievance() of a member is true (a "
    "member has no category)",
    "sync.records.grievances.x_may_move": "4 equivalent: unit ids are unique across unit "
    "types, so only a volunteer's unit can be the booth; 23 equivalent: None is as falsy as "
    "False",
    "sync.records.grievances.x_apply_note": "equivalent: 93, both stores file a booth record "
    "under the place it is written with; 115, a note is append-only, its fields' stamps are "
    "never merged",
    "sync.records.roster.x_edit_of_deleted": "9-15 equivalent: a deleted member is not "
    "written again until restored, so its version is the delete's and the stamp of "
    "`deleted` is always there; 23 killed by test_a_member_restored_into_a_full_booth_waits_"
    "from_the_restore (added after this run)",
    "sync.records.roster.x_keep_waitlisted_approval": "killed by test_an_approval_kept_as_"
    "squad_full_names_when_it_was_typed (added after this run)",
    "sync.records.grievances.x_create_grievance": "64 equivalent: max() with a time in "
    "milliseconds, whether the floor is 0 or 1",
    "sync.records.grievances.x_update_grievance": f"{UPDATE_ACTOR}; {OWN_HLC}",
    "sync.records.grievances.x_apply_grievance": NOT_FOUND,
    "sync.records.meetings.x_apply_meeting": f"12-14 {NOT_FOUND}; 87, 175 {NO_PLACE}; 173 "
    f"{UPDATE_ACTOR}; 159 {OWN_HLC}; 86 killed by test_a_meeting_edited_without_a_base_"
    "clashes_with_its_creation (added after this run)",
    "sync.records.meetings.x_apply_rsvp": f"{NO_PLACE}; {UPDATE_ACTOR}",
    "sync.records.meetings.x_check_may_change_meeting": "equivalent: a stored meeting always "
    "has its creator, and user_place(None) is None anyway",
    "sync.records.conflicts.x_apply_conflict": f"73 {UPDATE_ACTOR}; 75 {NO_PLACE}",
    "sync.records.roster.x_decision_on_changed": f"{OWN_HLC}; the actor passed on is read "
    "only for a decision (popped here) or a new record",
    "sync.records.roster.x_apply_member_changes": UPDATE_ACTOR,
    "sync.records.roster.x_erase_member": f"58, 77 {UPDATE_ACTOR}; 31 {OWN_HLC}; 59 "
    "equivalent (an erased member's stamps are never merged: edits are refused or kept as "
    "lost to the delete)",
    "sync.records.roster.x_delete_member": f"2-4 {NOT_FOUND}; 31 {UPDATE_ACTOR}",
    "sync.records.roster.x_room_in_booth": "equivalent: it is asked only about a member not "
    "counted in that booth (a new or deleted one, one not pending or approved before, or one "
    "moving in from another booth), so excluding its id or not gives the same count",
    "sync.records.roster.x_promote_waitlisted": f"13 {UPDATE_ACTOR}; 1, 2, 5, 6 equivalent: "
    "it runs just after a place freed in the booth (under its lock), so the count is below "
    "20 whatever it counts",
    "sync.records.roster.x_update_member": OWN_HLC,
    "sync.records.roster.x_create_member": "equivalent: epic_holder() leaves out deleted "
    "members, so a new or restored member is never its own holder whatever id is excluded",
    "pwa/src/sync/scheduler.js:20": "known: the real-timer default; every test injects its timers",
    "pwa/src/sync/scheduler.js:21": "known: the real-timer default; every test injects its timers",
    "pwa/src/sync/hlc.js:39": "killed by the last case of hlc.test.mjs (added after this run)",
    "pwa/src/sync/locks.js:14": "equivalent under Node: no `navigator.locks` there, so the "
    "Web Locks branch runs only in the browser (tests/e2e)",
    "pwa/src/sync/locks.js:15": "equivalent under Node (as line 14)",
    "pwa/src/sync/locks.js:20": "equivalent: dropping a settled chain only frees memory",
    "pwa/src/sync/locks.js:21": "equivalent: dropping a settled chain only frees memory",
}
from mutation_js_notes import JS_SURVIVOR_NOTES  # noqa: E402  (the StrykerJS survivors' notes)

SURVIVOR_NOTES.update(JS_SURVIVOR_NOTES)


def python_results(folder: Path = ROOT) -> dict[str, str]:
    """mutmut's verdict per mutant name, run in `folder` (beside its mutants/): the
    repository root, or the scratch copy of `make mutation-server`."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    verdicts = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            verdicts[name] = status
    return verdicts


def python_module(mutant: str) -> str:
    """`sync.hlc.x_clamp__mutmut_3` -> `sync/hlc.py`."""
    module = re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]
    return module.replace(".", "/") + ".py"


def js_results() -> list[dict] | None:
    """One row per StrykerJS mutant: file, line, mutator, replacement, status; None when
    StrykerJS has not run (a Python-only run)."""
    if not STRYKER_JSON.exists():
        return None
    report = json.loads(STRYKER_JSON.read_text())
    rows = []
    for name, file in report["files"].items():
        for m in file["mutants"]:
            rows.append(
                {
                    "file": name,
                    "line": m["location"]["start"]["line"],
                    "mutator": m["mutatorName"],
                    "replacement": m.get("replacement", ""),
                    "status": m["status"],
                }
            )
    return rows


JS_STATUS = {
    "Killed": "killed",
    "Survived": "survived",
    "Timeout": "timeout",
    "NoCoverage": "no tests",
    "CompileError": "error",
    "RuntimeError": "error",
    "Ignored": "skipped",
}


def score(counts: Counter) -> float:
    caught = counts["killed"] + counts["timeout"]
    valid = caught + counts["survived"] + counts["no tests"] + counts["suspicious"]
    return 100.0 * caught / valid if valid else 0.0


def shorten(text: str, width: int = 90, escape: bool = True) -> str:
    text = " ".join(text.split())
    if escape:
        text = text.replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_row(label: str, counts: Counter, seconds: float | None) -> str:
    took = f"{seconds / 60:.1f} min" if seconds else "?"
    return (
        f"| {label} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
        f"{counts['timeout']} | {counts['no tests']} | {counts['not checked']} | "
        f"**{score(counts):.1f}%** | {took} |"
    )


def previous_js_rows(doc: str) -> dict[str, list[str]]:
    """The StrykerJS rows of the section now in docs/benchmarks.md, by table: kept by a
    Python-only run."""
    start = doc.find("\n" + SECTION + "\n")
    rows = {"summary": [], "files": [], "survivors": []}
    for line in doc[start:].splitlines() if start >= 0 else []:
        if line.startswith("| `pwa/src/sync/` (StrykerJS)"):
            rows["summary"].append(line)
        elif line.startswith("| pwa/src/sync/"):
            rows["files"].append(line)
        elif line.startswith("| `pwa/src/sync/"):
            rows["survivors"].append(line)
    return rows


def section(py: dict[str, str], js: list[dict] | None, args, kept_js=None) -> str:
    """The section's text; `kept_js` (previous_js_rows) stands in for a StrykerJS run."""
    py_counts = Counter(py.values())
    js_counts = Counter(JS_STATUS.get(r["status"], r["status"]) for r in js or [])
    kept_js = kept_js or {"summary": [], "files": [], "survivors": []}
    js_summary = (
        [summary_row("`pwa/src/sync/` (StrykerJS)", js_counts, args.js_seconds)]
        if js is not None
        else kept_js["summary"]
    )
    lines = [
        SECTION,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} (the steps of `make mutation`) at commit "
        f"{git_commit()}: mutmut 3 over `sync/` (the engine, merge, HLC, scope, values, "
        "fields, protocol and `sync/records/`; the Store protocol and the registry left out) "
        "driven by the database-free tests of `tests/sync/`, and StrykerJS over "
        "`pwa/src/sync/*.js` driven by `tests/pwa/`. Score = (killed + timeout) / "
        f"(killed + timeout + survived + no coverage); target ≥ {TARGET:.0f}%.",
        *(["", args.note] if args.note else []),
        *(
            ["", "StrykerJS did not run this time: its rows are those of its last run."]
            if js is None
            else []
        ),
        "",
        "| code | mutants | killed | survived | timeout | no coverage | not run | score | run time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        summary_row("`sync/` (mutmut)", py_counts, args.python_seconds),
        *js_summary,
        "",
    ]
    lines += per_file_table(py, js or [], kept_js["files"])
    lines += survivors(py, js or [], kept_js["survivors"])
    return "\n".join(lines).rstrip() + "\n"


def per_file_table(py: dict[str, str], js: list[dict], kept: list[str]) -> list[str]:
    files: dict[str, Counter] = {}
    for mutant, status in py.items():
        files.setdefault(python_module(mutant), Counter())[status] += 1
    for row in js:
        files.setdefault(row["file"], Counter())[JS_STATUS.get(row["status"], row["status"])] += 1
    lines = [
        "| file | mutants | killed | survived | timeout | no coverage | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in sorted(files):
        c = files[name]
        lines.append(
            f"| {name} | {sum(c.values())} | {c['killed']} | {c['survived']} | "
            f"{c['timeout']} | {c['no tests']} | {file_score(c)} |"
        )
    return [*lines, *kept, ""]


def file_score(c: Counter) -> str:
    """A file's score, saying how many of its mutants a stopped run left unchecked."""
    if not c["not checked"]:
        return f"{score(c):.1f}%"
    if c["not checked"] == sum(c.values()):
        return "not run"
    return f"{score(c):.1f}% ({c['not checked']} not run)"


def survivors(py: dict[str, str], js: list[dict], kept: list[str]) -> list[str]:
    """The survivors grouped by function (mutmut) or by line (StrykerJS), each group with
    its note: `mutmut show NAME` and reports/mutation/stryker.json give each mutant's diff."""
    groups: dict[str, list[str]] = {}
    for mutant, status in sorted(py.items(), key=lambda kv: natural(kv[0])):
        if status in ("survived", "no tests", "suspicious"):
            function = mutant.rsplit("__mutmut_", 1)[0]
            groups.setdefault(f"`{function}`", []).append(f"{status} {mutant.rsplit('_', 1)[1]}")
    for r in sorted(js, key=lambda r: (r["file"], r["line"])):
        if r["status"] in ("Survived", "NoCoverage"):
            status = JS_STATUS[r["status"]]
            groups.setdefault(f"`{r['file']}:{r['line']}`", []).append(
                f"{r['mutator']} → `{shorten(r['replacement'], 40, escape=False)}` {status}"
            )
    if not groups and not kept:
        return ["No survivors.", ""]
    rows = []
    for where, mutants in groups.items():
        key = where.strip("`")
        note = SURVIVOR_NOTES.get(key, "known, not yet killed")
        rows.append(f"| {where} | {len(mutants)} | {shorten(compact(mutants), 160)} | {note} |")
    rows += kept
    return [
        "### Survivors",
        "",
        "Every mutant no test kills, by function (mutmut: its numbers, `mutmut show "
        "<function>__mutmut_<n>` prints the diff) or by line (StrykerJS: mutator and "
        "replacement), with why it is left.",
        "",
        "| where | mutants | which | why it survives |",
        "| --- | ---: | --- | --- |",
        *rows,
        "",
    ]


def compact(mutants: list[str]) -> str:
    """["survived 1", "survived 2", "no tests 5"] -> "survived 1, 2; no tests 5"."""
    by_status: dict[str, list[str]] = {}
    for entry in mutants:
        status, _, number = entry.rpartition(" ")
        if not number.isdigit():
            status, number = entry, ""
        by_status.setdefault(status, []).append(number)
    return "; ".join(
        f"{status} {', '.join(n for n in numbers if n)}".strip()
        for status, numbers in by_status.items()
    )


def natural(name: str):
    head, _, number = name.rpartition("_")
    return (head, int(number) if number.isdigit() else 0)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_section(text: str):
    """Replace the "## Mutation testing" section, kept last in docs/benchmarks.md."""
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = doc.find("\n" + SECTION + "\n")
    if start >= 0:
        following = re.search(r"^## ", doc[start + len(SECTION) + 2 :], re.M)
        rest = doc[start + len(SECTION) + 2 + following.start() :] if following else ""
        doc = doc[:start].rstrip("\n") + "\n\n" + rest
    DOCS.write_text(doc.rstrip("\n") + "\n\n" + text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-seconds", type=float, default=None)
    parser.add_argument("--js-seconds", type=float, default=None)
    parser.add_argument("--note", default="", help="a line to add under the run's summary")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    py = python_results()
    js = js_results()
    kept = previous_js_rows(DOCS.read_text()) if js is None and DOCS.exists() else None
    text = section(py, js, args, kept)
    py_score = score(Counter(py.values()))
    print(f"mutation score sync/ (mutmut): {py_score:.1f}%")
    if js is None:
        print("no StrykerJS report: its rows in docs/benchmarks.md are kept from their run")
    else:
        js_score = score(Counter(JS_STATUS.get(r["status"], r["status"]) for r in js))
        print(f"mutation score pwa/src/sync/ (StrykerJS): {js_score:.1f}%")
    if not args.no_docs:
        write_section(text)
        print(f"wrote {DOCS.relative_to(ROOT)} ({SECTION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
