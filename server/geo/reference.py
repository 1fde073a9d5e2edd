"""Jharkhand's reference geography (state, districts, Lok Sabha and assembly seats, from
server/geo/data/), the codes of every unit, and the audited upsert both loads use.

Every unit is upserted on its natural key (type, code), so loading the same data again
writes nothing, and a changed name updates the unit in place. The codes are:
state `JH`, district `RAN`, Lok Sabha `LS-8`, assembly `AC-65`, block `RAN-KANKE`,
panchayat `RAN-KANKE-PITHORIA`, booth `AC-65-1` (booth 1 of assembly seat 65).
"""

import csv
import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from server.audit.services import log_change
from server.extensions import db
from server.geo.models import ASSEMBLY, DISTRICT, LOK_SABHA, STATE, Unit
from sync.fields import nfc

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
STATE_CODE, STATE_NAME_EN, STATE_NAME_HI = "JH", "Jharkhand", "झारखंड"


def slug(name: str) -> str:
    """The code form of an English name: `Jamshedpur East` -> `JAMSHEDPUR-EAST`."""
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def lok_sabha_code(number: int) -> str:
    return f"LS-{number}"


def assembly_code(number: int) -> str:
    return f"AC-{number}"


def block_code(district_code: str, name_en: str) -> str:
    return f"{district_code}-{slug(name_en)}"


def panchayat_code(block: str, name_en: str) -> str:
    return f"{block}-{slug(name_en)}"


def booth_code(ac_number: int, booth_number: int) -> str:
    return f"AC-{ac_number}-{booth_number}"


# --- reference data ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The reference lists as read from server/geo/data/."""

    districts: tuple
    lok_sabha: tuple
    assemblies: tuple
    district_codes: frozenset
    # Assembly seat number -> codes of the districts it lies in. A few seats cross a
    # district line (the `also_in` column), and their booths are filed under either.
    assembly_districts: dict


def _read_csv(name):
    with open(DATA_DIR / name, encoding="utf-8-sig", newline="") as f:
        return tuple({k: nfc(v or "") for k, v in row.items()} for row in csv.DictReader(f))


@functools.cache
def reference() -> Reference:
    districts = _read_csv("districts.csv")
    assemblies = _read_csv("assemblies.csv")
    return Reference(
        districts=districts,
        district_codes=frozenset(d["code"] for d in districts),
        lok_sabha=_read_csv("lok_sabha.csv"),
        assemblies=assemblies,
        assembly_districts={
            int(a["number"]): frozenset([a["district_code"], *a["also_in"].split()])
            for a in assemblies
        },
    )


class UnitStore:
    """The stored units of some types, read once, and upserts that audit what they change."""

    def __init__(self, types):
        query = select(Unit).where(Unit.type.in_(types))
        self.units = {(u.type, u.code): u for u in db.session.scalars(query)}
        self.changes = Counter()
        self._unlogged = []

    def get(self, type, code) -> Unit | None:
        return self.units.get((type, code))

    def upsert(self, type, code, **values) -> Unit:
        """Create the unit or bring its columns to `values`; every column is given, so the
        denormalised district/block/assembly ids are corrected too."""
        unit = self.units.get((type, code))
        if unit is None:
            unit = Unit(type=type, code=code, **values)
            db.session.add(unit)
            self.units[(type, code)] = unit
            self._unlogged.append(("create", unit, ["code", "type", *values]))
            self.changes[type, "created"] += 1
            return unit
        changed = [name for name, value in values.items() if getattr(unit, name) != value]
        if changed:
            for name in changed:
                setattr(unit, name, values[name])
            self._unlogged.append(("update", unit, changed))
            self.changes[type, "updated"] += 1
        return unit

    def flush(self):
        """Give new units their ids (children need them) and audit the changes so far."""
        if not self._unlogged:
            return
        db.session.flush()
        for action, unit, fields in self._unlogged:
            log_change(None, action, "unit", unit.id, fields=fields)
        self._unlogged.clear()


def admin_columns(parent_id, district_id=None, block_id=None, assembly_id=None):
    return {
        "parent_id": parent_id,
        "district_id": district_id,
        "block_id": block_id,
        "assembly_id": assembly_id,
    }


def load_reference_geography() -> Counter:
    """Upsert the state, its districts, Lok Sabha and assembly seats; safe to repeat.

    Returns the changes made, counted by (unit type, "created" | "updated").
    """
    ref = reference()
    store = UnitStore((STATE, DISTRICT, LOK_SABHA, ASSEMBLY))
    state = store.upsert(
        STATE,
        STATE_CODE,
        name_en=STATE_NAME_EN,
        name_hi=STATE_NAME_HI,
        number=None,
        reserved=None,
        **admin_columns(None),
    )
    store.flush()
    districts = {
        row["code"]: store.upsert(
            DISTRICT,
            row["code"],
            name_en=row["name_en"],
            name_hi=row["name_hi"],
            number=None,
            reserved=None,
            **admin_columns(state.id),
        )
        for row in ref.districts
    }
    seats = {
        int(row["number"]): store.upsert(
            LOK_SABHA,
            lok_sabha_code(int(row["number"])),
            name_en=row["name_en"],
            name_hi=row["name_hi"],
            number=int(row["number"]),
            reserved=row["reserved"] or None,
            **admin_columns(state.id),
        )
        for row in ref.lok_sabha
    }
    store.flush()
    for row in ref.assemblies:
        number = int(row["number"])
        store.upsert(
            ASSEMBLY,
            assembly_code(number),
            name_en=row["name_en"],
            name_hi=row["name_hi"],
            number=number,
            reserved=row["reserved"] or None,
            # An assembly seat is filed under the district holding most of it, so a
            # district president sees it; its parent is its Lok Sabha seat.
            **admin_columns(
                seats[int(row["lok_sabha"])].id, district_id=districts[row["district_code"]].id
            ),
        )
    store.flush()
    if store.changes:
        log.info("Reference geography loaded: %s", dict(store.changes))
    return store.changes
