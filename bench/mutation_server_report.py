"""Mutation score of the server's sync and scope code (`make mutation-server`): reads
mutmut's results in build/mutation-server/ (see bench/mutation_server.py), prints the
score and writes the section "## Mutation testing of the server's sync and scope code" at
the end of docs/benchmarks.md (in place when it is already there).

    .venv/bin/python bench/mutation_server_report.py [--seconds S] [--note TEXT] [--no-docs]

The score is the one of bench/mutation_report.py: (killed + timeout) / (killed + timeout +
survived + no coverage). Every survivor is listed, with its note from SURVIVOR_NOTES below
(equivalent, or killed by a test added after the run) or marked as not yet looked at.
"""

import argparse
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from mutation_report import (
    compact,
    git_commit,
    natural,
    per_file_table,
    python_results,
    score,
    shorten,
)
from mutation_server import CONFIG, SCRATCH, TESTS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Mutation testing of the server's sync and scope code"
TARGET = 90.0

# Survivors looked at, by mutmut function name: why each is left (equivalent: no
# behaviour a test could tell apart) or the test that kills it since the run.
PG_ONLY = "PostgreSQL only: SQLite takes no row or advisory locks, so the push never runs it here"
SURVIVOR_NOTES: dict[str, str] = {
    "server.scope.x__unit": "killed by test_a_lok_sabha_seat_holds_the_booths_of_its_assembly_"
    "seats (test_attachments_follow.py, added after this run)",
    "server.scope.x_unit_within": "killed by test_a_lok_sabha_seat_holds_the_booths_of_its_"
    "assembly_seats (added after this run)",
    "server.syncing.locks.x_booth_rows": f"{PG_ONLY}; killed by test_booths_and_epics_are_"
    "locked_in_one_statement_each_in_ascending_order (test_lock_steps.py, the statement as "
    "PostgreSQL gets it; added after this run)",
    "server.syncing.locks.x_epic_keys": f"{PG_ONLY}; killed by test_booths_and_epics_are_"
    "locked_in_one_statement_each_in_ascending_order (added after this run)",
    "server.syncing.locks.x_record_rows": "3, 4, 9 killed by test_rows_are_locked_for_no_key_"
    "update_in_key_order (added after this run); 2, 10 equivalent: populate_existing refreshes "
    "objects already in the session, and the batch expunges every row it reads (_remember)",
    "server.syncing.locks.x_record_version": "1, 7, 8 killed by test_rows_are_locked_for_no_"
    "key_update_in_key_order (added after this run)",
    "server.syncing.locks.x_serial_rows": "killed by test_rows_are_locked_for_no_key_update_in_"
    "key_order (added after this run)",
    "server.syncing.prefetch.x_lock_records": "15, 32 killed by test_lock_records_* "
    "(test_lock_steps.py, after this run); 51 equivalent (a default of False is as `not None` "
    "as True); 75 equivalent (setdefault's default is None); 38 known: differs only for a "
    "conflict about a record of another entity that has the member's id (ids are UUIDs)",
    "server.syncing.retry.x_why_again": "known: only the words of the retry's log line differ "
    "(describe_database_error(None)); the retry and its answer are the same",
    "server.syncing.samples.x_new_samples": "3, 11 killed by test_samples.py (added after this "
    "run); 18, 21, 22 equivalent: every sample row has as many values as its columns, so "
    "zip's strictness is never tested",
    "server.syncing.samples.x_seed_samples": "52, 53, 76, 77, 80, 81, 86, 87 killed by "
    "test_samples.py (added after this run); 57, 61 equivalent: the approval follows its "
    "record's creation in the same call, so with no base it merges the same way",
    "server.syncing.samples.xǁWriterǁ__init__": "2, 12, 16, 19-21 killed by test_samples.py "
    "(added after this run); 25, 31 known: the demo device and the first HLC counter only "
    "show in the stored stamps, which no test reads",
    "server.syncing.samples.xǁWriterǁapply": "equivalent: 23 (the seq is not read by "
    "apply_mutation), 25, 37, 38 (any op but `delete` is an upsert; a note's resend check is "
    "never reached, a sample being written only when missing); known: 1-3, 8 the HLC "
    "counter and device of the demo's stamps, which no test reads",
    "server.syncing.samples.xǁWriterǁexists": "equivalent: BatchStore.load() does not read "
    "the actor",
    "server.syncing.visibility.x_move_attachments": "28, 44, 53 killed by test_a_reclassified_"
    "grievance_takes_its_own_attachments_and_no_others (test_attachments_follow.py, after "
    "this run); 25, 26, 40 were noted as equivalent because a grievance's booth never "
    "changes (so its notes already carry its booth columns) and synchronize_session=None "
    "skips the session as False does; the first reason was a bug (a booth_id edit by its "
    "reporter was answered applied and not applied), fixed at ba53e5c with test_a_grievance_"
    "moved_by_its_reporter_takes_its_note_to_the_new_booth, so these three are to be run "
    "again (not re-run yet); 43, 52 known: differ only for "
    "a record of another entity with the same id; 34, 66, 67 known, not yet killed",
    "server.syncing.visibility.x_unit_columns": "killed by test_a_district_president_pulls_"
    "the_meetings_of_the_district_and_its_blocks (test_meeting_leaders.py, after this run)",
    "server.syncing.conflicts.x_conflict_index_row": "10, 11, 14-17 killed by test_a_"
    "conflict_about_a_meeting_goes_to_who_sees_the_meeting "
    "(test_meeting_leaders.py, after this run); 12, 13 equivalent (a meeting's conflict has "
    "no booth: the column is None either way); 18, 19 equivalent (the index's unit_id is "
    "read only for rows of meetings; the conflict's scope key is built from its own "
    "unit_id); 20, 21 known: the author's own reach, tested only where the author is also "
    "over the unit; 5 known: the row is read only when the conflict's record cannot be "
    "read (a fallback no test reaches)",
    "server.syncing.conflicts.xǁConflictRecordsǁadd_conflict": "equivalent: without the key "
    "the column takes its default, version 1 (server/records.py)",
    "server.syncing.visibility.x_still_visible": "known: differs only for a record of another "
    "entity with the same id (ids are UUIDs)",
    "server.syncing.visibility.x_row_visible": "known, not yet killed: the owner and meeting "
    "branches of a pull's check of a removed index row (a record that left one of its scope "
    "keys but that the user may still reach by another)",
    "server.syncing.batch_reads.xǁRecordReaderǁauthor_of": "known, not yet killed: who wrote "
    "the value a conflict kept (read from its stamp's device) is not checked by a test",
    "server.syncing.push.x_replayed": "equivalent: without the seq range it reads every "
    "stored outcome of the device, but only the retried seqs are looked up",
    "server.syncing.visibility.x_attached_row": "known: the fallback scope of a note or "
    "conflict record whose record cannot be read, which no test reaches",
    "server.syncing.conflicts.xǁConflictRecordsǁerase_from_conflicts": "54-56, 92-95, 98, "
    "99, 103-116 killed by test_conflict_erasure.py (added after this run); the others "
    "known, not yet killed (the stored conflict's audit and stamps after an erasure)",
}


