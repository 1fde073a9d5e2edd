"""A world for the engine's rule tests: the geo tree of tests/factories.py, two volunteers of
booth b1 and their block president, each with a phone, all in memory (tests/sync/)."""

import types

import pytest

from tests.sync.memory_phone import MemoryPhone
from tests.sync.memory_server import MemoryServer


@pytest.fixture
def world():
    server = MemoryServer()
    g = server.db.geo()
    w = types.SimpleNamespace(server=server, g=g)
    w.volunteer = server.db.add_user("volunteer", g.b1, "Sita")
    w.volunteer2 = server.db.add_user("volunteer", g.b1, "Gita")
    w.president = server.db.add_user("block_president", g.k1)
    w.a = MemoryPhone(server, w.volunteer)
    w.b = MemoryPhone(server, w.volunteer2)
    w.p = MemoryPhone(server, w.president)
    w.phone_of = lambda role, unit=None: MemoryPhone(server, server.db.add_user(role, unit))
    return w
