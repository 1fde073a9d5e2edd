"""The seed-demo command: real Jharkhand geography, demo booths and the demo accounts.

Everything here is an upsert, so running it again changes nothing. The demo blocks are
real (server/geo/data/demo_blocks.csv); their panchayats and booths are generated and
go through the same import path as a real booth list.
"""

import csv
import logging
from collections import Counter

import click
from sqlalchemy import select

from server.accounts.models import (
    ADMIN,
    BLOCK_PRESIDENT,
    CONNECT_CENTRE,
    DISTRICT_PRESIDENT,
    VOLUNTEER,
    User,
)
from server.accounts.passwords import hash_password, verify_password
from server.audit.services import log_change
from server.extensions import db
from server.geo.booth_lists import BoothFileRefused, import_booths
from server.geo.commands import describe_changes
from server.geo.models import BLOCK, BOOTH, DISTRICT, STATE, Unit
from server.geo.reference import DATA_DIR, STATE_CODE, block_code, booth_code
from server.records import now_ms
from server.syncing.samples import seed_samples

log = logging.getLogger(__name__)

DEMO_PASSWORD = "booth-demo"
PANCHAYATS_PER_BLOCK = 3
BOOTHS_PER_PANCHAYAT = 4
# "Booth 1": the first booth of Kanke block (Ranchi), booth 1 of the Kanke seat (65).
BOOTH_1 = booth_code(65, 1)
KANKE = block_code("RAN", "Kanke")

# phone, role, (unit type, unit code), name
DEMO_ACCOUNTS = (
    ("9000000001", VOLUNTEER, (BOOTH, BOOTH_1), "डेमो बूथ कार्यकर्ता 1"),
    ("9000000002", BLOCK_PRESIDENT, (BLOCK, KANKE), "डेमो प्रखंड अध्यक्ष (काँके)"),
    ("9000000003", CONNECT_CENTRE, (STATE, STATE_CODE), "डेमो कनेक्ट सेंटर"),
    ("9000000004", DISTRICT_PRESIDENT, (DISTRICT, "RAN"), "डेमो ज़िला अध्यक्ष (राँची)"),
    ("9000000005", ADMIN, (STATE, STATE_CODE), "डेमो एडमिन"),
    ("9000000006", VOLUNTEER, (BOOTH, BOOTH_1), "डेमो बूथ कार्यकर्ता 2"),
)


def demo_booth_rows() -> list[tuple[int, dict]]:
    """Generated panchayats and booths for the demo blocks, as lines of a booth list.

    Booths are numbered within their assembly seat in the order of demo_blocks.csv, so
    Kanke (the first block) holds booths 1-12 of the Kanke seat.
    """
    with open(DATA_DIR / "demo_blocks.csv", encoding="utf-8", newline="") as f:
        blocks = list(csv.DictReader(f))
    next_number = Counter()
    rows = []
    for block in blocks:
        for p in range(1, PANCHAYATS_PER_BLOCK + 1):
            panchayat_en = f"{block['block_name_en']} Panchayat {p}"
            panchayat_hi = f"{block['block_name_hi']} पंचायत {p}"
            for b in range(1, BOOTHS_PER_PANCHAYAT + 1):
                next_number[block["ac_number"]] += 1
                row = {
                    **block,
                    "panchayat_name_en": panchayat_en,
                    "panchayat_name_hi": panchayat_hi,
                    "booth_number": str(next_number[block["ac_number"]]),
                    "booth_name_en": f"Primary School, {panchayat_en} ({b})",
                    "booth_name_hi": f"प्राथमिक विद्यालय, {panchayat_hi} ({b})",
                }
                rows.append((len(rows) + 2, row))
    return rows


def seed_geography() -> Counter:
    """The reference geography and the demo blocks, panchayats and booths."""
    try:
        return import_booths(demo_booth_rows())
    except BoothFileRefused as refused:
        # The demo list is generated from files in the repository: a refusal is a bug.
        raise RuntimeError(f"demo booth list refused: {refused.problems}") from refused


def _unit(type, code) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.type == type, Unit.code == code))
    if unit is None:
        raise RuntimeError(f"demo unit {type} {code} is missing; seed the geography first")
    return unit


def seed_accounts() -> list[User]:
    """The demo accounts, created or put back to their demo role, unit and password."""
    users = []
    for phone, role, (unit_type, unit_code), name in DEMO_ACCOUNTS:
        unit = _unit(unit_type, unit_code)
        user = db.session.scalar(select(User).where(User.phone == phone))
        if user is None:
            user = User(
                phone=phone,
                name=name,
                role=role,
                unit_id=unit.id,
                password_hash=hash_password(DEMO_PASSWORD),
                active=True,
            )
            db.session.add(user)
            db.session.flush()
            log_change(None, "create", "user", user.id, fields=("name", "phone", "role", "unit_id"))
        else:
            _restore(user, name, role, unit)
        user.unit = unit
        users.append(user)
    return users


def _restore(user, name, role, unit):
    """Put a demo account someone has changed back as the demo expects it."""
    changed = []
    if (user.role, user.unit_id) != (role, unit.id):
        user.role, user.unit_id = role, unit.id
        # A device that pulled under the old scope must start over.
        user.scope_version += 1
        changed += ["role", "unit_id"]
    if user.name != name:
        user.name = name
        changed.append("name")
    if not user.active:
        user.active = True
        changed.append("active")
    # Verifying is slow on purpose, but saves rewriting an unchanged hash every run.
    if not verify_password(user.password_hash, DEMO_PASSWORD):
        user.password_hash = hash_password(DEMO_PASSWORD)
        changed.append("password")
    if changed:
        user.updated_at = now_ms()
        log_change(None, "update", "user", user.id, fields=changed)


@click.command("seed-demo")
def seed_demo():
    """Load Jharkhand's geography, demo booths, the demo accounts and sample records of
    booth 1 (safe to run again)."""
    changes = seed_geography()
    users = seed_accounts()
    db.session.commit()
    by_phone = {user.phone: user for user in users}
    samples = seed_samples(by_phone["9000000001"], by_phone["9000000002"])
    db.session.commit()
    click.echo(f"Geography: {describe_changes(changes)}.")
    click.echo(f"Sample members and grievances added to booth 1: {samples}.")
    click.echo(f"Demo accounts (password {DEMO_PASSWORD}):")
    for user in users:
        unit = user.unit
        click.echo(f"  {user.phone}  {user.role:<18}  {unit.type} {unit.code} {unit.name_en}")
