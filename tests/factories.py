"""Factories that return callables (Indico style): make.user(role=...), make.member(...)."""

import itertools
import types
import uuid

from flask_jwt_extended import create_access_token

from server.accounts.models import ROLE_UNIT_TYPE, Device, User
from server.accounts.passwords import hash_password
from server.extensions import db
from server.geo.models import Unit
from server.records import now_ms

PASSWORD = "booth-demo"
_phones = itertools.count(9100000000)
DEVICE_AGE_MS = 30 * 86_400_000


class Factories:
    def __init__(self, app):
        self.app = app
        self._geo = None

    def unit(self, type, code, name_en, parent=None, **kw):
        unit = Unit(type=type, code=code, name_en=name_en, name_hi=kw.pop("name_hi", name_en), **kw)
        if parent is not None:
            unit.parent_id = parent.id
            unit.district_id = parent.id if parent.type == "district" else parent.district_id
            unit.block_id = parent.id if parent.type == "block" else parent.block_id
        db.session.add(unit)
        db.session.flush()
        return unit

    def geo(self):
        """A small tree: 2 districts, 3 blocks, 4 booths, one Lok Sabha and one assembly seat.

        d1 holds blocks k1 (booths b1, b2) and k2 (booth b3); d2 holds k3 (booth b4).
        """
        if self._geo is not None:
            return self._geo
        g = types.SimpleNamespace()
        g.state = self.unit("state", "JH", "Jharkhand", name_hi="झारखंड")
        g.ls = self.unit("lok_sabha", "LS-1", "Ranchi", parent=g.state, number=1)
        g.ac = self.unit("assembly", "AC-1", "Kanke", parent=g.ls, number=1)
        g.d1 = self.unit("district", "RAN", "Ranchi", parent=g.state, name_hi="राँची")
        g.d2 = self.unit("district", "DHN", "Dhanbad", parent=g.state, name_hi="धनबाद")
        g.k1 = self.unit("block", "RAN-KANKE", "Kanke", parent=g.d1, name_hi="काँके")
        g.k2 = self.unit("block", "RAN-ORMANJHI", "Ormanjhi", parent=g.d1)
        g.k3 = self.unit("block", "DHN-GOVINDPUR", "Govindpur", parent=g.d2)
        g.p1 = self.unit("panchayat", "P1", "Pithoria", parent=g.k1)
        g.p2 = self.unit("panchayat", "P2", "Ormanjhi", parent=g.k2)
        g.p3 = self.unit("panchayat", "P3", "Govindpur", parent=g.k3)
        booth = {}
        for n, (key, p) in enumerate((("b1", g.p1), ("b2", g.p1), ("b3", g.p2), ("b4", g.p3)), 1):
            booth[key] = self.unit(
                "booth", f"AC-1-{n}", f"Booth {n}", parent=p, number=n, assembly_id=g.ac.id
            )
        g.__dict__.update(booth)
        db.session.commit()
        self._geo = g
        return g

    def user(
        self, role="volunteer", unit=None, phone=None, name=None, password=PASSWORD, active=True
    ):
        if unit is None:
            g = self.geo()
            unit = {"booth": g.b1, "block": g.k1, "district": g.d1, "state": g.state}[
                ROLE_UNIT_TYPE[role]
            ]
        user = User(
            phone=phone or str(next(_phones)),
            name=name or f"{role} {unit.code}",
            password_hash=hash_password(password),
            role=role,
            unit_id=unit.id,
            active=active,
        )
        db.session.add(user)
        db.session.commit()
        return user

    def device(self, user, device_id=None, registered_at=None):
        """A device of `user`, registered a month ago unless told: the server raises a clock
        from before registration to it, and test phones stamp edits made in the past."""
        device = Device(
            id=device_id or str(uuid.uuid4()),
            user_id=user.id,
            name="test phone",
            created_at=now_ms() - DEVICE_AGE_MS if registered_at is None else registered_at,
        )
        db.session.add(device)
        db.session.commit()
        return device

    def headers(self, user, device=None):
        """Authorization headers for an access token of a fresh device of `user`."""
        device = device or self.device(user)
        token = create_access_token(
            identity=user, additional_claims={"dev": device.id, "gen": device.token_generation}
        )
        return {"Authorization": f"Bearer {token}"}

    def now(self):
        return now_ms()
