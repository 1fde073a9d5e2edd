"""Why the StrykerJS mutants of `pwa/src/sync/` that no test kills are left: each is
equivalent, no behaviour of the app can tell it from the original. Keyed like the survivor
table of docs/benchmarks.md ("file:line"); bench/mutation_report.py merges them into its
notes. A line here whose mutants are all killed is simply not shown."""

JS_SURVIVOR_NOTES: dict[str, str] = {
    "pwa/src/sync/engine.js:68": "`>=` equivalent: a record at the version the phone holds "
    "is that same record (versions are the server's, one state each), so storing it again "
    "changes nothing",
    "pwa/src/sync/engine.js:291": "equivalent: `again` is set to false before every round, "
    "so its first value is never read",
    "pwa/src/sync/engine.js:307": "equivalent: the lock's name only has to be the same in the "
    "page and the service worker (both run this line) and differ from the refresh lock "
    "('booth-connect-auth'); an empty name does both",
    "pwa/src/sync/faults.js:121": "→ true equivalent: without a split `until` becomes NaN, "
    "which the check below (`until > serverLastSeq`) refuses as it refuses undefined",
}
