"""Real booth lists from CSV files: read, check every line, then import all or nothing
(blocks, panchayats and booths upserted under the reference geography)."""

import csv
import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from server.extensions import db
from server.geo.models import ASSEMBLY, BLOCK, BOOTH, DISTRICT, PANCHAYAT
from server.geo.reference import (
    UnitStore,
    admin_columns,
    assembly_code,
    block_code,
    booth_code,
    load_reference_geography,
    panchayat_code,
    reference,
    slug,
)
from server.grievances.models import Grievance
from server.roster.models import Member
from sync.fields import nfc

log = logging.getLogger(__name__)

BOOTH_COLUMNS = (
    "district_code",
    "block_name_en",
    "block_name_hi",
    "panchayat_name_en",
    "panchayat_name_hi",
    "ac_number",
    "booth_number",
    "booth_name_en",
    "booth_name_hi",
)
NAME_COLUMNS = tuple(c for c in BOOTH_COLUMNS if "_name_" in c)
MAX_NAME = 200
MAX_CODE = 64
MAX_BOOTH_NUMBER = 9999
# Booths are flushed in batches so the progress bar moves and memory stays flat.
BATCH = 1000


class BoothFileRefused(Exception):
    """A booth list that was not imported at all, with each bad line and its reason."""

    def __init__(self, problems):
        super().__init__(f"{len(problems)} problem(s) in the booth list")
        # [(line number, reason)], line 1 being the header.
        self.problems = sorted(problems, key=lambda p: p[0])


@dataclass
class BoothRow:
    """One checked line of a booth list."""

    line: int
    district_code: str
    block_name_en: str
    block_name_hi: str
    panchayat_name_en: str
    panchayat_name_hi: str
    ac_number: int
    booth_number: int
    booth_name_en: str
    booth_name_hi: str

    @property
    def block_code(self):
        return block_code(self.district_code, self.block_name_en)

    @property
    def panchayat_code(self):
        return panchayat_code(self.block_code, self.panchayat_name_en)

    @property
    def booth_code(self):
        return booth_code(self.ac_number, self.booth_number)


