"""The engine's tests run without a database: a world for the rule tests (the geo tree of
tests/factories.py, two volunteers of booth b1 and their block president, each with a
phone), all in memory."""

import types

import pytest

from tests.sync.memory_phone import MemoryPhone
from tests.sync.memory_server import MemoryServer


@pytest.fixture(autouse=True)
def _empty_database():
    """No database here: the suite's database (tests/conftest.py) is neither made nor emptied."""


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
