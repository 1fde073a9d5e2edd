"""After the soak: nothing lost, nothing applied twice, every phone converged, the roster
rules held. Read from the database itself and from fresh pulls through the API."""

import asyncio
from collections import Counter

from soakbench.phone import ACCEPTED, SoakPhone, SyncFailed

TABLES = {"member": "members", "grievance": "grievances", "grievance_note": "grievance_notes"}
SIDE_EFFECTS = ("promote", "conflict")  # audit actions a push writes beside its own mutations


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def check_ledgers(conn, phones: list[SoakPhone]) -> dict:
    """Every mutation each phone made was answered; every one it saw accepted is logged on
    the server once with the status the phone heard, its record is there, and no device
    has more writes of a record in the audit log than accepted mutations of it."""
    made = answered = accepted = 0
    lost, duplicated, mismatched, queued = [], [], [], []
    applied = {
        (device, seq): status
        for device, seq, status in conn.execute(
            "SELECT device_id, seq, status FROM applied_mutations"
        )
    }
    present = {
        entity: {row[0] for row in conn.execute(f"SELECT id FROM {table}")}
        for entity, table in TABLES.items()
    }
    writes = Counter(
        (device, entity, record_id)
        for device, entity, record_id in conn.execute(
            "SELECT device_id, entity, record_id FROM audit_log "
            "WHERE device_id IS NOT NULL AND action <> ALL(%s)",
            (list(SIDE_EFFECTS),),
        )
    )
    for phone in phones:
        device = phone.person.device_id
        per_record = Counter()
        for seq, entry in phone.ledger.items():
            made += 1
            m = entry.mutation
            if entry.first is None:
                if any(m["seq"] == seq for m in phone.outbox):
                    # Not lost: still in the phone's outbox, sent again at its next sync.
                    queued.append(f"phone {phone.index} #{seq}: still queued on the phone")
                else:
                    lost.append(f"phone {phone.index} #{seq}: never answered, not queued")
                continue
            answered += 1
            status = entry.first["status"]
            for later in entry.answers[1:]:
                expected = "rejected" if status == "rejected" else "duplicate"
                if later["status"] != expected:
                    duplicated.append(
                        f"phone {phone.index} #{seq}: first {status}, a retry {later['status']}"
                    )
            logged = applied.get((device, seq))
            if logged is None:
                lost.append(f"phone {phone.index} #{seq}: answered {status}, not logged")
                continue
            if status == "duplicate":
                # The answer to the send that applied it was lost; a retry heard `duplicate`.
                status = logged if logged in ACCEPTED else f"duplicate of {logged}"
            if logged != status:
                mismatched.append(f"phone {phone.index} #{seq}: heard {status}, logged {logged}")
            if status not in ACCEPTED:
                continue
            accepted += 1
            per_record[(m["entity"], m["id"])] += 1
            if m["id"] not in present.get(m["entity"], ()):
                lost.append(f"phone {phone.index} #{seq}: {m['entity']} {m['id']} not stored")
        for (entity, record_id), count in per_record.items():
            if writes[(device, entity, record_id)] > count:
                duplicated.append(
                    f"phone {phone.index}: {entity} {record_id} written "
                    f"{writes[(device, entity, record_id)]} times for {count} accepted mutations"
                )
    return {
        "made": made,
        "answered": answered,
        "accepted": accepted,
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": mismatched,
        "queued": queued,
    }