def summary_row(label: str, counts: Counter, seconds: float | None) -> str:
    took = f"{seconds / 60:.1f} min" if seconds else "?"
    return (
        f"| {label} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
        f"{counts['timeout']} | {counts['no tests']} | {counts['not checked']} | "
        f"**{score(counts):.1f}%** | {took} |"
    )


def survivors(verdicts: dict[str, str]) -> list[str]:
    groups: dict[str, list[str]] = {}
    for mutant, status in sorted(verdicts.items(), key=lambda kv: natural(kv[0])):
        if status in ("survived", "no tests", "suspicious"):
            function = mutant.rsplit("__mutmut_", 1)[0]
            groups.setdefault(function, []).append(f"{status} {mutant.rsplit('_', 1)[1]}")
    if not groups:
        return ["No survivors.", ""]
    rows = [
        f"| `{where}` | {len(mutants)} | {shorten(compact(mutants), 160)} | "
        f"{SURVIVOR_NOTES.get(where, 'not yet looked at')} |"
        for where, mutants in groups.items()
    ]
    return [
        "### Survivors of the server's code",
        "",
        "Every mutant no test kills, by function (its numbers; in build/mutation-server/, "
        "`mutmut show <function>__mutmut_<n>` prints the diff), with why it is left.",
        "",
        "| where | mutants | which | why it survives |",
        "| --- | ---: | --- | --- |",
        *rows,
        "",
    ]


def section(verdicts: dict[str, str], args) -> str:
    counts = Counter(verdicts.values())
    tests = ", ".join(f"`{t.removeprefix('tests/server/')}`" for t in TESTS)
    lines = [
        SECTION,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} (`make mutation-server`) at commit "
        f"{git_commit()}: mutmut 3 over `server/syncing/*.py` and `server/scope.py` (left "
        f"out: {', '.join(f'`{p}`' for p in CONFIG['do_not_mutate'])}, declarations read "
        "at import, before a mutant is on), two mutants at a time (`--max-children 2`), in "
        "a copy of the project with its own `[tool.mutmut]` (build/mutation-server/, "
        "bench/mutation_server.py), driven on SQLite by the tests under tests/server/: "
        f"{tests} (not the convergence histories: bench/mutation_server.py says why). "
        "Score = (killed + timeout) / (killed + timeout + survived + no "
        f"coverage); target ≥ {TARGET:.0f}%.",
        *(["", args.note] if args.note else []),
        "",
        "| code | mutants | killed | survived | timeout | no coverage | not run | score | "
        "run time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        summary_row("`server/syncing/`, `server/scope.py`", counts, args.seconds),
        "",
    ]
    lines += per_file_table(verdicts, [], [])
    lines += survivors(verdicts)
    return "\n".join(lines).rstrip() + "\n"


def write_section(text: str):
    """This section in place when docs/benchmarks.md has it, else appended at the end."""
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = doc.find("\n" + SECTION + "\n")
    if start < 0:
        DOCS.write_text(doc.rstrip("\n") + "\n\n" + text)
        return
    body = start + len(SECTION) + 2
    following = re.search(r"^## ", doc[body:], re.M)
    rest = doc[body + following.start() :] if following else ""
    DOCS.write_text(doc[:start].rstrip("\n") + "\n\n" + text + ("\n" + rest if rest else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="the run's time")
    parser.add_argument("--note", default="", help="a line to add under the run's summary")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    verdicts = python_results(SCRATCH)
    text = section(verdicts, args)
    print(
        f"mutation score server/syncing/ and server/scope.py: {score(Counter(verdicts.values())):.1f}%"
    )
    if args.no_docs:
        print(text)
    else:
        write_section(text)
        print(f"wrote {DOCS.relative_to(ROOT)} ({SECTION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
