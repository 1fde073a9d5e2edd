"""Bulk seeding: geography, users and devices written in multi-row INSERTs, not the API."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import insert, text

from syncbench.typist import MALE, SURNAMES
from tests.server.syncing.server_process import app_for

TOKEN_LIFETIME = timedelta(hours=12)  # a full state run outlives the 15-minute default


@dataclass
class Block:
    id: int
    district_id: int
    booths: list[int] = field(default_factory=list)


@dataclass
class Person:
    user_id: int
    role: str
    unit_id: int
    device_id: str
    token: str = ""


class Seeder:
    """Writes geography, users and devices in bulk through SQLAlchemy Core (multi-row
    INSERTs), so the models' Python-side defaults apply without the ORM's cost."""

    def __init__(self, url: str):
        self.url = url
        self.app = app_for(url)
        self.next_id = 1

    def close(self):
        from server.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def _ids(self, n):
        first = self.next_id
        self.next_id += n
        return range(first, first + n)

    def geography(self, booths_per_block: list[int], districts: int, panchayats: int = 0):
        """A state with `districts` districts, its blocks (each with the given number of
        booths), panchayats spread over the blocks, and assembly seats numbering the booths."""
        from server.extensions import db
        from server.geo.models import Unit

        units = []
        state_id, ac_ids = self._state_and_seats(units)
        district_ids = list(self._ids(districts))
        for n, unit_id in enumerate(district_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="district",
                    code=f"D{n:02d}",
                    name_en=f"District {n}",
                    name_hi=f"ज़िला {n}",
                    parent_id=state_id,
                )
            )
        count = len(booths_per_block)
        booth_number = dict.fromkeys(ac_ids, 0)
        blocks = []
        for b, booths in enumerate(booths_per_block):
            block = Block(self._ids(1)[0], district_ids[b * districts // count])
            block_panchayats = max(1, panchayats // count + (b < panchayats % count))
            assembly = (ac_ids[b * len(ac_ids) // count], b * len(ac_ids) // count + 1)
            self._block(units, block, b + 1, block_panchayats, booths, assembly, booth_number)
            blocks.append(block)
        with self.app.app_context():
            self._insert(Unit, units)
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('units', 'id'), :n)"),
                {"n": self.next_id},
            )
            db.session.commit()
        return blocks

    def _state_and_seats(self, units) -> tuple[int, list[int]]:
        """The state, its 14 Lok Sabha and 81 assembly seats; (state id, assembly ids)."""
        state_id = self._ids(1)[0]
        units.append(
            dict(id=state_id, type="state", code="JH", name_en="Jharkhand", name_hi="झारखंड")
        )
        ls_ids = list(self._ids(14))
        for n, unit_id in enumerate(ls_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="lok_sabha",
                    code=f"LS-{n}",
                    name_en=f"LS {n}",
                    name_hi=f"लोकसभा {n}",
                    parent_id=state_id,
                    number=n,
                )
            )
        ac_ids = list(self._ids(81))
        for n, unit_id in enumerate(ac_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="assembly",
                    code=f"AC-{n}",
                    name_en=f"AC {n}",
                    name_hi=f"विधानसभा {n}",
                    parent_id=ls_ids[(n - 1) * 14 // 81],
                    number=n,
                )
            )
        return state_id, ac_ids

    def _block(self, units, block, n, panchayats, booths, assembly, booth_number):
        """Block number `n`, its panchayats and its booths, numbered within `assembly`
        ((id, number)); the booths' ids are added to `block`."""
        district_id, block_id = block.district_id, block.id
        units.append(
            dict(
                id=block_id,
                type="block",
                code=f"BLK-{n}",
                name_en=f"Block {n}",
                name_hi=f"प्रखंड {n}",
                parent_id=district_id,
                district_id=district_id,
            )
        )
        panchayat_ids = list(self._ids(panchayats))
        for p, unit_id in enumerate(panchayat_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="panchayat",
                    code=f"BLK-{n}-P{p}",
                    name_en=f"Panchayat {p}",
                    name_hi=f"पंचायत {p}",
                    parent_id=block_id,
                    district_id=district_id,
                    block_id=block_id,
                )
            )
        assembly_id, ac = assembly
        for k, unit_id in enumerate(self._ids(booths)):
            booth_number[assembly_id] += 1
            number = booth_number[assembly_id]
            units.append(
                dict(
                    id=unit_id,
                    type="booth",
                    code=f"AC-{ac}-{number}",
                    name_en=f"Booth {number}",
                    name_hi=f"बूथ {number}",
                    parent_id=panchayat_ids[k * len(panchayat_ids) // booths],
                    district_id=district_id,
                    block_id=block_id,
                    assembly_id=assembly_id,
                    number=number,
                )
            )
            block.booths.append(unit_id)

    def people(self, units: list[tuple[str, int]]) -> list[Person]:
        """One user and one device per (role, unit id); every token lives TOKEN_LIFETIME."""
        from flask_jwt_extended import create_access_token

        from server.accounts.models import Device, User
        from server.accounts.passwords import hash_password
        from server.extensions import db

        people = []
        with self.app.app_context():
            first = (db.session.execute(text("SELECT max(id) FROM users")).scalar() or 0) + 1
            password_hash = hash_password("bench-password")
            users, devices = [], []
            for n, (role, unit_id) in enumerate(units):
                person = Person(first + n, role, unit_id, str(uuid.uuid4()))
                users.append(
                    dict(
                        id=person.user_id,
                        phone=str(6_000_000_000 + person.user_id),
                        name=f"{random.choice(MALE)} {random.choice(SURNAMES)}",
                        password_hash=password_hash,
                        role=role,
                        unit_id=unit_id,
                    )
                )
                devices.append(dict(id=person.device_id, user_id=person.user_id, name="bench"))
                person.token = create_access_token(
                    identity=str(person.user_id),
                    additional_claims={"dev": person.device_id, "gen": 1},
                    expires_delta=TOKEN_LIFETIME,
                )
                people.append(person)
            self._insert(User, users)
            self._insert(Device, devices)
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('users', 'id'), :n)"),
                {"n": first + len(units)},
            )
            db.session.commit()
        return people

    def _insert(self, model, rows, chunk=5000):
        from server.extensions import db

        for start in range(0, len(rows), chunk):
            db.session.execute(insert(model), rows[start : start + chunk])