def check_rules(conn) -> dict:
    """The squad cap (at most 20 pending or approved a booth, no waitlist beside a free
    place) and one live member per EPIC."""
    over = conn.execute(
        "SELECT booth_id, count(*) FROM members WHERE NOT deleted "
        "AND status IN ('pending', 'approved') GROUP BY booth_id HAVING count(*) > 20"
    ).fetchall()
    stranded = conn.execute(
        "SELECT booth_id FROM members m WHERE NOT deleted AND status = 'waitlisted' "
        "GROUP BY booth_id HAVING (SELECT count(*) FROM members a WHERE a.booth_id = m.booth_id "
        "AND NOT a.deleted AND a.status IN ('pending', 'approved')) < 20"
    ).fetchall()
    epics = conn.execute(
        "SELECT epic, count(*) FROM members WHERE NOT deleted AND epic IS NOT NULL "
        "GROUP BY epic HAVING count(*) > 1"
    ).fetchall()
    full = conn.execute(
        "SELECT count(*) FROM (SELECT booth_id FROM members WHERE NOT deleted AND status IN "
        "('pending', 'approved') GROUP BY booth_id HAVING count(*) = 20) f"
    ).fetchone()[0]
    waitlisted = conn.execute(
        "SELECT count(*) FROM members WHERE NOT deleted AND status = 'waitlisted'"
    ).fetchone()[0]
    return {
        "over_cap": over,
        "stranded_waitlist": stranded,
        "epic_twice": epics,
        "full_booths": full,
        "waitlisted": waitlisted,
    }


def database_size(conn) -> dict:
    """Bytes of the database and rows of the tables that grow with the roster."""
    rows = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (
            "members",
            "grievances",
            "grievance_notes",
            "record_changes",
            "applied_mutations",
            "audit_log",
            "conflicts",
        )
    }
    total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"bytes": total, "rows": rows}


def view(copies: dict) -> dict:
    return {key: (c["version"], c["deleted"], c["record"]) for key, c in copies.items()}


async def fresh_copies(phone: SoakPhone) -> dict:
    """What a new installation of the person pulls now: the server's state for its scope."""
    probe = SoakPhone(phone.index, phone.person, phone.net, phone.rng)
    for attempt in range(10):
        try:
            await probe.pull_all()
            return probe.copies
        except SyncFailed:
            probe.cursor, probe.copies = "", {}
            await asyncio.sleep(1 + attempt)
    raise RuntimeError(f"phone {phone.index}: a fresh pull kept failing")


def database_versions(conn, phone: SoakPhone, block_of: dict) -> dict:
    """(entity, id) -> version of the members and grievances of the phone's scope, as the
    database holds them (a volunteer's booth, a president's block)."""
    person = phone.person
    if person.role == "volunteer":
        booths = [person.unit_id]
    else:
        booths = [b for b, block in block_of.items() if block == person.unit_id]
    found = {}
    for entity in ("member", "grievance"):
        for record_id, version in conn.execute(
            f"SELECT id, version FROM {TABLES[entity]} WHERE booth_id = ANY(%s)", (booths,)
        ):
            found[(entity, record_id)] = version
    return found


async def check_convergence(conn, phones, block_of: dict) -> dict:
    """Each phone's final copies equal a fresh pull of its person, and its members and
    grievances are the database's (same ids, same versions)."""
    diverged = []
    compared = 0

    async def one(phone):
        truth = await fresh_copies(phone)
        return phone, view(truth)

    from soakbench.crowd import gather_limited

    finished = [p for p in phones if p.finished]
    checked = await gather_limited([one(p) for p in finished], 50)
    for phone, truth in checked:
        mine = view(phone.copies)
        compared += len(truth)
        if mine != truth:
            missing = len(set(truth) - set(mine))
            extra = len(set(mine) - set(truth))
            stale = sum(1 for k in set(mine) & set(truth) if mine[k] != truth[k])
            diverged.append(
                f"phone {phone.index} ({phone.person.role}): {missing} missing, {extra} extra, "
                f"{stale} different from a fresh pull"
            )
            continue
        if phone.person.role in ("volunteer", "block_president"):
            held = {k: v[0] for k, v in mine.items() if k[0] in ("member", "grievance")}
            if held != database_versions(conn, phone, block_of):
                diverged.append(
                    f"phone {phone.index}: members or grievances differ from the database"
                )
    return {
        "phones": len(checked),
        "unfinished": len(phones) - len(finished),
        "records_compared": compared,
        "diverged": diverged,
    }