def read_booth_file(path) -> list[tuple[int, dict]]:
    """The lines of a booth list CSV as (line number, {column: text}).

    A UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped; header names are matched
    without regard to case or surrounding spaces.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise BoothFileRefused([(1, "the file is empty")])
            header = [h.strip().lower() for h in header]
            missing = [c for c in BOOTH_COLUMNS if c not in header]
            if missing:
                raise BoothFileRefused([(1, "missing column(s): " + ", ".join(missing))])
            rows = []
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                row = dict(zip(header, values, strict=False))
                if len(values) != len(header):
                    row["_width"] = f"has {len(values)} fields; the header has {len(header)}"
                rows.append((reader.line_num, row))
    except UnicodeDecodeError as exc:
        raise BoothFileRefused(
            [(1, f"the file is not UTF-8 text ({exc.reason}); save it as 'CSV UTF-8'")]
        ) from exc
    except csv.Error as exc:
        raise BoothFileRefused([(1, f"the file is not a readable CSV ({exc})")]) from exc
    return rows


def _whole_number(text, low, high):
    return int(text) if text.isascii() and text.isdigit() and low <= int(text) <= high else None


def _check_line(line, raw, ref, assemblies) -> tuple[BoothRow | None, list[str]]:
    """One line on its own: names present, district known, seat in it, numbers whole."""
    bad = [raw["_width"]] if "_width" in raw else []
    values = {c: nfc(raw.get(c) or "") for c in BOOTH_COLUMNS}
    for column in NAME_COLUMNS:
        if not values[column]:
            bad.append(f"missing {column}")
        elif len(values[column]) > MAX_NAME:
            bad.append(f"{column} is longer than {MAX_NAME} characters")
    for column in ("block_name_en", "panchayat_name_en"):
        if values[column] and not slug(values[column]):
            bad.append(f"{column} needs Latin letters or digits")
    district = values["district_code"].upper()
    known_district = district in ref.district_codes
    if not district:
        bad.append("missing district_code")
    elif not known_district:
        bad.append(f"unknown district {district!r}")
    ac_number = _whole_number(values["ac_number"], 1, 10**6)
    if ac_number is None:
        bad.append(f"ac_number {values['ac_number']!r} is not a whole number")
    elif ac_number not in assemblies:
        bad.append(f"no assembly seat number {ac_number} in Jharkhand")
    elif known_district and district not in ref.assembly_districts[ac_number]:
        name = assemblies[ac_number]["name_en"]
        bad.append(f"assembly seat {ac_number} ({name}) is not in district {district}")
    booth_number = _whole_number(values["booth_number"], 1, MAX_BOOTH_NUMBER)
    if booth_number is None:
        bad.append(
            f"booth_number {values['booth_number']!r} is not a whole number "
            f"from 1 to {MAX_BOOTH_NUMBER}"
        )
    if bad:
        return None, bad
    row = BoothRow(
        line=line,
        district_code=district,
        ac_number=ac_number,
        booth_number=booth_number,
        **{column: values[column] for column in NAME_COLUMNS},
    )
    if len(row.panchayat_code) > MAX_CODE:
        return None, ["block and panchayat English names are too long together"]
    return row, []


def check_booth_rows(rows: list[tuple[int, dict]]) -> list[BoothRow]:
    """Check every line on its own and against the other lines.

    Raises BoothFileRefused listing every problem found, so one run shows them all.
    """
    if not rows:
        raise BoothFileRefused([(1, "the file has no booths")])
    ref = reference()
    assemblies = {int(a["number"]): a for a in ref.assemblies}
    problems, checked = [], []
    booth_lines, names_first_given = {}, {}

    def named_otherwise(key, names, line):
        """The first line naming this block or panchayat, when it gave other names."""
        first, first_names = names_first_given.setdefault(key, (line, names))
        return first if first_names != names else None

    for line, raw in rows:
        row, bad = _check_line(line, raw, ref, assemblies)
        if row is None:
            problems.extend((line, reason) for reason in bad)
            continue
        if row.booth_code in booth_lines:
            earlier = booth_lines[row.booth_code]
            problems.append(
                (
                    line,
                    f"booth {row.booth_number} of seat {row.ac_number} is also on line {earlier}",
                )
            )
            continue
        booth_lines[row.booth_code] = line
        names = (row.block_name_en, row.block_name_hi)
        earlier = named_otherwise((BLOCK, row.block_code), names, line)
        if earlier:
            problems.append((line, f"block {names[0]!r} is named otherwise on line {earlier}"))
        names = (row.panchayat_name_en, row.panchayat_name_hi)
        earlier = named_otherwise((PANCHAYAT, row.panchayat_code), names, line)
        if earlier:
            problems.append((line, f"panchayat {names[0]!r} is named otherwise on line {earlier}"))
        checked.append(row)
    if problems:
        raise BoothFileRefused(problems)
    return checked


def _moves_with_records(store: UnitStore, rows: list[BoothRow]) -> list[tuple[int, str]]:
    """Lines that move a booth holding roster members or grievances to another block.

    Those records carry the booth's block and district for scope and sync; moving them
    is a data migration of its own, not something a list import does quietly.
    """
    codes_by_id = {unit.id: code for (_, code), unit in store.units.items()}
    moved = {}
    for row in rows:
        booth = store.get(BOOTH, row.booth_code)
        if booth is not None and codes_by_id.get(booth.block_id) != row.block_code:
            moved[booth.id] = (row, codes_by_id.get(booth.block_id))
    if not moved:
        return []
    held = Counter()
    for model in (Member, Grievance):
        query = (
            select(model.booth_id, func.count())
            .where(model.booth_id.in_(moved))
            .group_by(model.booth_id)
        )
        for booth_id, count in db.session.execute(query):
            held[booth_id] += count
    problems = []
    for booth_id, count in held.items():
        row, old_block = moved[booth_id]
        problems.append(
            (
                row.line,
                f"booth {row.booth_number} of assembly seat {row.ac_number} has {count} "
                f"roster member(s) or grievance(s) in block {old_block}; an import cannot "
                "move it to another block",
            )
        )
    return problems


def _upsert_below(store, parent, type, code, name_en, name_hi, number=None, assembly_id=None):
    """Upsert a block, panchayat or booth under `parent`: in the parent's district and
    block, or in the parent itself where that is the district or the block."""
    return store.upsert(
        type,
        code,
        name_en=name_en,
        name_hi=name_hi,
        number=number,
        reserved=None,
        **admin_columns(
            parent.id,
            district_id=parent.id if parent.type == DISTRICT else parent.district_id,
            block_id=parent.id if parent.type == BLOCK else parent.block_id,
            assembly_id=assembly_id,
        ),
    )


def import_booths(rows: list[tuple[int, dict]], progress=None) -> Counter:
    """Import a booth list (as read by read_booth_file): all of it, or nothing.

    Loads the reference geography first, checks every line, then upserts blocks,
    panchayats and booths. Raises BoothFileRefused before writing any of them when a
    line is bad; the caller rolls back (the reference load may have been flushed).
    `progress(n)` is called as booths are written. Returns the changes made.
    """
    changes = load_reference_geography()
    checked = check_booth_rows(rows)
    store = UnitStore((DISTRICT, ASSEMBLY, BLOCK, PANCHAYAT, BOOTH))
    problems = _moves_with_records(store, checked)
    if problems:
        raise BoothFileRefused(problems)

    for row in checked:
        district = store.get(DISTRICT, row.district_code)
        _upsert_below(store, district, BLOCK, row.block_code, row.block_name_en, row.block_name_hi)
    store.flush()
    for row in checked:
        block = store.get(BLOCK, row.block_code)
        _upsert_below(
            store,
            block,
            PANCHAYAT,
            row.panchayat_code,
            row.panchayat_name_en,
            row.panchayat_name_hi,
        )
    store.flush()
    for start in range(0, len(checked), BATCH):
        batch = checked[start : start + BATCH]
        for row in batch:
            _upsert_below(
                store,
                store.get(PANCHAYAT, row.panchayat_code),
                BOOTH,
                row.booth_code,
                row.booth_name_en,
                row.booth_name_hi,
                number=row.booth_number,
                assembly_id=store.get(ASSEMBLY, assembly_code(row.ac_number)).id,
            )
        store.flush()
        if progress:
            progress(len(batch))
    changes.update(store.changes)
    log.info("Booth list imported: %d lines, changes %s", len(checked), dict(store.changes))
    return changes
